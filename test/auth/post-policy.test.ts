import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as Minio from 'minio';
import {
  ContentLengthRangeCheck, checkContentLength, checkPostPolicy, parsePostAuth, resolvePostKey, verifyPostSignature,
} from '../../src/auth/post-policy.js';
import { S3Error } from '../../src/server/errors.js';

const code = (c: string, msg?: string) => (e: unknown) => e instanceof S3Error && e.code === c && (msg === undefined || e.message === msg);
const lower = (f: Record<string, string>) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k.toLowerCase(), v]));
const b64 = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');

// The SigV4 browser-upload example of the AWS docs (bucket sigv4examplebucket), signed
// here with a signing key derived independently of src/auth/sigv4.ts.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
const KEY = hmac(hmac(hmac(hmac('AWS4' + SECRET, '20151229'), 'us-east-1'), 's3'), 'aws4_request');
const NOW = new Date('2015-12-29T12:00:00Z');
const CONDITIONS: unknown[] = [
  { bucket: 'sigv4examplebucket' },
  ['starts-with', '$key', 'user/user1/'],
  { acl: 'public-read' },
  { success_action_redirect: 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html' },
  ['starts-with', '$Content-Type', 'image/'],
  { 'x-amz-meta-uuid': '14365123651274' },
  { 'x-amz-server-side-encryption': 'AES256' },
  ['starts-with', '$x-amz-meta-tag', ''],
  { 'x-amz-credential': 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request' },
  { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
  { 'x-amz-date': '20151229T000000Z' },
];

function exampleForm(conditions: unknown[] = CONDITIONS, expiration = '2015-12-30T12:00:00.000Z', extra: Record<string, string> = {}) {
  const policy = b64({ expiration, conditions });
  return lower({
    key: 'user/user1/${filename}',
    acl: 'public-read',
    success_action_redirect: 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html',
    'Content-Type': 'image/jpeg',
    'x-amz-meta-uuid': '14365123651274',
    'x-amz-server-side-encryption': 'AES256',
    'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Date': '20151229T000000Z',
    'x-amz-meta-tag': '',
    Policy: policy,
    'X-Amz-Signature': hmac(KEY, policy).toString('hex'),
    ...extra,
  });
}

const CTX = { bucket: 'sigv4examplebucket', now: NOW, filename: 'photo.jpg' };

test('AWS docs SigV4 POST example: signature and every condition pass', () => {
  const f = exampleForm();
  const auth = parsePostAuth(f);
  assert.equal(auth.kind, 'v4');
  if (auth.kind !== 'v4') return;
  assert.deepEqual([auth.accessKey, auth.date, auth.region, auth.service, auth.amzDate], ['AKIAIOSFODNN7EXAMPLE', '20151229', 'us-east-1', 's3', '20151229T000000Z']);
  verifyPostSignature(auth, SECRET);
  assert.throws(() => verifyPostSignature(auth, SECRET + 'x'), code('SignatureDoesNotMatch'));
  assert.throws(() => verifyPostSignature({ ...auth, policy: b64({ expiration: '2099-01-01T00:00:00Z', conditions: [] }) }, SECRET), code('SignatureDoesNotMatch'));
  const r = checkPostPolicy(f.policy!, f, CTX);
  assert.deepEqual(r.expiration, new Date('2015-12-30T12:00:00.000Z'));
  assert.equal(r.contentLengthRange, undefined);
  assert.equal(resolvePostKey(f, 'photo.jpg'), 'user/user1/photo.jpg');
});

test('failed conditions name the condition as S3 does', () => {
  const fail = (msg: string) => code('AccessDenied', `Invalid according to Policy: ${msg}`);
  let f = exampleForm();
  f.acl = 'private';
  assert.throws(() => checkPostPolicy(f.policy!, f, CTX), fail('Policy Condition failed: ["eq", "$acl", "public-read"]'));
  f = exampleForm();
  f['content-type'] = 'text/html';
  assert.throws(() => checkPostPolicy(f.policy!, f, CTX), fail('Policy Condition failed: ["starts-with", "$Content-Type", "image/"]'));
  f = exampleForm();
  f.key = 'user/user2/${filename}';
  assert.throws(() => checkPostPolicy(f.policy!, f, CTX), fail('Policy Condition failed: ["starts-with", "$key", "user/user1/"]'));
  assert.throws(() => checkPostPolicy(exampleForm().policy!, exampleForm(), { ...CTX, bucket: 'other' }), fail('Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]'));
  // A field the policy does not mention.
  f = exampleForm(CONDITIONS, undefined, { 'x-amz-meta-extra': '1' });
  assert.throws(() => checkPostPolicy(f.policy!, f, CTX), fail('Extra input fields: x-amz-meta-extra'));
  // ... unless it is exempt.
  f = exampleForm(CONDITIONS, undefined, { 'x-ignore-me': '1' });
  checkPostPolicy(f.policy!, f, CTX);
  // A condition on a field that is absent fails (unless it allows the empty value).
  f = exampleForm();
  delete f['x-amz-meta-uuid'];
  assert.throws(() => checkPostPolicy(f.policy!, f, CTX), fail('Policy Condition failed: ["eq", "$x-amz-meta-uuid", "14365123651274"]'));
  f = exampleForm();
  delete f['x-amz-meta-tag'];
  checkPostPolicy(f.policy!, f, CTX);
  // Expired.
  f = exampleForm(CONDITIONS, '2015-12-29T11:59:59.000Z');
  assert.throws(() => checkPostPolicy(f.policy!, f, CTX), fail('Policy expired.'));
});

test('invalid policy documents', () => {
  const f = exampleForm();
  const bad = (policy: string) => () => checkPostPolicy(policy, f, CTX);
  assert.throws(bad(Buffer.from('{not json').toString('base64')), code('InvalidPolicyDocument'));
  assert.throws(bad(b64({ conditions: [] })), code('InvalidPolicyDocument', 'Invalid Policy: Policy missing expiration.'));
  assert.throws(bad(b64({ expiration: 'tomorrow', conditions: [] })), code('InvalidPolicyDocument'));
  assert.throws(bad(b64({ expiration: '2015-12-30T12:00:00.000Z' })), code('InvalidPolicyDocument', 'Invalid Policy: Policy missing conditions.'));
  assert.throws(bad(b64({ expiration: '2015-12-30T12:00:00.000Z', conditions: [['matches', '$key', '.*']] })), code('InvalidPolicyDocument'));
  assert.throws(bad(b64({ expiration: '2015-12-30T12:00:00.000Z', conditions: [['eq', 'key', 'x']] })), code('InvalidPolicyDocument'));
  assert.throws(bad(b64({ expiration: '2015-12-30T12:00:00.000Z', conditions: [['content-length-range', 10, 5]] })), code('InvalidPolicyDocument'));
  assert.throws(bad(b64({ expiration: '2015-12-30T12:00:00.000Z', conditions: [['content-length-range', -1, 5]] })), code('InvalidPolicyDocument'));
});

test('content-length-range, ${filename}, Content-Type lists, case-insensitive names', () => {
  const base = { key: 'up/${filename}', 'content-type': 'image/png, image/gif', 'x-amz-meta-a': 'v' };
  const policy = b64({
    expiration: '2015-12-30T00:00:00Z',
    conditions: [['content-length-range', '10', 1000], ['content-length-range', 0, 500], ['starts-with', '$Key', 'up/'], ['starts-with', '$CONTENT-TYPE', 'image/'], ['eq', '$X-Amz-Meta-A', 'v']],
  });
  const r = checkPostPolicy(policy, base, { bucket: 'b', now: NOW, filename: 'x.png' });
  assert.deepEqual(r.contentLengthRange, { min: 10, max: 500 });
  assert.throws(() => checkPostPolicy(policy, { ...base, 'content-type': 'image/png, text/html' }, { bucket: 'b', now: NOW }), code('AccessDenied'));
  // The key condition may name the literal template the signer wrote, or the stored key.
  const exact = b64({ expiration: '2015-12-30T00:00:00Z', conditions: [{ key: 'up/${filename}' }] });
  checkPostPolicy(exact, { key: 'up/${filename}' }, { bucket: 'b', now: NOW, filename: 'x.png' });
  const stored = b64({ expiration: '2015-12-30T00:00:00Z', conditions: [{ key: 'up/x.png' }] });
  checkPostPolicy(stored, { key: 'up/${filename}' }, { bucket: 'b', now: NOW, filename: 'x.png' });
  assert.throws(() => checkPostPolicy(stored, { key: 'up/${filename}' }, { bucket: 'b', now: NOW, filename: 'y.png' }), code('AccessDenied'));
  assert.equal(resolvePostKey({ key: 'a/${filename}/${filename}' }, 'f'), 'a/f/f');
  assert.throws(() => resolvePostKey({}, 'f'), code('InvalidArgument'));
});

test('SigV2 forms and the authentication fields a form must carry', () => {
  const policy = b64({ expiration: '2015-12-30T00:00:00Z', conditions: [{ bucket: 'b' }, ['starts-with', '$key', '']] });
  const signature = createHmac('sha1', SECRET).update(policy).digest('base64');
  const f = { key: 'k', awsaccesskeyid: 'AKIAIOSFODNN7EXAMPLE', policy, signature };
  const auth = parsePostAuth(f);
  assert.deepEqual(auth, { kind: 'v2', accessKey: 'AKIAIOSFODNN7EXAMPLE', signature, policy, securityToken: undefined });
  if (auth.kind === 'anonymous') return;
  verifyPostSignature(auth, SECRET);
  assert.throws(() => verifyPostSignature(auth, 'other'), code('SignatureDoesNotMatch'));
  checkPostPolicy(policy, f, { bucket: 'b', now: NOW });

  assert.deepEqual(parsePostAuth({ key: 'k' }), { kind: 'anonymous' });
  assert.throws(() => parsePostAuth({ key: 'k', policy }), code('InvalidArgument'));
  assert.throws(() => parsePostAuth({ key: 'k', awsaccesskeyid: 'a', signature: 's' }), code('InvalidArgument'));
  const v4 = exampleForm();
  assert.throws(() => parsePostAuth({ ...v4, 'x-amz-signature': '' }), code('InvalidArgument'));
  assert.throws(() => parsePostAuth({ ...v4, 'x-amz-algorithm': 'AWS4-ECDSA-P256-SHA256' }), code('InvalidArgument'));
  assert.throws(() => parsePostAuth({ ...v4, 'x-amz-credential': 'AKID/2015/us-east-1/s3/aws4_request' }), code('InvalidArgument'));
  assert.throws(() => parsePostAuth({ ...v4, 'x-amz-date': '2015-12-29' }), code('InvalidArgument'));
  const { policy: _p, ...noPolicy } = v4;
  assert.throws(() => parsePostAuth(noPolicy), code('InvalidArgument'));
  assert.equal((parsePostAuth({ ...v4, 'x-amz-security-token': 'tok' }) as { securityToken?: string }).securityToken, 'tok');
});

test('a form signed by the minio client verifies and passes its own policy', async () => {
  const secret = 'minio-secret-key-123';
  const client = new Minio.Client({ endPoint: 'localhost', port: 9, useSSL: false, accessKey: 'minioak', secretKey: secret, region: 'us-east-1' });
  const p = client.newPostPolicy();
  p.setBucket('bkt');
  p.setKey('some/key.txt');
  p.setExpires(new Date(Date.now() + 3600e3));
  p.setContentLengthRange(1, 1000);
  p.setContentType('text/plain');
  p.setUserMetaData({ color: 'blue' });
  const { formData } = await client.presignedPostPolicy(p);
  const f = lower(formData as Record<string, string>);
  const auth = parsePostAuth(f);
  assert.equal(auth.kind, 'v4');
  verifyPostSignature(auth, secret);
  const r = checkPostPolicy(f.policy!, f, { bucket: 'bkt', filename: 'x' });
  assert.deepEqual(r.contentLengthRange, { min: 1, max: 1000 });
  assert.throws(() => checkPostPolicy(f.policy!, { ...f, key: 'other' }, { bucket: 'bkt' }), code('AccessDenied'));
});

test('content-length-range is enforced while streaming', async () => {
  const sink = () => new Writable({ write(_c, _e, cb) { cb(); } });
  await pipeline(Readable.from([Buffer.alloc(300), Buffer.alloc(200)]), new ContentLengthRangeCheck({ min: 500, max: 500 }), sink());
  let produced = 0;
  const endless = new Readable({ read() { produced += 65536; this.push(Buffer.alloc(65536)); } });
  await assert.rejects(pipeline(endless, new ContentLengthRangeCheck({ min: 0, max: 100000 }), sink()),
    (e: unknown) => code('EntityTooLarge')(e) && (e as S3Error).extra.MaxSizeAllowed === '100000');
  assert.ok(produced < 1 << 20, 'stopped right after the limit');
  await assert.rejects(pipeline(Readable.from([Buffer.alloc(9)]), new ContentLengthRangeCheck({ min: 10, max: 20 }), sink()),
    (e: unknown) => code('EntityTooSmall')(e) && (e as S3Error).extra.MinSizeAllowed === '10');
  checkContentLength(5, { min: 5, max: 5 });
  checkContentLength(5, undefined);
  assert.throws(() => checkContentLength(6, { min: 0, max: 5 }), code('EntityTooLarge'));
  assert.throws(() => checkContentLength(4, { min: 5, max: 9 }), code('EntityTooSmall'));
});
