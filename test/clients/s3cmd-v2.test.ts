/** s3cmd with `--signature-v2`: every request is signed with AWS Signature V2 in the Authorization header. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { writeS3cmdConfig } from '../helpers/s3cmd.js';

const run = promisify(execFile);
let server: TestServer;
let dir: string;
let cfg: string;

before(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 's3cmd-'));
  cfg = join(dir, 's3cfg');
  writeS3cmdConfig(cfg, server, true);
});
after(async () => { await server?.stop(); });

async function s3cmd(...args: string[]): Promise<string> {
  if (!existsSync('/usr/bin/s3cmd')) assert.fail('s3cmd is not installed: install the Debian package s3cmd (apt-get install s3cmd)');
  try {
    const { stdout } = await run('s3cmd', ['-c', cfg, '--signature-v2', '--no-progress', ...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`s3cmd ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}\nserver:\n${server.output().slice(-2000)}`);
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

test('s3cmd --signature-v2: mb, put, ls, get, del, rb, byte-exact', async () => {
  await s3cmd('mb', 's3://v2-bucket');
  assert.match(await s3cmd('ls'), /s3:\/\/v2-bucket/);

  const small = randomBytes(100_000);
  const big = randomBytes(12 * 1024 * 1024 + 123); // three multipart parts of 5 MiB
  writeFileSync(join(dir, 'small.bin'), small);
  writeFileSync(join(dir, 'big.bin'), big);
  await s3cmd('put', join(dir, 'small.bin'), 's3://v2-bucket/dir/small.bin');
  await s3cmd('put', join(dir, 'small.bin'), 's3://v2-bucket/odd name+(1)&co=ü.bin');
  await s3cmd('put', '--mime-type=application/x-test', '--add-header=x-amz-meta-color:blue', join(dir, 'big.bin'), 's3://v2-bucket/big.bin');

  const listing = await s3cmd('ls', '--recursive', 's3://v2-bucket');
  assert.match(listing, /100000\s+s3:\/\/v2-bucket\/dir\/small\.bin/);
  assert.match(listing, /s3:\/\/v2-bucket\/odd name\+\(1\)&co=ü\.bin/);
  assert.match(listing, new RegExp(`${big.length}\\s+s3://v2-bucket/big\\.bin`));
  assert.match(await s3cmd('ls', 's3://v2-bucket/dir/'), /dir\/small\.bin/);

  for (const [key, want] of [['dir/small.bin', small], ['odd name+(1)&co=ü.bin', small], ['big.bin', big]] as const) {
    const out = join(dir, `got-${md5(Buffer.from(key))}`);
    await s3cmd('get', '--force', `s3://v2-bucket/${key}`, out);
    assert.equal(md5(readFileSync(out)), md5(want), key);
  }
  const head = await server.s3().send(new HeadObjectCommand({ Bucket: 'v2-bucket', Key: 'big.bin' }));
  assert.equal(head.ContentType, 'application/x-test');
  assert.equal(head.Metadata?.color, 'blue');
  assert.match(head.ETag ?? '', /-3"$/, 'uploaded as a 3-part multipart upload');
  assert.match(await s3cmd('info', 's3://v2-bucket/dir/small.bin'), new RegExp(md5(small)));

  await s3cmd('del', 's3://v2-bucket/dir/small.bin', 's3://v2-bucket/odd name+(1)&co=ü.bin', 's3://v2-bucket/big.bin');
  assert.doesNotMatch(await s3cmd('ls', '--recursive', 's3://v2-bucket'), /\.bin/);
  await s3cmd('rb', 's3://v2-bucket');
  assert.doesNotMatch(await s3cmd('ls'), /v2-bucket/);
});

test('s3cmd with a wrong secret is refused (SignatureDoesNotMatch)', async () => {
  const bad = join(dir, 'bad.s3cfg');
  writeFileSync(bad, readFileSync(cfg, 'utf8').replace(/secret_key = .*/, 'secret_key = not-the-secret'));
  const r = await run('s3cmd', ['-c', bad, '--signature-v2', 'ls'], {}).then(() => undefined, (e: { stderr?: string; stdout?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`);
  assert.ok(r !== undefined, 'a wrong secret must fail');
  assert.match(r, /SignatureDoesNotMatch|403/);
});
