/**
 * Presigned URLs from real clients: `aws s3 presign` (SigV4 and SigV2), the AWS SDK
 * presigner, the minio client (GET, PUT and its POST policy form), fetched without any
 * client library; expiry and tampering refused with the S3 errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as Minio from 'minio';
import { startServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
let server: TestServer;
let s3: S3Client;
const bucket = 'presign-bucket';
const data = randomBytes(200_000);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

before(async () => {
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/file one.bin', Body: data }));
});
after(async () => { await server?.stop(); });

async function s3Error(r: Response): Promise<{ status: number; code: string; message: string }> {
  const text = await r.text();
  return { status: r.status, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '', message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '' };
}

async function assertRefused(url: string, init: RequestInit, code: string, message?: RegExp) {
  const r = await fetch(url, init);
  const e = await s3Error(r);
  assert.equal(e.code, code, `${url}: ${e.status} ${e.code} ${e.message}`);
  assert.equal(e.status, 403);
  if (message) assert.match(e.message, message);
}

/**
 * `aws s3 presign`. AWS CLI v1 signs presigned URLs for a custom endpoint with SigV2
 * unless the config asks for s3v4, so both are what users really get.
 */
async function awsPresign(key: string, signatureVersion?: 's3v4', expiresIn = 300): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'awscfg-'));
  const sv = signatureVersion ? `    signature_version = ${signatureVersion}\n` : '';
  writeFileSync(join(dir, 'config'), `[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n${sv}`);
  try {
    const { stdout } = await run('aws', ['s3', 'presign', `s3://${bucket}/${key}`, '--endpoint-url', server.url, '--expires-in', String(expiresIn)], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey, AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') },
    });
    return stdout.trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('the AWS CLI (`aws`, Debian package awscli) is required for this test');
    throw e;
  }
}

/** botocore's SigV2 query signer (signature_version "s3"), as older boto-based tools use it. */
async function botoPresignV2(key: string, method: 'get_object' | 'put_object', expiresIn = 300): Promise<string> {
  const script = [
    'import sys, boto3',
    'from botocore.config import Config',
    'c = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name="us-east-1",',
    '    config=Config(signature_version="s3", s3={"addressing_style": "path"}))',
    'print(c.generate_presigned_url(sys.argv[6], {"Bucket": sys.argv[4], "Key": sys.argv[5]}, ExpiresIn=int(sys.argv[7])))',
  ].join('\n');
  try {
    const { stdout } = await run('python3', ['-c', script, server.url, server.accessKey, server.secretKey, bucket, key, method, String(expiresIn)]);
    return stdout.trim();
  } catch (e) {
    throw new Error(`python3 with boto3 (Debian package python3-boto3) is required for this test: ${(e as Error).message}`);
  }
}

/** SigV2 query signing as old clients do it (Expires/AWSAccessKeyId/Signature). */
function presignV2(method: string, path: string, expires: number, opts: { contentType?: string; secret?: string; extraQuery?: string } = {}): string {
  // the resource is signed as sent on the wire (percent-encoded)
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const sts = `${method}\n\n${opts.contentType ?? ''}\n${expires}\n${encodedPath}`;
  const sig = createHmac('sha1', opts.secret ?? server.secretKey).update(sts).digest('base64');
  return `${server.url}${encodedPath}?AWSAccessKeyId=${encodeURIComponent(server.accessKey)}&Expires=${expires}&Signature=${encodeURIComponent(sig)}${opts.extraQuery ?? ''}`;
}

