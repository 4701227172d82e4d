/**
 * The AWS CLI against the real server: `aws s3` (mb, cp both ways of small and >100 MiB
 * files, ls, sync of a tree, rm --recursive, rb) and `aws s3api` (metadata, ranges,
 * delimiter listing and pagination, copy, tagging, multi-delete). Byte-exact via sha256.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { awsCliEnv, requireBinary } from '../helpers/cli-env.js';
import { sha256File, writeRandomFile } from '../helpers/random-file.js';

let server: TestServer;
let work: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  requireBinary('aws', 'awscli');
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 's3gate-awscli-'));
  writeFileSync(join(work, 'config'), '[default]\n');
  env = { ...process.env, ...awsCliEnv(work, { accessKeyId: server.accessKey, secretAccessKey: server.secretKey }) };
});
after(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs `aws ARGS --endpoint-url URL`; rejects with stderr on a non-zero exit. */
function aws(...args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    execFile('aws', [...args, '--endpoint-url', server.url], { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`aws ${args.join(' ')} failed (${err.code}): ${stderr}`));
      else ok(stdout);
    });
  });
}
const awsJson = async (...args: string[]) => JSON.parse(await aws(...args, '--output', 'json'));

/** Expects the CLI to fail and returns its stderr. */
async function awsFails(...args: string[]): Promise<string> {
  try { await aws(...args); } catch (e) { return (e as Error).message; }
  return assert.fail(`aws ${args.join(' ')} unexpectedly succeeded`);
}

