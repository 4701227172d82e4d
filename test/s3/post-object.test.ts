/** PostObject (browser form uploads) against the real server: auth, policy conditions, metadata, responses, errors. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutBucketPolicyCommand, S3Client,
} from '@aws-sdk/client-s3';
import * as Minio from 'minio';
import { deriveSigningKey, toAmzDate } from '../../src/auth/sigv4.js';
import { checksumOf } from '../../src/s3/checksums.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'post-bucket';
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

before(async () => {
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: 'post-public' }));
});
after(async () => { await server?.stop(); });

interface FormOptions {
  /** Conditions besides the ones for the auth fields (added automatically). */
  conditions?: unknown[];
  fields?: Record<string, string>;
  expiration?: Date;
  sign?: 'v4' | 'v2' | 'none';
  secret?: string;
  accessKey?: string;
  file?: Buffer;
  filename?: string;
  /** Leave the file part out. */
  noFile?: boolean;
  bucketPath?: string;
}

/** Builds a POST form the way a page would, signing the policy like the S3 docs describe. */
function buildForm(o: FormOptions): { form: FormData; url: string } {
  const sign = o.sign ?? 'v4';
  const accessKey = o.accessKey ?? server.accessKey;
  const secret = o.secret ?? server.secretKey;
  const fields: Record<string, string> = { ...(o.fields ?? {}) };
  const conditions = [...(o.conditions ?? [])];
  if (sign === 'v4') {
    const amzDate = toAmzDate(new Date());
    const credential = `${accessKey}/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    Object.assign(fields, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate });
    conditions.push({ 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, ['eq', '$x-amz-credential', credential], ['eq', '$x-amz-date', amzDate]);
  }
  if (sign !== 'none') {
    const policy = Buffer.from(JSON.stringify({ expiration: (o.expiration ?? new Date(Date.now() + 600_000)).toISOString(), conditions })).toString('base64');
    fields.policy = policy;
    if (sign === 'v4') {
      const c = fields['x-amz-credential']!.split('/');
      fields['x-amz-signature'] = createHmac('sha256', deriveSigningKey(secret, c[1]!, c[2]!, c[3]!)).update(policy).digest('hex');
    } else {
      fields.AWSAccessKeyId = accessKey;
      fields.signature = createHmac('sha1', secret).update(policy).digest('base64');
    }
  }
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (!o.noFile) form.append('file', new Blob([new Uint8Array(o.file ?? Buffer.from('hello form'))]), o.filename ?? 'hello.txt');
  return { form, url: `${server.url}/${o.bucketPath ?? bucket}` };
}

async function post(o: FormOptions): Promise<{ status: number; headers: Headers; text: string }> {
  const { form, url } = buildForm(o);
  const r = await fetch(url, { method: 'POST', body: form, redirect: 'manual' });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
const messageOf = (text: string) => (/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

async function exists(key: string, b = bucket): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: b, Key: key })).then(() => true, () => false);
}

async function expectRefused(o: FormOptions, key: string, code: string, status: number, message?: RegExp) {
  const r = await post(o);
  assert.equal(codeOf(r.text), code, r.text);
  assert.equal(r.status, status, r.text);
  if (message) assert.match(messageOf(r.text), message);
  assert.equal(await exists(key), false, `${key} must not be stored`);
}

test('SigV4 form: metadata fields, tagging, checksum, ${filename}, 204 with ETag and Location', async () => {
  const file = randomBytes(100_000);
  const crc = checksumOf('CRC32', file).toString('base64');
  const tagging = '<Tagging><TagSet><Tag><Key>project</Key><Value>alpha</Value></Tag></TagSet></Tagging>';
  const fields = {
    key: 'uploads/${filename}', 'Content-Type': 'image/jpeg', 'Cache-Control': 'max-age=300', 'Content-Disposition': 'inline',
    'Content-Encoding': 'identity', Expires: 'Wed, 01 Jan 2031 00:00:00 GMT', 'x-amz-meta-owner': 'alice', 'x-amz-meta-Camera': 'X100',
    tagging, 'x-amz-checksum-crc32': crc, 'x-ignore-anything': 'free',
  };
  const r = await post({
    fields, file, filename: 'camera/2024/photo 1.jpg', // a relative path, as directory uploads send
    conditions: [
      { bucket }, ['starts-with', '$key', 'uploads/'], ['starts-with', '$Content-Type', 'image/'], { 'Cache-Control': 'max-age=300' },
      ['eq', '$Content-Disposition', 'inline'], ['starts-with', '$Content-Encoding', ''], ['starts-with', '$Expires', 'Wed'],
      ['starts-with', '$x-amz-meta-owner', 'al'], ['eq', '$x-amz-meta-camera', 'X100'], { tagging }, ['starts-with', '$x-amz-checksum-crc32', ''],
      ['content-length-range', 1, 1_000_000],
    ],
  });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.headers.get('etag'), `"${md5(file)}"`);
  assert.equal(r.headers.get('location'), `${server.url}/${bucket}/uploads/photo%201.jpg`);
  assert.equal(r.headers.get('x-amz-checksum-crc32'), crc);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'uploads/photo 1.jpg', ChecksumMode: 'ENABLED' }));
  assert.equal(head.ContentType, 'image/jpeg');
  assert.equal(head.CacheControl, 'max-age=300');
  assert.equal(head.ContentDisposition, 'inline');
  assert.equal(head.ContentEncoding, 'identity');
  assert.equal(head.ExpiresString ?? head.Expires?.toUTCString(), 'Wed, 01 Jan 2031 00:00:00 GMT');
  assert.deepEqual(head.Metadata, { owner: 'alice', camera: 'X100' });
  assert.equal(head.ChecksumCRC32, crc);
  assert.equal(head.ContentLength, file.length);
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'uploads/photo 1.jpg' }));
  assert.deepEqual(tags.TagSet, [{ Key: 'project', Value: 'alpha' }]);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/photo 1.jpg' }));
  assert.equal(md5(Buffer.from(await got.Body!.transformToByteArray())), md5(file));
});

test('without a Content-Type field the file part type is used; success_action_status 200, 201 and redirect', async () => {
  const form = buildForm({ fields: { key: 'typed.txt', success_action_status: '200' }, conditions: [{ key: 'typed.txt' }, { success_action_status: '200' }], noFile: true });
  form.form.append('file', new Blob(['typed'], { type: 'text/plain' }), 'typed.txt');
  const r200 = await fetch(form.url, { method: 'POST', body: form.form });
  assert.equal(r200.status, 200);
  assert.equal(await r200.text(), '');
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'typed.txt' }))).ContentType, 'text/plain');

  const r201 = await post({ fields: { key: 'created.txt', success_action_status: '201' }, conditions: [{ key: 'created.txt' }, ['eq', '$success_action_status', '201']] });
  assert.equal(r201.status, 201, r201.text);
  assert.match(r201.text, new RegExp(`<PostResponse><Location>${server.url}/${bucket}/created\\.txt</Location><Bucket>${bucket}</Bucket><Key>created\\.txt</Key><ETag>&quot;${md5(Buffer.from('hello form'))}&quot;</ETag></PostResponse>`));
  // fetch sends an untyped Blob as application/octet-stream
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'created.txt' }))).ContentType, 'application/octet-stream');

  const redirect = 'https://app.example.com/done?from=form';
  const r303 = await post({ fields: { key: 'redirected.txt', success_action_redirect: redirect }, conditions: [{ key: 'redirected.txt' }, ['starts-with', '$success_action_redirect', 'https://app.example.com/']] });
  assert.equal(r303.status, 303, r303.text);
  const loc = new URL(r303.headers.get('location')!);
  assert.equal(loc.origin + loc.pathname, 'https://app.example.com/done');
  assert.equal(loc.searchParams.get('from'), 'form');
  assert.equal(loc.searchParams.get('bucket'), bucket);
  assert.equal(loc.searchParams.get('key'), 'redirected.txt');
  assert.equal(loc.searchParams.get('etag'), `"${md5(Buffer.from('hello form'))}"`);
  assert.ok(await exists('redirected.txt'));
});

test('policy violations are refused with S3 errors and store nothing', async () => {
  const base = (key: string) => ({ fields: { key }, conditions: [['starts-with', '$key', 'ok/']] as unknown[] });
  await expectRefused({ ...base('ok/expired'), expiration: new Date(Date.now() - 1000) }, 'ok/expired', 'AccessDenied', 403, /Policy expired/);
  await expectRefused(base('bad/prefix'), 'bad/prefix', 'AccessDenied', 403, /Policy Condition failed: \["starts-with", "\$key", "ok\/"\]/);
  await expectRefused({ fields: { key: 'ok/type', 'Content-Type': 'text/html' }, conditions: [{ key: 'ok/type' }, ['eq', '$Content-Type', 'text/plain']] }, 'ok/type', 'AccessDenied', 403, /Condition failed/);
  await expectRefused({ fields: { key: 'ok/bucket' }, conditions: [{ key: 'ok/bucket' }, { bucket: 'other-bucket' }] }, 'ok/bucket', 'AccessDenied', 403, /Condition failed/);
  await expectRefused({ fields: { key: 'ok/meta', 'x-amz-meta-color': 'red' }, conditions: [{ key: 'ok/meta' }, ['eq', '$x-amz-meta-color', 'blue']] }, 'ok/meta', 'AccessDenied', 403, /Condition failed/);
  await expectRefused({ fields: { key: 'ok/extra', 'x-amz-meta-sneaky': '1' }, conditions: [{ key: 'ok/extra' }] }, 'ok/extra', 'AccessDenied', 403, /Extra input fields: x-amz-meta-sneaky/);
  await expectRefused({ fields: { key: 'ok/status', success_action_status: '201' }, conditions: [{ key: 'ok/status' }] }, 'ok/status', 'AccessDenied', 403, /Extra input fields: success_action_status/);
  await expectRefused({ fields: { key: 'ok/small' }, conditions: [{ key: 'ok/small' }, ['content-length-range', 100, 200]], file: Buffer.alloc(99) }, 'ok/small', 'EntityTooSmall', 400);
  await expectRefused({ fields: { key: 'ok/big' }, conditions: [{ key: 'ok/big' }, ['content-length-range', 0, 1000]], file: randomBytes(3 * 1024 * 1024) }, 'ok/big', 'EntityTooLarge', 400);
  await expectRefused({ fields: { key: 'ok/json' }, conditions: [{ key: 'ok/json' }, ['nope', '$key', 'x']] }, 'ok/json', 'InvalidPolicyDocument', 400);
  await expectRefused({ fields: { key: 'ok/sig' }, conditions: [{ key: 'ok/sig' }], secret: 'not-the-secret' }, 'ok/sig', 'SignatureDoesNotMatch', 403);
  await expectRefused({ fields: { key: 'ok/ak' }, conditions: [{ key: 'ok/ak' }], accessKey: 'NOSUCHKEY' }, 'ok/ak', 'InvalidAccessKeyId', 403);
  await expectRefused({ fields: {}, conditions: [] }, 'ok/', 'InvalidArgument', 400, /key/);
  const crc = checksumOf('CRC32', Buffer.from('something else')).toString('base64');
  await expectRefused({ fields: { key: 'ok/crc', 'x-amz-checksum-crc32': crc }, conditions: [{ key: 'ok/crc' }, ['starts-with', '$x-amz-checksum-crc32', '']] }, 'ok/crc', 'BadDigest', 400);
  await expectRefused({ fields: { key: 'ok/nofile' }, conditions: [{ key: 'ok/nofile' }], noFile: true }, 'ok/nofile', 'IncorrectNumberOfFilesInPostRequest', 400);
  const garbage = await fetch(`${server.url}/${bucket}`, { method: 'POST', body: 'not a form', headers: { 'content-type': 'multipart/form-data; boundary=xyz' } });
  assert.equal(codeOf(await garbage.text()), 'MalformedPOSTRequest');
  const nobucket = await post({ fields: { key: 'ok/x' }, conditions: [{ key: 'ok/x' }], bucketPath: 'no-such-post-bucket' });
  assert.equal(codeOf(nobucket.text), 'NoSuchBucket');
});

test('SigV2 form (AWSAccessKeyId + signature) works; a wrong signature does not', async () => {
  const r = await post({ sign: 'v2', fields: { key: 'v2/${filename}' }, conditions: [{ bucket }, ['starts-with', '$key', 'v2/']], filename: 'old.txt' });
  assert.equal(r.status, 204, r.text);
  assert.ok(await exists('v2/old.txt'));
  await expectRefused({ sign: 'v2', fields: { key: 'v2/bad' }, conditions: [{ key: 'v2/bad' }], secret: 'wrong' }, 'v2/bad', 'SignatureDoesNotMatch', 403);
});

test('anonymous POST is allowed exactly where a bucket policy lets "*" PutObject', async () => {
  const anon = (key: string) => post({ sign: 'none', fields: { key }, bucketPath: 'post-public' });
  const before = await anon('public/first.txt');
  assert.equal(codeOf(before.text), 'AccessDenied', before.text);
  await s3.send(new PutBucketPolicyCommand({
    Bucket: 'post-public', Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::post-public/public/*' }],
    }),
  }));
  const ok = await anon('public/first.txt');
  assert.equal(ok.status, 204, ok.text);
  assert.ok(await exists('public/first.txt', 'post-public'));
  const denied = await anon('private/second.txt');
  assert.equal(codeOf(denied.text), 'AccessDenied');
  assert.equal(await exists('private/second.txt', 'post-public'), false);
  // a signed form is authorized for its signer, here against the final key
  const signed = await post({ fields: { key: 'private/by-root.txt' }, conditions: [{ key: 'private/by-root.txt' }], bucketPath: 'post-public' });
  assert.equal(signed.status, 204, signed.text);
});

test('a POST upload emits s3:ObjectCreated:Post', async () => {
  const mc = new Minio.Client({ endPoint: '127.0.0.1', port: server.port, useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' });
  const listener = mc.listenBucketNotification(bucket, 'events/', '', ['s3:ObjectCreated:*']);
  try {
    const got = new Promise<{ eventName: string; s3: { object: { key: string; size: number } } }>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('no event in 10s')), 10_000);
      listener.on('notification', (record: any) => { clearTimeout(t); ok(record); });
    });
    await new Promise((r) => setTimeout(r, 500)); // let the listen request reach the server
    const r = await post({ fields: { key: 'events/posted.txt' }, conditions: [{ key: 'events/posted.txt' }] });
    assert.equal(r.status, 204, r.text);
    const record = await got;
    assert.equal(record.eventName, 's3:ObjectCreated:Post');
    assert.equal(decodeURIComponent(record.s3.object.key), 'events/posted.txt');
    assert.equal(record.s3.object.size, 'hello form'.length);
  } finally {
    listener.stop();
  }
});
