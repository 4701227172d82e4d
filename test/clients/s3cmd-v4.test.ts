/**
 * s3cmd with Signature V4 (signature_v2 = False) against the real server: mb, put
 * (single and multipart), get, ls/la, info, del, sync both ways, rb. Byte-exact via md5.
 * ACL writes are left out: s3gate stores no ACLs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { requireBinary } from '../helpers/cli-env.js';
import { writeS3cmdConfig } from '../helpers/s3cmd.js';

let server: TestServer;
let dir: string;
let cfg: string;

before(async () => {
  requireBinary('s3cmd', 's3cmd');
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 's3cmd-v4-'));
  cfg = join(dir, 's3cfg');
  writeS3cmdConfig(cfg, server, false);
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function s3cmd(...args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    execFile('s3cmd', ['-c', cfg, '--no-progress', ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`s3cmd ${args.join(' ')} failed (${err.code}): ${stdout}\n${stderr}`));
      else ok(stdout);
    });
  });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function treeMd5(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p); else out.set(relative(root, p), md5(readFileSync(p)));
    }
  };
  walk(root);
  return out;
}

test('s3cmd v4: mb, put (single + multipart), ls, la, info, get byte-exact, del, rb', async () => {
  await s3cmd('mb', 's3://v4-bucket');
  assert.match(await s3cmd('ls'), /s3:\/\/v4-bucket\n/);

  const small = randomBytes(70_000);
  const big = randomBytes(17 * 1024 * 1024 + 5); // four parts of 5 MiB
  writeFileSync(join(dir, 'small.bin'), small);
  writeFileSync(join(dir, 'big.bin'), big);
  await s3cmd('put', '--mime-type=application/x-small', '--add-header=x-amz-meta-origin:s3cmd', join(dir, 'small.bin'), 's3://v4-bucket/dir/small.bin');
  await s3cmd('put', join(dir, 'big.bin'), 's3://v4-bucket/big.bin');
  await s3cmd('put', join(dir, 'small.bin'), 's3://v4-bucket/odd name+(1)&co=ü.bin');

  const ls = await s3cmd('ls', 's3://v4-bucket/');
  assert.match(ls, /DIR\s+s3:\/\/v4-bucket\/dir\/\n/);
  assert.match(ls, new RegExp(`\\s${big.length}\\s+s3://v4-bucket/big\\.bin\\n`));
  assert.match(ls, /s3:\/\/v4-bucket\/odd name\+\(1\)&co=ü\.bin\n/);
  const la = await s3cmd('la', '--recursive');
  assert.match(la, /s3:\/\/v4-bucket\/dir\/small\.bin\n/);

  const info = await s3cmd('info', 's3://v4-bucket/dir/small.bin');
  assert.match(info, new RegExp(`File size:\\s+${small.length}\\n`));
  assert.match(info, /MIME type:\s+application\/x-small\n/);
  assert.match(info, new RegExp(`MD5 sum:\\s+${md5(small)}\\n`));
  assert.match(info, /x-amz-meta-origin:\s+s3cmd\n/);
  const bucketInfo = await s3cmd('info', 's3://v4-bucket');
  assert.match(bucketInfo, /Location:\s+us-east-1/);

  await s3cmd('get', 's3://v4-bucket/dir/small.bin', join(dir, 'small.down'));
  await s3cmd('get', 's3://v4-bucket/big.bin', join(dir, 'big.down'));
  await s3cmd('get', 's3://v4-bucket/odd name+(1)&co=ü.bin', join(dir, 'odd.down'));
  assert.equal(md5(readFileSync(join(dir, 'small.down'))), md5(small));
  assert.equal(md5(readFileSync(join(dir, 'big.down'))), md5(big));
  assert.equal(md5(readFileSync(join(dir, 'odd.down'))), md5(small));
  // the big file went up as a 4-part multipart upload (ETag "<md5 of part md5s>-4")
  const head = await server.s3().send(new HeadObjectCommand({ Bucket: 'v4-bucket', Key: 'big.bin' }));
  assert.match(head.ETag ?? '', /^"[0-9a-f]{32}-4"$/);

  await assert.rejects(s3cmd('rb', 's3://v4-bucket'), /BucketNotEmpty/);
  await s3cmd('del', 's3://v4-bucket/dir/small.bin', 's3://v4-bucket/big.bin', 's3://v4-bucket/odd name+(1)&co=ü.bin');
  assert.equal((await s3cmd('ls', '--recursive', 's3://v4-bucket/')).trim(), '');
  await s3cmd('rb', 's3://v4-bucket');
  assert.doesNotMatch(await s3cmd('ls'), /v4-bucket/);
});

test('s3cmd v4 sync: up, down, incremental with --delete-removed', async () => {
  await s3cmd('mb', 's3://v4-sync');
  const src = join(dir, 'tree');
  for (let i = 0; i < 120; i++) {
    const d = join(src, `p${i % 4}`, i % 2 ? 'q' : '');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), randomBytes(1 + i * 37));
  }
  const out = await s3cmd('sync', src + '/', 's3://v4-sync/t/');
  assert.equal(out.split('\n').filter((l) => l.startsWith('upload:')).length, 120);
  const down = join(dir, 'tree-down');
  await s3cmd('sync', 's3://v4-sync/t/', down + '/');
  assert.deepEqual(treeMd5(down), treeMd5(src));

  writeFileSync(join(src, 'p0/f0.txt'), 'modified content');
  rmSync(join(src, 'p2/f2.txt'));
  const inc = await s3cmd('sync', '--delete-removed', src + '/', 's3://v4-sync/t/');
  const lines = inc.split('\n').filter((l) => /^(upload|delete):/.test(l));
  assert.deepEqual(lines.map((l) => l.split(':')[0]).sort(), ['delete', 'upload']);
  await s3cmd('sync', '--delete-removed', 's3://v4-sync/t/', down + '/');
  assert.deepEqual(treeMd5(down), treeMd5(src));

  await s3cmd('del', '--recursive', '--force', 's3://v4-sync/');
  await s3cmd('rb', 's3://v4-sync');
});