test('aws s3 presign (SigV4) fetched with curl and fetch', async () => {
  const url = await awsPresign('dir/file one.bin', 's3v4');
  assert.match(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
  const got = Buffer.from(await (await fetch(url)).arrayBuffer());
  assert.equal(md5(got), md5(data));
  const out = join(mkdtempSync(join(tmpdir(), 'curl-')), 'out');
  await run('curl', ['-sSf', '-o', out, url]);
  const { stdout } = await run('md5sum', [out]);
  assert.equal(stdout.split(' ')[0], md5(data));
});

test('SigV2 presigned GET (aws s3 presign default) and PUT (boto3) work, and a changed key is refused', async () => {
  const url = await awsPresign('dir/file one.bin');
  assert.match(url, /AWSAccessKeyId=/);
  assert.match(url, /Signature=/);
  const r = await fetch(url);
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal(md5(Buffer.from(await r.arrayBuffer())), md5(data));
  await assertRefused(url.replace('file%20one', 'file%20two'), {}, 'SignatureDoesNotMatch');
  const put = await botoPresignV2('boto/v2.bin', 'put_object');
  const body = randomBytes(10_000);
  const p = await fetch(put, { method: 'PUT', body });
  assert.equal(p.status, 200, await p.clone().text());
  assert.equal(p.headers.get('etag'), `"${md5(body)}"`);
});

test('SDK getSignedUrl: GetObject and PutObject with a signed content type', async () => {
  const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/file one.bin' }), { expiresIn: 600 });
  assert.equal(md5(Buffer.from(await (await fetch(get)).arrayBuffer())), md5(data));

  const body = randomBytes(50_000);
  const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'uploaded/by-url.bin', ContentType: 'application/x-presigned' }), { expiresIn: 600, signableHeaders: new Set(['content-type']) });
  assert.match(new URL(put).searchParams.get('X-Amz-SignedHeaders') ?? '', /content-type/);
  // a different content type breaks the signature, and nothing is stored
  await assertRefused(put, { method: 'PUT', body, headers: { 'content-type': 'text/plain' } }, 'SignatureDoesNotMatch');
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'uploaded/by-url.bin' })));
  const r = await fetch(put, { method: 'PUT', body, headers: { 'content-type': 'application/x-presigned' } });
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal(r.headers.get('etag'), `"${md5(body)}"`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'uploaded/by-url.bin' }));
  assert.equal(head.ContentType, 'application/x-presigned');
  assert.equal(head.ContentLength, body.length);
});

test('presigned URLs expire on time: AccessDenied "Request has expired"', async () => {
  const v4 = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/file one.bin' }), { expiresIn: 2 });
  const v2 = presignV2('GET', `/${bucket}/dir/file one.bin`, Math.floor(Date.now() / 1000) + 2);
  const minio = minioClient();
  const mv4 = await minio.presignedGetObject(bucket, 'dir/file one.bin', 2);
  for (const u of [v4, v2, mv4]) assert.equal((await fetch(u)).status, 200, u);
  await new Promise((r) => setTimeout(r, 3200));
  for (const u of [v4, v2, mv4]) await assertRefused(u, {}, 'AccessDenied', /Request has expired/);
});

test('any change to a signed part is refused with SignatureDoesNotMatch', async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/other.bin', Body: 'other' }));
  const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/file one.bin', ResponseContentType: 'application/x-signed' }), { expiresIn: 600 }));
  const ok = await fetch(url);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'application/x-signed');
  await ok.arrayBuffer();

  const path = new URL(url); path.pathname = `/${bucket}/dir/other.bin`;
  await assertRefused(path.href, {}, 'SignatureDoesNotMatch');
  const param = new URL(url); param.searchParams.set('response-content-type', 'text/html');
  await assertRefused(param.href, {}, 'SignatureDoesNotMatch');
  const expires = new URL(url); expires.searchParams.set('X-Amz-Expires', '601');
  await assertRefused(expires.href, {}, 'SignatureDoesNotMatch');
  const added = new URL(url); added.searchParams.set('response-content-disposition', 'attachment');
  await assertRefused(added.href, {}, 'SignatureDoesNotMatch');
  const signature = new URL(url); signature.searchParams.set('X-Amz-Signature', '0'.repeat(64));
  await assertRefused(signature.href, {}, 'SignatureDoesNotMatch');
  // a signed header: sign x-amz-meta-color, send another value
  const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'dir/meta.bin', Metadata: { color: 'blue' } }), { expiresIn: 600, unhoistableHeaders: new Set(['x-amz-meta-color']) });
  assert.match(new URL(put).searchParams.get('X-Amz-SignedHeaders') ?? '', /x-amz-meta-color/);
  await assertRefused(put, { method: 'PUT', body: 'x', headers: { 'x-amz-meta-color': 'red' } }, 'SignatureDoesNotMatch');
  await assertRefused(put, { method: 'PUT', body: 'x' }, 'SignatureDoesNotMatch');
  assert.equal((await fetch(put, { method: 'PUT', body: 'x', headers: { 'x-amz-meta-color': 'blue' } })).status, 200);

  // SigV2 query: path, Expires and signed content type
  const exp = Math.floor(Date.now() / 1000) + 600;
  const v2 = presignV2('GET', `/${bucket}/dir/file one.bin`, exp);
  assert.equal((await fetch(v2)).status, 200);
  await assertRefused(v2.replace('file%20one', 'other'), {}, 'SignatureDoesNotMatch');
  await assertRefused(v2.replace(`Expires=${exp}`, `Expires=${exp + 1}`), {}, 'SignatureDoesNotMatch');
  await assertRefused(presignV2('GET', `/${bucket}/dir/file one.bin`, exp, { secret: 'wrong-secret' }), {}, 'SignatureDoesNotMatch');
  const v2put = presignV2('PUT', `/${bucket}/dir/v2-put.txt`, exp, { contentType: 'text/plain' });
  await assertRefused(v2put, { method: 'PUT', body: 'v2', headers: { 'content-type': 'text/html' } }, 'SignatureDoesNotMatch');
  const r = await fetch(v2put, { method: 'PUT', body: 'v2 body', headers: { 'content-type': 'text/plain' } });
  assert.equal(r.status, 200, await r.clone().text());
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/v2-put.txt' }));
  assert.equal(head.ContentType, 'text/plain');
  assert.equal(head.ContentLength, 7);
});

