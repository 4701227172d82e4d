import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthzRequest } from '../../src/server/authorizer.js';
import type { Principal } from '../../src/auth/principal.js';
import { checkContext, contextToObject, principalIdentity, requestContext, requiredChecks, S3_OPERATIONS, UnknownOperationError } from '../../src/policy/index.js';

const tom: Principal = { kind: 'user', username: 'tom', accessKey: 'TOMKEY', userId: 'U-tom' };

function req(op: string, extra: Partial<AuthzRequest> = {}, query = ''): AuthzRequest {
  return {
    op, bucket: 'b', key: 'dir/k.txt', principal: tom, query: new URLSearchParams(query), headers: {}, sourceIp: '10.0.0.9',
    secure: true, authType: 'REST-HEADER', signatureVersion: 'AWS4-HMAC-SHA256', ...extra,
  };
}

const B = 'arn:aws:s3:::b';
const O = 'arn:aws:s3:::b/dir/k.txt';

const table: [op: string, extra: Partial<AuthzRequest>, query: string, expected: [string, string][]][] = [
  ['GetObject', {}, '', [['s3:GetObject', O]]],
  ['GetObject', {}, 'versionId=v1', [['s3:GetObjectVersion', O]]],
  ['HeadObject', {}, '', [['s3:GetObject', O]]],
  ['GetObjectAttributes', {}, '', [['s3:GetObject', O], ['s3:GetObjectAttributes', O]]],
  ['PutObject', {}, '', [['s3:PutObject', O]]],
  ['PutObject', { headers: { 'x-amz-tagging': 'a=1' } }, '', [['s3:PutObject', O], ['s3:PutObjectTagging', O]]],
  ['PutObject', { headers: { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': '2030-01-01T00:00:00Z', 'x-amz-object-lock-legal-hold': 'ON' } }, '',
    [['s3:PutObject', O], ['s3:PutObjectRetention', O], ['s3:PutObjectLegalHold', O]]],
  ['PostObject', {}, '', [['s3:PutObject', O]]],
  ['CopyObject', { copySource: { bucket: 'src', key: 's/k' } }, '', [['s3:PutObject', O], ['s3:GetObject', 'arn:aws:s3:::src/s/k']]],
  ['CopyObject', { copySource: { bucket: 'src', key: 's/k', versionId: 'v9' } }, '', [['s3:PutObject', O], ['s3:GetObjectVersion', 'arn:aws:s3:::src/s/k']]],
  ['UploadPartCopy', { copySource: { bucket: 'src', key: 's/k' } }, '', [['s3:PutObject', O], ['s3:GetObject', 'arn:aws:s3:::src/s/k']]],
  ['CreateMultipartUpload', {}, '', [['s3:PutObject', O]]],
  ['UploadPart', {}, 'partNumber=1&uploadId=u', [['s3:PutObject', O]]],
  ['CompleteMultipartUpload', {}, 'uploadId=u', [['s3:PutObject', O]]],
  ['AbortMultipartUpload', {}, 'uploadId=u', [['s3:AbortMultipartUpload', O]]],
  ['ListParts', {}, 'uploadId=u', [['s3:ListMultipartUploadParts', O]]],
  ['ListMultipartUploads', { key: undefined }, '', [['s3:ListBucketMultipartUploads', B]]],
  ['DeleteObject', {}, '', [['s3:DeleteObject', O]]],
  ['DeleteObject', {}, 'versionId=v1', [['s3:DeleteObjectVersion', O]]],
  ['DeleteObject', { headers: { 'x-amz-bypass-governance-retention': 'true' } }, '', [['s3:DeleteObject', O], ['s3:BypassGovernanceRetention', O]]],
  ['DeleteObjects', { key: undefined, deleteKeys: ['a', 'b/c'] }, '', [['s3:DeleteObject', 'arn:aws:s3:::b/a'], ['s3:DeleteObject', 'arn:aws:s3:::b/b/c']]],
  ['ListObjects', { key: undefined }, '', [['s3:ListBucket', B]]],
  ['ListObjectsV2', { key: undefined }, 'list-type=2', [['s3:ListBucket', B]]],
  ['ListObjectVersions', { key: undefined }, 'versions', [['s3:ListBucketVersions', B]]],
  ['ListBuckets', { bucket: undefined, key: undefined }, '', [['s3:ListAllMyBuckets', 'arn:aws:s3:::*']]],
  ['HeadBucket', { key: undefined }, '', [['s3:ListBucket', B]]],
  ['GetBucketLocation', { key: undefined }, '', [['s3:GetBucketLocation', B]]],
  ['CreateBucket', { key: undefined }, '', [['s3:CreateBucket', B]]],
  ['CreateBucket', { key: undefined, headers: { 'x-amz-bucket-object-lock-enabled': 'true' } }, '', [['s3:CreateBucket', B], ['s3:PutBucketObjectLockConfiguration', B], ['s3:PutBucketVersioning', B]]],
  ['DeleteBucket', { key: undefined }, '', [['s3:DeleteBucket', B]]],
  ['DeleteBucket', { key: undefined, headers: { 'x-minio-force-delete': 'true' } }, '', [['s3:DeleteBucket', B], ['s3:ForceDeleteBucket', B]]],
  ['PutObjectTagging', {}, 'tagging', [['s3:PutObjectTagging', O]]],
  ['GetObjectTagging', {}, 'tagging', [['s3:GetObjectTagging', O]]],
  ['GetObjectTagging', {}, 'tagging&versionId=v', [['s3:GetObjectVersionTagging', O]]],
  ['DeleteObjectTagging', {}, 'tagging', [['s3:DeleteObjectTagging', O]]],
  ['PutBucketTagging', { key: undefined }, '', [['s3:PutBucketTagging', B]]],
  ['GetBucketTagging', { key: undefined }, '', [['s3:GetBucketTagging', B]]],
  ['DeleteBucketTagging', { key: undefined }, '', [['s3:PutBucketTagging', B]]],
  ['PutBucketPolicy', { key: undefined }, '', [['s3:PutBucketPolicy', B]]],
  ['GetBucketPolicy', { key: undefined }, '', [['s3:GetBucketPolicy', B]]],
  ['DeleteBucketPolicy', { key: undefined }, '', [['s3:DeleteBucketPolicy', B]]],
  ['GetBucketPolicyStatus', { key: undefined }, '', [['s3:GetBucketPolicyStatus', B]]],
  ['PutBucketCors', { key: undefined }, '', [['s3:PutBucketCORS', B]]],
  ['GetBucketCors', { key: undefined }, '', [['s3:GetBucketCORS', B]]],
  ['DeleteBucketCors', { key: undefined }, '', [['s3:PutBucketCORS', B]]],
  ['PutBucketNotificationConfiguration', { key: undefined }, '', [['s3:PutBucketNotification', B]]],
  ['GetBucketNotificationConfiguration', { key: undefined }, '', [['s3:GetBucketNotification', B]]],
  ['ListenBucketNotification', { key: undefined }, '', [['s3:ListenBucketNotification', B]]],
  ['ListenNotification', { bucket: undefined, key: undefined }, '', [['s3:ListenNotification', 'arn:aws:s3:::*']]],
  ['GetBucketVersioning', { key: undefined }, '', [['s3:GetBucketVersioning', B]]],
  ['PutBucketVersioning', { key: undefined }, '', [['s3:PutBucketVersioning', B]]],
  ['PutBucketLifecycleConfiguration', { key: undefined }, '', [['s3:PutLifecycleConfiguration', B]]],
  ['DeleteBucketLifecycle', { key: undefined }, '', [['s3:PutLifecycleConfiguration', B]]],
  ['GetBucketEncryption', { key: undefined }, '', [['s3:GetEncryptionConfiguration', B]]],
  ['GetObjectLockConfiguration', { key: undefined }, '', [['s3:GetBucketObjectLockConfiguration', B]]],
  ['PutObjectRetention', {}, '', [['s3:PutObjectRetention', O]]],
  ['GetObjectLegalHold', {}, '', [['s3:GetObjectLegalHold', O]]],
  ['GetBucketAcl', { key: undefined }, '', [['s3:GetBucketAcl', B]]],
  ['SelectObjectContent', {}, '', [['s3:GetObject', O]]],
];

for (const [op, extra, query, expected] of table) {
  test(`action mapping: ${op}${query ? `?${query}` : ''}${extra.headers ? ' ' + Object.keys(extra.headers).join(',') : ''}`, () => {
    const checks = requiredChecks(req(op, extra, query));
    assert.deepEqual(checks.map((c) => [c.action, c.resource]), expected);
  });
}

test('every mapped op is in S3_OPERATIONS; unknown ops throw UnknownOperationError', () => {
  for (const [op] of table) assert.ok(S3_OPERATIONS.includes(op), op);
  assert.throws(() => requiredChecks(req('Frobnicate')), UnknownOperationError);
  assert.throws(() => requiredChecks(req('toString')), UnknownOperationError);
});

test('copy checks: destination and source buckets, existing tags on the source only', () => {
  const [dst, src] = requiredChecks(req('CopyObject', { copySource: { bucket: 'src', key: 's/k' } }));
  assert.equal(dst.bucket, 'b');
  assert.equal(src.bucket, 'src');
  assert.equal(dst.existingTags, false);
  assert.equal(src.existingTags, true);
});

test('condition context: global keys, headers, tags, claims', () => {
  const p: Principal = { ...tom, claims: { preferred_username: 'tommy' } };
  const r = req('PutObject', {
    principal: p,
    headers: { 'user-agent': 'aws-cli/2', referer: 'https://x', 'x-amz-server-side-encryption': 'AES256', 'x-amz-security-token': 'SECRET', 'x-amz-tagging': 'proj=a&Env=dev', 'x-amz-storage-class': 'STANDARD' },
    signatureAgeMs: 1234,
  });
  const ctx = contextToObject(requestContext(r, principalIdentity(p), new Date('2025-06-01T12:00:00.123Z')));
  assert.deepEqual(ctx['aws:sourceip'], ['10.0.0.9']);
  assert.deepEqual(ctx['aws:securetransport'], ['true']);
  assert.deepEqual(ctx['aws:currenttime'], ['2025-06-01T12:00:00Z']);
  assert.deepEqual(ctx['aws:epochtime'], ['1748779200']);
  assert.deepEqual(ctx['aws:useragent'], ['aws-cli/2']);
  assert.deepEqual(ctx['aws:referer'], ['https://x']);
  assert.deepEqual(ctx['aws:username'], ['tom']);
  assert.deepEqual(ctx['aws:userid'], ['U-tom']);
  assert.deepEqual(ctx['aws:principaltype'], ['User']);
  assert.deepEqual(ctx['aws:principalarn'], ['arn:aws:iam::000000000000:user/tom']);
  assert.deepEqual(ctx['aws:principalaccount'], ['000000000000']);
  assert.deepEqual(ctx['s3:authtype'], ['REST-HEADER']);
  assert.deepEqual(ctx['s3:signatureversion'], ['AWS4-HMAC-SHA256']);
  assert.deepEqual(ctx['s3:signatureage'], ['1234']);
  assert.deepEqual(ctx['s3:x-amz-server-side-encryption'], ['AES256']);
  assert.deepEqual(ctx['s3:x-amz-storage-class'], ['STANDARD']);
  assert.equal(ctx['s3:x-amz-security-token'], undefined, 'the session token is never a condition value');
  assert.deepEqual(ctx['s3:requestobjecttag/proj'], ['a']);
  assert.deepEqual(ctx['s3:requestobjecttagkeys'], ['proj', 'Env']);
  assert.deepEqual(ctx['jwt:preferred_username'], ['tommy']);
  assert.deepEqual(ctx['ldap:preferred_username'], ['tommy']);
});

test('condition context: principal types', () => {
  const types: [Principal, string, string | undefined][] = [
    [{ kind: 'root', username: 'admin', accessKey: 'admin', userId: 'admin' }, 'Account', 'arn:aws:iam::000000000000:root'],
    [tom, 'User', 'arn:aws:iam::000000000000:user/tom'],
    [{ kind: 'serviceAccount', username: 'tom', accessKey: 'SVC', userId: 'SVC', parentUser: 'tom' }, 'User', 'arn:aws:iam::000000000000:user/tom'],
    [{ kind: 'sts', username: 'tom', accessKey: 'STSKEY', userId: 'STSKEY', parentUser: 'tom' }, 'AssumedRole', 'arn:aws:sts::000000000000:assumed-role/tom/STSKEY'],
    [{ kind: 'anonymous', username: '', accessKey: '', userId: '' }, 'Anonymous', undefined],
  ];
  for (const [p, type, arn] of types) {
    const ctx = contextToObject(requestContext(req('GetObject', { principal: p, authType: p.kind === 'anonymous' ? 'ANONYMOUS' : 'REST-HEADER' }), principalIdentity(p)));
    assert.deepEqual(ctx['aws:principaltype'], [type], p.kind);
    assert.deepEqual(ctx['aws:principalarn'], arn === undefined ? undefined : [arn], p.kind);
    if (p.kind === 'anonymous') {
      assert.equal(ctx['aws:username'], undefined);
      assert.equal(ctx['s3:authtype'], undefined);
    }
  }
});

test('per-check context: s3:prefix/delimiter/max-keys on list checks, versionid, existing tags', () => {
  const r = req('ListObjectsV2', { key: undefined }, 'list-type=2&prefix=photos%2F&delimiter=%2F&max-keys=50');
  const [c] = requiredChecks(r);
  const base = requestContext(r, principalIdentity(tom));
  const ctx = contextToObject(checkContext(r, c, base));
  assert.deepEqual(ctx['s3:prefix'], ['photos/']);
  assert.deepEqual(ctx['s3:delimiter'], ['/']);
  assert.deepEqual(ctx['s3:max-keys'], ['50']);
  const noPrefix = req('ListObjects', { key: undefined });
  const c2 = requiredChecks(noPrefix)[0];
  assert.deepEqual(contextToObject(checkContext(noPrefix, c2, requestContext(noPrefix, principalIdentity(tom))))['s3:prefix'], ['']);
  const g = req('GetObject', {}, 'versionId=v7');
  const gc = requiredChecks(g)[0];
  const gctx = contextToObject(checkContext(g, gc, requestContext(g, principalIdentity(tom)), { Owner: 'tom' }));
  assert.deepEqual(gctx['s3:versionid'], ['v7']);
  assert.deepEqual(gctx['s3:existingobjecttag/owner'], ['tom']);
  assert.equal(gctx['s3:prefix'], undefined, 'no list keys on object checks');
});
