/**
 * Anonymous access against the real server, checked with a plain `curl` (no signature):
 * the four `mc policy set` levels none/download/upload/public, written as mc writes them
 * (setAnonymousLevel from src/policy/anonymous-levels.ts) and stored with PutBucketPolicy,
 * on a prefix, on a single object and on a whole bucket; read back as that level.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, GetBucketPolicyCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { anonymousLevel, setAnonymousLevel, type AnonymousLevel } from '../../src/policy/anonymous-levels.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let root: S3Client;
const bucket = 'anon-bucket';
const whole = 'anon-whole';

before(async () => {
  server = await startServer();
  root = server.s3();
  await root.send(new CreateBucketCommand({ Bucket: bucket }));
  await root.send(new CreateBucketCommand({ Bucket: whole }));
  for (const key of ['test1/icon/cloud.svg', 'test1/icon/sun.svg', 'test1/doc.txt', 'private/p.txt']) {
    await root.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
  }
  await root.send(new PutObjectCommand({ Bucket: whole, Key: 'x/y.txt', Body: 'in the whole bucket' }));
});
after(async () => { await server?.stop(); });

interface CurlResult { status: number; body: string }

/** Plain curl, no credentials: `curl -s -X METHOD [--data-binary BODY] URL`. */
function curl(method: string, path: string, data?: string): Promise<CurlResult> {
  const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', method, ...(data !== undefined ? ['--data-binary', data, '-H', 'content-type: text/plain'] : []), server.url + path];
  if (method === 'HEAD') args.splice(args.indexOf('-X'), 2, '-I');
  return new Promise((ok, fail) => {
    execFile('curl', args, (err, stdout) => {
      if (err) return fail(err);
      const cut = stdout.lastIndexOf('\n');
      ok({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
    });
  });
}

/** What `mc policy set LEVEL bucket/prefix` does: merge into the current policy and store it. */
async function mcPolicySet(level: AnonymousLevel, b: string, prefix = ''): Promise<void> {
  const current = await currentPolicy(b);
  const next = setAnonymousLevel(current, level, b, prefix);
  if (next === undefined) await root.send(new DeleteBucketPolicyCommand({ Bucket: b }));
  else await root.send(new PutBucketPolicyCommand({ Bucket: b, Policy: next }));
}

async function currentPolicy(b: string): Promise<string | undefined> {
  try {
    return (await root.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy;
  } catch (e: any) {
    if (e.name === 'NoSuchBucketPolicy') return undefined;
    throw e;
  }
}

async function expectStatus(method: string, path: string, status: number, data?: string): Promise<CurlResult> {
  const r = await curl(method, path, data);
  assert.equal(r.status, status, `${method} ${path}: expected ${status}, got ${r.status} ${r.body.slice(0, 200)}`);
  if (status === 403 && method !== 'HEAD') assert.match(r.body, /<Code>AccessDenied<\/Code>/);
  return r;
}

test('with no policy a plain curl gets AccessDenied everywhere', async () => {
  await expectStatus('GET', `/${bucket}/test1/icon/cloud.svg`, 403);
  await expectStatus('GET', `/${bucket}/`, 403);
  await expectStatus('GET', '/', 403);
  await expectStatus('PUT', `/${bucket}/test1/icon/new.svg`, 403, 'x');
});

test('download on a prefix: curl fetches its objects and nothing else', async () => {
  await mcPolicySet('download', bucket, 'test1/icon/');
  assert.equal(anonymousLevel(await currentPolicy(bucket), bucket, 'test1/icon/'), 'download');
  const r = await expectStatus('GET', `/${bucket}/test1/icon/cloud.svg`, 200);
  assert.equal(r.body, 'body of test1/icon/cloud.svg');
  await expectStatus('GET', `/${bucket}/test1/icon/sun.svg`, 200);
  await expectStatus('HEAD', `/${bucket}/test1/icon/sun.svg`, 200);
  await expectStatus('GET', `/${bucket}/test1/doc.txt`, 403);
  await expectStatus('GET', `/${bucket}/private/p.txt`, 403);
  await expectStatus('GET', `/${bucket}/test1/icon/missing.svg`, 404);
  // Listing: the bucket and other prefixes stay closed; mc grants ListBucket only for
  // exactly this prefix (StringEquals s3:prefix), as mc writes it.
  await expectStatus('GET', `/${bucket}/`, 403);
  await expectStatus('GET', `/${bucket}/?list-type=2&prefix=private/`, 403);
  const listed = await expectStatus('GET', `/${bucket}/?list-type=2&prefix=test1/icon/`, 200);
  assert.match(listed.body, /<Key>test1\/icon\/cloud\.svg<\/Key>/);
  await expectStatus('PUT', `/${bucket}/test1/icon/new.svg`, 403, 'x');
  await expectStatus('DELETE', `/${bucket}/test1/icon/cloud.svg`, 403);
});

test('none on the prefix closes it again and removes the policy', async () => {
  await mcPolicySet('none', bucket, 'test1/icon/');
  assert.equal(await currentPolicy(bucket), undefined, 'mc deletes a policy left empty');
  await expectStatus('GET', `/${bucket}/test1/icon/cloud.svg`, 403);
  await expectStatus('GET', `/${bucket}/?list-type=2&prefix=test1/icon/`, 403);
});

test('download on a single object opens only that object', async () => {
  await mcPolicySet('download', bucket, 'test1/icon/cloud.svg');
  await expectStatus('GET', `/${bucket}/test1/icon/cloud.svg`, 200);
  await expectStatus('GET', `/${bucket}/test1/icon/sun.svg`, 403);
  await mcPolicySet('none', bucket, 'test1/icon/cloud.svg');
  await expectStatus('GET', `/${bucket}/test1/icon/cloud.svg`, 403);
});

test('upload on a prefix: curl can PUT there but not read or list', async () => {
  await mcPolicySet('upload', bucket, 'incoming/');
  assert.equal(anonymousLevel(await currentPolicy(bucket), bucket, 'incoming/'), 'upload');
  await expectStatus('PUT', `/${bucket}/incoming/drop.txt`, 200, 'dropped anonymously');
  const got = await root.send(new GetObjectCommand({ Bucket: bucket, Key: 'incoming/drop.txt' }));
  assert.equal(await got.Body!.transformToString(), 'dropped anonymously');
  await expectStatus('GET', `/${bucket}/incoming/drop.txt`, 403);
  await expectStatus('GET', `/${bucket}/?list-type=2&prefix=incoming/`, 403);
  await expectStatus('PUT', `/${bucket}/private/drop.txt`, 403, 'x');
  await mcPolicySet('none', bucket, 'incoming/');
  await expectStatus('PUT', `/${bucket}/incoming/drop2.txt`, 403, 'x');
});

test('public on a prefix: read, write, delete and list it; other prefixes stay closed', async () => {
  await mcPolicySet('public', bucket, 'shared/');
  await mcPolicySet('download', bucket, 'test1/icon/');
  const policy = await currentPolicy(bucket);
  assert.equal(anonymousLevel(policy, bucket, 'shared/'), 'public');
  assert.equal(anonymousLevel(policy, bucket, 'test1/icon/'), 'download', 'two prefixes keep their own levels');
  await expectStatus('PUT', `/${bucket}/shared/s.txt`, 200, 'shared text');
  assert.equal((await expectStatus('GET', `/${bucket}/shared/s.txt`, 200)).body, 'shared text');
  const listed = await expectStatus('GET', `/${bucket}/?list-type=2&prefix=shared/`, 200);
  assert.match(listed.body, /<Key>shared\/s\.txt<\/Key>/);
  await expectStatus('DELETE', `/${bucket}/shared/s.txt`, 204);
  await expectStatus('GET', `/${bucket}/test1/icon/cloud.svg`, 200);
  await expectStatus('PUT', `/${bucket}/test1/icon/x.svg`, 403, 'x');
  await expectStatus('GET', `/${bucket}/private/p.txt`, 403);

  await mcPolicySet('none', bucket, 'shared/');
  assert.equal(anonymousLevel(await currentPolicy(bucket), bucket, 'test1/icon/'), 'download', 'the other prefix is untouched');
  await expectStatus('PUT', `/${bucket}/shared/t.txt`, 403, 'x');
  await expectStatus('GET', `/${bucket}/test1/icon/cloud.svg`, 200);
  await mcPolicySet('none', bucket, 'test1/icon/');
  assert.equal(await currentPolicy(bucket), undefined);
});

test('download on a whole bucket: objects and listing, no writes; none closes it', async () => {
  await mcPolicySet('download', whole);
  assert.equal(anonymousLevel(await currentPolicy(whole), whole), 'download');
  assert.equal((await expectStatus('GET', `/${whole}/x/y.txt`, 200)).body, 'in the whole bucket');
  const listed = await expectStatus('GET', `/${whole}/`, 200);
  assert.match(listed.body, /<Key>x\/y\.txt<\/Key>/);
  await expectStatus('PUT', `/${whole}/x/z.txt`, 403, 'x');
  await expectStatus('GET', '/', 403, undefined); // ListBuckets is never anonymous
  await expectStatus('GET', `/${bucket}/private/p.txt`, 403, undefined); // another bucket
  await mcPolicySet('none', whole);
  await expectStatus('GET', `/${whole}/x/y.txt`, 403);
  await expectStatus('GET', `/${whole}/`, 403);
});