function minioClient(): Minio.Client {
  return new Minio.Client({ endPoint: '127.0.0.1', port: server.port, useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' });
}

test('minio client: presignedGetObject, presignedPutObject, presignedPostPolicy end to end', async () => {
  const mc = minioClient();
  const get = await mc.presignedGetObject(bucket, 'dir/file one.bin', 60);
  assert.equal(md5(Buffer.from(await (await fetch(get)).arrayBuffer())), md5(data));

  const body = randomBytes(30_000);
  const put = await mc.presignedPutObject(bucket, 'minio/put.bin', 60);
  const r = await fetch(put, { method: 'PUT', body });
  assert.equal(r.status, 200, await r.clone().text());
  const back = await mc.getObject(bucket, 'minio/put.bin');
  const chunks: Buffer[] = [];
  for await (const c of back) chunks.push(c as Buffer);
  assert.equal(md5(Buffer.concat(chunks)), md5(body));

  const policy = mc.newPostPolicy();
  policy.setBucket(bucket);
  policy.setKeyStartsWith('minio/post/');
  policy.setExpires(new Date(Date.now() + 60_000));
  policy.setContentType('text/csv');
  policy.setContentLengthRange(1, 1024 * 1024);
  policy.setUserMetaData({ origin: 'minio-form' });
  const { postURL, formData } = await mc.presignedPostPolicy(policy);
  const form = new FormData();
  // setKeyStartsWith puts the prefix in formData.key: the page fills in the rest
  for (const [k, v] of Object.entries({ ...formData, key: 'minio/post/${filename}' })) form.append(k, v);
  const csv = Buffer.from('a,b\n1,2\n');
  form.append('file', new Blob([csv]), 'table.csv');
  const posted = await fetch(postURL, { method: 'POST', body: form });
  assert.equal(posted.status, 204, await posted.clone().text());
  assert.equal(posted.headers.get('etag'), `"${md5(csv)}"`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'minio/post/table.csv' }));
  assert.equal(head.ContentType, 'text/csv');
  assert.equal(head.Metadata?.origin, 'minio-form');
  assert.equal(head.ContentLength, csv.length);

  // the same form past its content-length-range stores nothing
  const big = new FormData();
  for (const [k, v] of Object.entries({ ...formData, key: 'minio/post/too-big.csv' })) big.append(k, v);
  big.append('file', new Blob([randomBytes(1024 * 1024 + 1)]), 'too-big.csv');
  const refused = await fetch(postURL, { method: 'POST', body: big });
  const e = await s3Error(refused);
  assert.equal(e.code, 'EntityTooLarge', e.message);
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'minio/post/too-big.csv' })));
});
