import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymousLevel, anonymousLevels, createContext, evaluatePolicies, parsePolicy, principalIdentity, setAnonymousLevel, type AnonymousLevel } from '../../src/policy/index.js';
import { ANONYMOUS } from '../../src/auth/principal.js';

const E = '"Effect":"Allow","Principal":{"AWS":["*"]}';
const doc = (...statements: string[]) => `{"Version":"2012-10-17","Statement":[${statements.join(',')}]}`;

test('mc JSON for a whole bucket (spec 5.4)', () => {
  assert.equal(setAnonymousLevel(undefined, 'download', 'b'), doc(
    `{"Action":["s3:GetBucketLocation","s3:ListBucket"],${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:GetObject"],${E},"Resource":["arn:aws:s3:::b/*"],"Sid":""}`,
  ));
  assert.equal(setAnonymousLevel(undefined, 'upload', 'b'), doc(
    `{"Action":["s3:GetBucketLocation","s3:ListBucketMultipartUploads"],${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:ListMultipartUploadParts","s3:PutObject"],${E},"Resource":["arn:aws:s3:::b/*"],"Sid":""}`,
  ));
  assert.equal(setAnonymousLevel(undefined, 'public', 'b'), doc(
    `{"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:PutObject"],${E},"Resource":["arn:aws:s3:::b/*"],"Sid":""}`,
  ));
  assert.equal(setAnonymousLevel(undefined, 'none', 'b'), undefined);
});

test('mc JSON for a prefix (spec 5.4)', () => {
  const cond = '"Condition":{"StringEquals":{"s3:prefix":["p"]}}';
  assert.equal(setAnonymousLevel(undefined, 'download', 'b', 'p'), doc(
    `{"Action":["s3:GetBucketLocation"],${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:ListBucket"],${cond},${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:GetObject"],${E},"Resource":["arn:aws:s3:::b/p*"],"Sid":""}`,
  ));
  assert.equal(setAnonymousLevel(undefined, 'upload', 'b', 'p'), doc(
    `{"Action":["s3:GetBucketLocation","s3:ListBucketMultipartUploads"],${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:ListMultipartUploadParts","s3:PutObject"],${E},"Resource":["arn:aws:s3:::b/p*"],"Sid":""}`,
  ));
  assert.equal(setAnonymousLevel(undefined, 'public', 'b', 'p'), doc(
    `{"Action":["s3:GetBucketLocation","s3:ListBucketMultipartUploads"],${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:ListBucket"],${cond},${E},"Resource":["arn:aws:s3:::b"],"Sid":""}`,
    `{"Action":["s3:AbortMultipartUpload","s3:DeleteObject","s3:GetObject","s3:ListMultipartUploadParts","s3:PutObject"],${E},"Resource":["arn:aws:s3:::b/p*"],"Sid":""}`,
  ));
});

test('levels read back for bucket and prefix', () => {
  const levels: AnonymousLevel[] = ['none', 'download', 'upload', 'public'];
  for (const level of levels) {
    for (const prefix of ['', 'dir/']) {
      const json = setAnonymousLevel(undefined, level, 'b', prefix);
      assert.equal(anonymousLevel(json, 'b', prefix), level, `${level} on '${prefix}'`);
    }
  }
  const onPrefix = setAnonymousLevel(undefined, 'download', 'b', 'dir/');
  assert.equal(anonymousLevel(onPrefix, 'b', ''), 'none', 'a prefix grant is not a bucket grant');
  assert.equal(anonymousLevel(onPrefix, 'b', 'other/'), 'none');
  const whole = setAnonymousLevel(undefined, 'download', 'b');
  assert.equal(anonymousLevel(whole, 'b', 'dir/'), 'download', 'a bucket grant covers every prefix');
  assert.equal(anonymousLevel('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}', 'b'), 'none');
});

test('merging into an existing policy: two prefixes, then none on one of them', () => {
  let p = setAnonymousLevel(undefined, 'download', 'b', 'a/');
  p = setAnonymousLevel(p, 'download', 'b', 'c/');
  assert.equal(anonymousLevel(p, 'b', 'a/'), 'download');
  assert.equal(anonymousLevel(p, 'b', 'c/'), 'download');
  assert.deepEqual(anonymousLevels(p, 'b'), { 'b/a/*': 'download', 'b/c/*': 'download' });
  const objects = JSON.parse(p!).Statement.filter((s: any) => s.Action.includes('s3:GetObject'));
  assert.deepEqual(objects.map((s: any) => s.Resource), [['arn:aws:s3:::b/a/*', 'arn:aws:s3:::b/c/*']], 'equal actions merge resources like mc');
  p = setAnonymousLevel(p, 'none', 'b', 'a/');
  assert.equal(anonymousLevel(p, 'b', 'a/'), 'none');
  assert.equal(anonymousLevel(p, 'b', 'c/'), 'download');
  p = setAnonymousLevel(p, 'none', 'b', 'c/');
  assert.equal(p, undefined, 'nothing left: mc deletes the policy');
});

test('setting a level keeps foreign statements untouched', () => {
  const foreign = '{"Sid":"keep","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/locked/*"}';
  const p = setAnonymousLevel(`{"Version":"2012-10-17","Statement":[${foreign}]}`, 'download', 'b');
  const st = JSON.parse(p!).Statement;
  assert.deepEqual(st[0], JSON.parse(foreign));
  assert.equal(setAnonymousLevel(p, 'none', 'b'), `{"Version":"2012-10-17","Statement":[${foreign}]}`);
});

test('download on a prefix: anonymous can fetch its objects and nothing else', () => {
  const json = setAnonymousLevel(undefined, 'download', 'b', 'pub/')!;
  const bp = parsePolicy(json, { kind: 'bucket', bucket: 'b', name: 'bp' });
  const anon = principalIdentity(ANONYMOUS);
  const can = (action: string, resource: string, ctx: Record<string, string> = {}) =>
    evaluatePolicies([bp], { action, resource, context: createContext(ctx), principal: anon }).decision === 'Allow';
  assert.ok(can('s3:GetObject', 'arn:aws:s3:::b/pub/file.txt'));
  assert.ok(!can('s3:GetObject', 'arn:aws:s3:::b/private/file.txt'));
  assert.ok(!can('s3:PutObject', 'arn:aws:s3:::b/pub/new.txt'));
  assert.ok(can('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'pub/' }));
  assert.ok(!can('s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': '' }));
  assert.ok(!can('s3:GetObject', 'arn:aws:s3:::other/pub/file.txt'));
});
