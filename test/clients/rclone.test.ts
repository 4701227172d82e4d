/**
 * rclone against s3gate: copy of a ~210 MiB file (above rclone's 200 MiB upload cutoff,
 * so a multipart upload with 5 MiB parts) up and back. Needs the `rclone` binary
 * (Debian package rclone). Configured only through RCLONE_CONFIG_S3GATE_* env vars.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { requireBinary } from '../helpers/cli-env.js';
import { sha256File, writeRandomFile } from '../helpers/random-file.js';

const run = promisify(execFile);
let server: TestServer;
let work: string;
const bucket = 'rclone-bucket';
const MiB = 1024 * 1024;

before(async () => {
  server = await startServer();
  await server.s3().send(new CreateBucketCommand({ Bucket: bucket }));
  work = mkdtempSync(join(tmpdir(), 's3gate-rclone-'));
});
after(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('rclone copyto: ~210 MiB multipart up and back, byte-exact', async () => {
  requireBinary('rclone', 'rclone');
  const size = 210 * MiB + 321;
  const src = join(work, 'file.bin');
  const expected = writeRandomFile(src, size);
  // rclone's AWS SDK refuses AWS_CA_BUNDLE with its own HTTP transport; the test talks plain http anyway
  const { AWS_CA_BUNDLE: _ca, ...inherited } = process.env;
  const env = {
    ...inherited,
    RCLONE_CONFIG: join(work, 'rclone.conf'),
    RCLONE_CONFIG_S3GATE_TYPE: 's3', RCLONE_CONFIG_S3GATE_PROVIDER: 'Other', RCLONE_CONFIG_S3GATE_ENDPOINT: server.url,
    RCLONE_CONFIG_S3GATE_ACCESS_KEY_ID: server.accessKey, RCLONE_CONFIG_S3GATE_SECRET_ACCESS_KEY: server.secretKey,
    RCLONE_CONFIG_S3GATE_REGION: 'us-east-1', RCLONE_CONFIG_S3GATE_FORCE_PATH_STYLE: 'true',
  };
  const rclone = (...args: string[]) => run('rclone', ['--retries', '1', '--low-level-retries', '1', ...args], { env, maxBuffer: 16 << 20 });
  await rclone('copyto', src, `s3gate:${bucket}/backup/file.bin`);
  const head = await server.s3().send(new HeadObjectCommand({ Bucket: bucket, Key: 'backup/file.bin', PartNumber: 1 }));
  assert.ok((head.PartsCount ?? 0) > 1, `rclone used a multipart upload (parts: ${head.PartsCount})`);
  const back = join(work, 'file.back');
  await rclone('copyto', `s3gate:${bucket}/backup/file.bin`, back);
  assert.equal(await sha256File(back), expected);
  const { stdout } = await rclone('lsf', `s3gate:${bucket}/backup/`);
  assert.equal(stdout.trim(), 'file.bin');
});