function treeHashes(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

test('aws s3: mb, cp small and >100 MiB both ways byte-exact, ls, rm, rb', async () => {
  await aws('s3', 'mb', 's3://cli-bucket');
  const ls = await aws('s3', 'ls');
  assert.match(ls, /\scli-bucket\n/);
  assert.match(await awsFails('s3', 'mb', 's3://cli-bucket'), /BucketAlreadyOwnedByYou/);

  const small = join(work, 'small.txt');
  writeFileSync(small, 'hello from the aws cli\n');
  await aws('s3', 'cp', small, 's3://cli-bucket/docs/small.txt');
  const big = join(work, 'big.bin');
  const bigSize = 105 * 1024 * 1024 + 12345; // not a multiple of the part size
  const bigHash = writeRandomFile(big, bigSize);
  await aws('s3', 'cp', big, 's3://cli-bucket/data/big.bin');

  // the object on disk is a plain file with exactly the uploaded bytes
  assert.equal(await sha256File(join(server.dataDir, 'cli-bucket/data/big.bin')), bigHash);

  await aws('s3', 'cp', 's3://cli-bucket/docs/small.txt', join(work, 'small.down'));
  assert.equal(readFileSync(join(work, 'small.down'), 'utf8'), 'hello from the aws cli\n');
  await aws('s3', 'cp', 's3://cli-bucket/data/big.bin', join(work, 'big.down'));
  assert.equal(statSync(join(work, 'big.down')).size, bigSize);
  assert.equal(await sha256File(join(work, 'big.down')), bigHash);

  const top = await aws('s3', 'ls', 's3://cli-bucket/');
  assert.match(top, /PRE data\/\n/);
  assert.match(top, /PRE docs\/\n/);
  const rec = await aws('s3', 'ls', '--recursive', 's3://cli-bucket/');
  const lines = rec.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(lines.map((l) => [l[2], l[3]]), [[String(bigSize), 'data/big.bin'], ['23', 'docs/small.txt']]);

  assert.match(await awsFails('s3', 'rb', 's3://cli-bucket'), /BucketNotEmpty/);
  const rm = await aws('s3', 'rm', '--recursive', 's3://cli-bucket/');
  assert.equal(rm.trim().split('\n').filter((l) => l.startsWith('delete:')).length, 2);
  assert.equal(await aws('s3', 'ls', '--recursive', 's3://cli-bucket/'), '');
  await aws('s3', 'rb', 's3://cli-bucket');
  assert.doesNotMatch(await aws('s3', 'ls'), /cli-bucket/);
  rmSync(big); rmSync(join(work, 'big.down'));
});

test('aws s3 sync: a tree of 300 files up, down, incremental and --delete', async () => {
  await aws('s3', 'mb', 's3://sync-bucket');
  const src = join(work, 'tree');
  for (let i = 0; i < 300; i++) {
    const dir = join(src, `d${i % 7}`, i % 3 === 0 ? `sub${i % 5}` : '');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file-${i}.dat`), i === 0 ? Buffer.alloc(0) : randomBytes(1 + ((i * 997) % 20000)));
  }
  const expected = treeHashes(src);
  assert.equal(expected.size, 300);

  const up = await aws('s3', 'sync', '--no-progress', src, 's3://sync-bucket/tree');
  assert.equal(up.split('\n').filter((l) => l.includes('upload:')).length, 300);
  const listed = (await aws('s3', 'ls', '--recursive', 's3://sync-bucket/tree/')).trim().split('\n');
  assert.equal(listed.length, 300);

  const down = join(work, 'tree-down');
  await aws('s3', 'sync', 's3://sync-bucket/tree', down);
  assert.deepEqual(treeHashes(down), expected);

  // nothing changed: a second sync transfers nothing
  assert.equal((await aws('s3', 'sync', src, 's3://sync-bucket/tree')).trim(), '');

  // one file changed (different size), one added, one removed locally
  writeFileSync(join(src, 'd1/file-1.dat'), 'changed');
  writeFileSync(join(src, 'd2/new-file.dat'), 'new');
  rmSync(join(src, 'd4/file-4.dat'));
  const inc = await aws('s3', 'sync', '--no-progress', '--delete', src, 's3://sync-bucket/tree');
  const ops = inc.split('\n').filter(Boolean).map((l) => l.split(' ')[0]).sort();
  assert.deepEqual(ops, ['delete:', 'upload:', 'upload:']);
  await aws('s3', 'sync', '--delete', 's3://sync-bucket/tree', down);
  assert.deepEqual(treeHashes(down), treeHashes(src));

  await aws('s3', 'rm', '--recursive', 's3://sync-bucket/');
  await aws('s3', 'rb', 's3://sync-bucket');
});

test('aws s3api: metadata, head, ranges, delimiter + pagination, copy, tagging, delete-objects', async () => {
  await aws('s3api', 'create-bucket', '--bucket', 'api-bucket');
  const body = join(work, 'body.txt');
  writeFileSync(body, '0123456789abcdefghijklmnopqrstuvwxyz');
  const put = await awsJson('s3api', 'put-object', '--bucket', 'api-bucket', '--key', 'a/one.txt', '--body', body,
    '--content-type', 'text/x-test', '--metadata', 'color=blue,shape=round', '--cache-control', 'max-age=5');
  assert.equal(put.ETag, `"${createHash('md5').update(readFileSync(body)).digest('hex')}"`);

  const head = await awsJson('s3api', 'head-object', '--bucket', 'api-bucket', '--key', 'a/one.txt');
  assert.equal(head.ContentLength, 36);
  assert.equal(head.ContentType, 'text/x-test');
  assert.equal(head.CacheControl, 'max-age=5');
  assert.deepEqual(head.Metadata, { color: 'blue', shape: 'round' });
  assert.equal(head.ETag, put.ETag);

  const ranged = join(work, 'ranged.txt');
  const got = await awsJson('s3api', 'get-object', '--bucket', 'api-bucket', '--key', 'a/one.txt', '--range', 'bytes=10-19', ranged);
  assert.equal(readFileSync(ranged, 'utf8'), 'abcdefghij');
  assert.equal(got.ContentRange, 'bytes 10-19/36');
  assert.equal(got.ContentLength, 10);
  await awsJson('s3api', 'get-object', '--bucket', 'api-bucket', '--key', 'a/one.txt', '--range', 'bytes=-6', ranged);
  assert.equal(readFileSync(ranged, 'utf8'), 'uvwxyz');
  assert.match(await awsFails('s3api', 'get-object', '--bucket', 'api-bucket', '--key', 'a/one.txt', '--range', 'bytes=100-', ranged), /InvalidRange/);
  assert.match(await awsFails('s3api', 'head-object', '--bucket', 'api-bucket', '--key', 'missing'), /404|Not Found/);

  const keys = ['a/two.txt', 'b/x/1', 'b/y/2', 'c.txt', 'd.txt', 'e/f/g.txt'];
  for (const k of keys) await aws('s3api', 'put-object', '--bucket', 'api-bucket', '--key', k, '--body', body);
  const all = ['a/one.txt', ...keys].sort();

  const delim = await awsJson('s3api', 'list-objects-v2', '--bucket', 'api-bucket', '--delimiter', '/');
  assert.deepEqual(delim.CommonPrefixes.map((p: { Prefix: string }) => p.Prefix), ['a/', 'b/', 'e/']);
  assert.deepEqual(delim.Contents.map((o: { Key: string }) => o.Key), ['c.txt', 'd.txt']);
  const sub = await awsJson('s3api', 'list-objects-v2', '--bucket', 'api-bucket', '--prefix', 'b/', '--delimiter', '/');
  assert.deepEqual(sub.CommonPrefixes.map((p: { Prefix: string }) => p.Prefix), ['b/x/', 'b/y/']);

  // the CLI's own paginator follows continuation tokens with 2 keys per page
  const paged = await awsJson('s3api', 'list-objects-v2', '--bucket', 'api-bucket', '--page-size', '2');
  assert.deepEqual(paged.Contents.map((o: { Key: string }) => o.Key), all);
  // and by hand
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await awsJson('s3api', 'list-objects-v2', '--bucket', 'api-bucket', '--no-paginate', '--max-keys', '3', ...(token ? ['--continuation-token', token] : []));
    pages++;
    seen.push(...page.Contents.map((o: { Key: string }) => o.Key));
    assert.equal(page.IsTruncated, seen.length < all.length);
    token = page.NextContinuationToken;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(seen, all);

  const copy = await awsJson('s3api', 'copy-object', '--bucket', 'api-bucket', '--key', 'copied.txt', '--copy-source', 'api-bucket/a/one.txt');
  assert.equal(copy.CopyObjectResult.ETag, put.ETag);
  const copiedHead = await awsJson('s3api', 'head-object', '--bucket', 'api-bucket', '--key', 'copied.txt');
  assert.deepEqual(copiedHead.Metadata, { color: 'blue', shape: 'round' });
  await aws('s3api', 'copy-object', '--bucket', 'api-bucket', '--key', 'copied.txt', '--copy-source', 'api-bucket/copied.txt',
    '--metadata-directive', 'REPLACE', '--metadata', 'color=red', '--content-type', 'text/plain');
  const replaced = await awsJson('s3api', 'head-object', '--bucket', 'api-bucket', '--key', 'copied.txt');
  assert.deepEqual(replaced.Metadata, { color: 'red' });
  assert.equal(replaced.ContentType, 'text/plain');

  await aws('s3api', 'put-object-tagging', '--bucket', 'api-bucket', '--key', 'copied.txt', '--tagging', 'TagSet=[{Key=project,Value=s3gate},{Key=tier,Value=gold}]');
  const tags = await awsJson('s3api', 'get-object-tagging', '--bucket', 'api-bucket', '--key', 'copied.txt');
  assert.deepEqual(tags.TagSet.sort((x: { Key: string }, y: { Key: string }) => x.Key.localeCompare(y.Key)), [{ Key: 'project', Value: 's3gate' }, { Key: 'tier', Value: 'gold' }]);

  const del = await awsJson('s3api', 'delete-objects', '--bucket', 'api-bucket', '--delete',
    `Objects=[${[...all, 'copied.txt', 'never-existed'].map((k) => `{Key=${k}}`).join(',')}]`);
  assert.equal(del.Deleted.length, all.length + 2);
  assert.equal(del.Errors, undefined);
  const empty = await awsJson('s3api', 'list-objects-v2', '--bucket', 'api-bucket', '--no-paginate');
  assert.equal(empty.KeyCount, 0);
  await aws('s3api', 'delete-bucket', '--bucket', 'api-bucket');
});
