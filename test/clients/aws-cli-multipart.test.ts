/**
 * The AWS CLI against s3gate: `aws s3 cp` of a 1 GiB file (multipart with parallel parts)
 * up and back, byte-exact. Needs the `aws` binary (Debian package awscli).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
let server: TestServer;
let s3: S3Client;
let work: string;
const bucket = 'cli-bucket';
const GiB = 1024 ** 3;

/** Writes `size` random bytes (8 MiB blocks from the CSPRNG, ~1 GB/s) and returns their sha256. */
function writeRandomFile(path: string, size: number): string {
  const fd = openSync(path, 'w');
  const block = Buffer.allocUnsafe(8 * 1024 * 1024);
  const hash = createHash('sha256');
  try {
    for (let left = size; left > 0;) {
      const n = Math.min(left, block.length);
      randomFillSync(block, 0, n);
      hash.update(block.subarray(0, n));
      writeSync(fd, block, 0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c);
  return h.digest('hex');
}

async function requireBinary(name: string, debianPackage: string): Promise<void> {
  try {
    await run(name, ['--version']);
  } catch {
    assert.fail(`the ${name} binary is missing: install the Debian package "${debianPackage}" (apt-get install ${debianPackage})`);
  }
}

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
  await requireBinary('aws', 'awscli');
  const src = join(work, 'big.bin');
  const back = join(work, 'big.back');
  const expected = writeRandomFile(src, GiB);
  const env = {
    ...process.env, AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey, AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'no-config'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'), AWS_PAGER: '',
  };
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
