/**
 * The AWS CLI against s3gate: `aws s3 cp` of a 1 GiB file (multipart with parallel parts)
 * up and back, byte-exact. Needs the `aws` binary (Debian package awscli).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { awsCliEnv, requireBinary } from '../helpers/cli-env.js';
import { sha256File, writeRandomFile } from '../helpers/random-file.js';

const run = promisify(execFile);
let server: TestServer;
let s3: S3Client;
let work: string;
const bucket = 'cli-bucket';
const GiB = 1024 ** 3;

before(async () => {
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  work = mkdtempSync(join(tmpdir(), 's3gate-cli-'));
});
after(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('aws s3 cp: 1 GiB up (multipart, parallel parts) and back, byte-exact', async () => {
  requireBinary('aws', 'awscli');
  const src = join(work, 'big.bin');
  const back = join(work, 'big.back');
  const expected = writeRandomFile(src, GiB);
  const env = { ...process.env, ...awsCliEnv(work, { accessKeyId: server.accessKey, secretAccessKey: server.secretKey }) };
  const cli = (...args: string[]) => run('aws', ['--endpoint-url', server.url, ...args], { env, maxBuffer: 16 << 20 });
  await cli('s3', 'cp', '--only-show-errors', src, `s3://${bucket}/dir/big.bin`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/big.bin', PartNumber: 1 }));
  assert.equal(head.PartsCount, 128, 'the CLI uploads 8 MiB parts');
  assert.match(head.ETag ?? '', /-128"$/);
  const last = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/big.bin', PartNumber: 128 }));
  assert.equal(last.ContentRange, `bytes ${GiB - 8 * 1024 * 1024}-${GiB - 1}/${GiB}`);
  const staging = join(server.dataDir, '.s3gate.sys', 'multipart');
  assert.equal(existsSync(staging) ? readdirSync(staging).length : 0, 0, 'nothing left in the staging dir');

  await cli('s3', 'cp', '--only-show-errors', `s3://${bucket}/dir/big.bin`, back);
  assert.equal(await sha256File(back), expected);
});
