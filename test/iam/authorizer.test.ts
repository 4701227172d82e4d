import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPolicyAuthorizer, type IdentityPolicies } from '../../src/iam/authorizer.js';
import { BUILTIN_POLICIES, parsePolicy, setAnonymousLevel, type CompiledPolicy } from '../../src/policy/index.js';
import type { AuthzRequest } from '../../src/server/authorizer.js';
import { ANONYMOUS, type Principal } from '../../src/auth/principal.js';
import { S3Error } from '../../src/server/errors.js';

const V = '2012-10-17';
const tom: Principal = { kind: 'user', username: 'tom', accessKey: 'tom', userId: 'U-tom' };
const root: Principal = { kind: 'root', username: 'admin', accessKey: 'admin', userId: 'admin' };
const svc: Principal = { kind: 'serviceAccount', username: 'tom', accessKey: 'SVCKEY', userId: 'SVCKEY', parentUser: 'tom' };
const sts: Principal = { kind: 'sts', username: 'tom', accessKey: 'STSKEY', userId: 'STSKEY', parentUser: 'tom' };

function policy(name: string, statements: unknown[], kind: 'identity' | 'session' = 'identity'): CompiledPolicy {
  return parsePolicy({ Version: V, Statement: statements }, { name, kind });
}
function bucketPolicy(bucket: string, statements: unknown[] | string): CompiledPolicy {
  return parsePolicy(typeof statements === 'string' ? statements : { Version: V, Statement: statements }, { name: `bucket-policy:${bucket}`, kind: 'bucket', bucket });
}

function req(op: string, principal: Principal, extra: Partial<AuthzRequest> = {}, query = ''): AuthzRequest {
  return {
    op, bucket: 'b', key: 'k.txt', principal, query: new URLSearchParams(query), headers: {}, sourceIp: '127.0.0.1', secure: false,
    authType: principal.kind === 'anonymous' ? 'ANONYMOUS' : 'REST-HEADER', signatureVersion: principal.kind === 'anonymous' ? '' : 'AWS4-HMAC-SHA256', ...extra,
  };
}

interface World { identities: Map<string, IdentityPolicies>; buckets: Map<string, CompiledPolicy> }

function setup(world: Partial<World> = {}, log?: (l: Record<string, unknown>) => void) {
  const identities = world.identities ?? new Map<string, IdentityPolicies>();
  const buckets = world.buckets ?? new Map<string, CompiledPolicy>();
  const resolved: string[] = [];
  const authz = createPolicyAuthorizer({
    identityPolicies: (p) => { resolved.push(p.accessKey); return identities.get(p.accessKey) ?? { policies: [] }; },
    bucketPolicy: (b) => buckets.get(b),
    log: log ?? (() => {}),
  });
  return { authz, identities, buckets, resolved };
}

async function denied(p: Promise<void>) {
  await assert.rejects(p, (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied' && e.status === 403);
}

test('root (as the resolver confirms) may do everything', async () => {
  const authz = createPolicyAuthorizer({ identityPolicies: (p) => (p.kind === 'root' && p.accessKey === 'admin' ? 'root' : { policies: [] }) });
  await authz.authorize(req('DeleteBucket', root, { key: undefined }));
  await authz.authorize(req('PutBucketPolicy', root, { key: undefined }));
  const e = await authz.explainAction({ principal: root, action: 'admin:CreateUser' });
  assert.equal(e.allowed, true);
  assert.equal(e.checks[0].reason, 'root may do everything');
  // A root-kind principal the resolver does not recognise gets nothing.
  await denied(authz.authorize(req('GetObject', { ...root, accessKey: 'old-root' })));
});

test("the IAM service's { name, policy } pairs are accepted as they are", async () => {
  const authz = createPolicyAuthorizer({ identityPolicies: () => ({ policies: [{ name: 'readonly', policy: BUILTIN_POLICIES.get('readonly')! }] }) });
  await authz.authorize(req('GetObject', tom));
  await denied(authz.authorize(req('PutObject', tom)));
});

test('a new user can do nothing; readwrite lets him read and write; readonly cannot list', async () => {
  const { authz, identities } = setup();
  await denied(authz.authorize(req('GetObject', tom)));
  await denied(authz.authorize(req('ListBuckets', tom, { bucket: undefined, key: undefined })));
  identities.set('tom', { policies: [BUILTIN_POLICIES.get('readwrite')!] });
  await authz.authorize(req('PutObject', tom));
  await authz.authorize(req('GetObject', tom));
  await authz.authorize(req('ListObjectsV2', tom, { key: undefined }));
  identities.set('tom', { policies: [BUILTIN_POLICIES.get('readonly')!] });
  await authz.authorize(req('GetObject', tom));
  await authz.authorize(req('HeadObject', tom));
  await denied(authz.authorize(req('ListObjectsV2', tom, { key: undefined })));
  await denied(authz.authorize(req('PutObject', tom)));
});

test('explicit deny in a group policy beats the user allow, and explain says which', async () => {
  const deny = policy('no-secrets', [{ Sid: 'NoSecrets', Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/secret/*' }]);
  const { authz } = setup({ identities: new Map([['tom', { policies: [BUILTIN_POLICIES.get('readwrite')!, deny] }]]) });
  await authz.authorize(req('GetObject', tom, { key: 'open.txt' }));
  await denied(authz.authorize(req('GetObject', tom, { key: 'secret/x' })));
  const e = await authz.explain(req('GetObject', tom, { key: 'secret/x' }));
  assert.equal(e.allowed, false);
  assert.deepEqual(e.checks[0].decidedBy, { policy: 'no-secrets', sid: 'NoSecrets', index: 0, effect: 'Deny', source: 'identity' });
  assert.equal(e.reason, "explicit deny by policy 'no-secrets' statement 'NoSecrets' #0");
  const ok = await authz.explain(req('GetObject', tom, { key: 'open.txt' }));
  assert.equal(ok.checks[0].decidedBy?.policy, 'readwrite');
  assert.equal(ok.checks[0].reason, "allowed by policy 'readwrite' statement #0");
  const none = await authz.explain(req('GetObject', { ...tom, accessKey: 'ann', username: 'ann' }));
  assert.equal(none.reason, 'no statement allowed');
});

test('service account with an embedded policy: intersection with the parent', async () => {
  const embedded = policy('svc-embedded', [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::b/public/*' }], 'session');
  const { authz, identities } = setup({ identities: new Map([['SVCKEY', { policies: [BUILTIN_POLICIES.get('readwrite')!], sessionPolicy: embedded }]]) });
  await authz.authorize(req('PutObject', svc, { key: 'public/a' }));
  await denied(authz.authorize(req('PutObject', svc, { key: 'private/a' })));
  const e = await authz.explain(req('PutObject', svc, { key: 'private/a' }));
  assert.equal(e.reason, "session policy 'svc-embedded' does not allow s3:PutObject");
  // The parent becomes readonly: the service account follows at once.
  identities.set('SVCKEY', { policies: [BUILTIN_POLICIES.get('readonly')!], sessionPolicy: embedded });
  await authz.authorize(req('GetObject', svc, { key: 'public/a' }));
  await denied(authz.authorize(req('PutObject', svc, { key: 'public/a' })));
});

test('STS session policy narrows, and a deny in it wins', async () => {
  const session = policy('session-policy', [
    { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
    { Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' },
  ], 'session');
  const { authz } = setup({ identities: new Map([['STSKEY', { policies: [BUILTIN_POLICIES.get('readwrite')!], sessionPolicy: session }]]) });
  await authz.authorize(req('GetObject', sts));
  await denied(authz.authorize(req('GetObject', sts, { bucket: 'other' })));
  await denied(authz.authorize(req('DeleteObject', sts)));
  const e = await authz.explain(req('DeleteObject', sts));
  assert.equal(e.checks[0].decidedBy?.source, 'session');
  // A session policy grants nothing the parent does not have.
  const { authz: a2 } = setup({ identities: new Map([['STSKEY', { policies: [], sessionPolicy: session }]]) });
  await denied(a2.authorize(req('GetObject', sts)));
});

test('anonymous: allowed exactly where the bucket policy allows Principal "*"', async () => {
  const buckets = new Map([['b', bucketPolicy('b', setAnonymousLevel(undefined, 'download', 'b', 'pub/')!)]]);
  const { authz, resolved } = setup({ buckets });
  await authz.authorize(req('GetObject', ANONYMOUS, { key: 'pub/file.txt' }));
  await authz.authorize(req('ListObjectsV2', ANONYMOUS, { key: undefined }, 'list-type=2&prefix=pub%2F'));
  await denied(authz.authorize(req('ListObjectsV2', ANONYMOUS, { key: undefined }, 'list-type=2')));
  await denied(authz.authorize(req('GetObject', ANONYMOUS, { key: 'private.txt' })));
  await denied(authz.authorize(req('PutObject', ANONYMOUS, { key: 'pub/new.txt' })));
  await denied(authz.authorize(req('GetObject', ANONYMOUS, { bucket: 'other', key: 'pub/file.txt' })));
  await denied(authz.authorize(req('ListBuckets', ANONYMOUS, { bucket: undefined, key: undefined })));
  assert.deepEqual(resolved, [], 'anonymous never asks IAM');
  const e = await authz.explain(req('GetObject', ANONYMOUS, { key: 'pub/file.txt' }));
  assert.equal(e.checks[0].decidedBy?.source, 'bucket');
  assert.equal(e.checks[0].decidedBy?.policy, 'bucket-policy:b');
});

test('bucket policy grants a user without identity policies; its deny beats identity allows', async () => {
  const buckets = new Map([['b', bucketPolicy('b', [
    { Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::000000000000:user/tom'] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
    { Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  ])]]);
  const { authz, identities } = setup({ buckets });
  await authz.authorize(req('GetObject', tom));
  await denied(authz.authorize(req('GetObject', { ...tom, username: 'ann', accessKey: 'ann' })));
  identities.set('tom', { policies: [BUILTIN_POLICIES.get('readwrite')!] });
  await denied(authz.authorize(req('DeleteObject', tom)));
  await authz.authorize(req('DeleteObject', tom, { secure: true }));
  const e = await authz.explain(req('DeleteObject', tom));
  assert.equal(e.checks[0].decidedBy?.source, 'bucket');
  assert.equal(e.checks[0].decidedBy?.effect, 'Deny');
});

test('bucket-policy grant to the parent is narrowed by the session policy; a grant to the key itself is not', async () => {
  const session = policy('session', [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b' }], 'session');
  const viaParent = new Map([['b', bucketPolicy('b', [{ Effect: 'Allow', Principal: { AWS: 'tom' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }])]]);
  const a = setup({ buckets: viaParent, identities: new Map([['STSKEY', { policies: [], sessionPolicy: session }]]) });
  await denied(a.authz.authorize(req('GetObject', sts)));
  const a2 = setup({ buckets: viaParent, identities: new Map([['STSKEY', { policies: [] }]]) });
  await a2.authz.authorize(req('GetObject', sts));
  const direct = new Map([['b', bucketPolicy('b', [{ Effect: 'Allow', Principal: { AWS: 'STSKEY' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }])]]);
  const a3 = setup({ buckets: direct, identities: new Map([['STSKEY', { policies: [], sessionPolicy: session }]]) });
  await a3.authz.authorize(req('GetObject', sts));
});

test('CopyObject needs PutObject on the destination and GetObject on the source', async () => {
  const writer = policy('writer', [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }]);
  const reader = policy('reader', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::src/*' }]);
  const { authz, identities } = setup({ identities: new Map([['tom', { policies: [writer] }]]) });
  const copy = req('CopyObject', tom, { copySource: { bucket: 'src', key: 'a' } });
  await denied(authz.authorize(copy));
  const e = await authz.explain(copy);
  assert.deepEqual(e.checks.map((c) => [c.action, c.allowed]), [['s3:PutObject', true], ['s3:GetObject', false]]);
  identities.set('tom', { policies: [writer, reader] });
  await authz.authorize(copy);
});

test('DeleteObjects: every key is checked; explain tells which are denied', async () => {
  const p = policy('tmp-only', [{ Effect: 'Allow', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/tmp/*' }]);
  const { authz } = setup({ identities: new Map([['tom', { policies: [p] }]]) });
  await authz.authorize(req('DeleteObjects', tom, { key: undefined, deleteKeys: ['tmp/a', 'tmp/b'] }));
  const r = req('DeleteObjects', tom, { key: undefined, deleteKeys: ['tmp/a', 'keep/b'] });
  await denied(authz.authorize(r));
  const e = await authz.explain(r);
  assert.deepEqual(e.checks.filter((c) => !c.allowed).map((c) => c.key), ['keep/b']);
  await denied(authz.authorize(req('DeleteObjects', tom, { key: undefined, deleteKeys: [] })));
});

test('s3:ExistingObjectTag: tags are loaded lazily and only when a policy reads them', async () => {
  const tagged = policy('tagged', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEquals: { 's3:ExistingObjectTag/owner': '${aws:username}' } } }]);
  const { authz, identities } = setup({ identities: new Map([['tom', { policies: [tagged] }]]) });
  let loads = 0;
  const tags = (t: Record<string, string>) => async () => { loads++; return t; };
  await authz.authorize(req('GetObject', tom, { existingObjectTags: tags({ owner: 'tom' }) }));
  await denied(authz.authorize(req('GetObject', tom, { existingObjectTags: tags({ owner: 'ann' }) })));
  await denied(authz.authorize(req('GetObject', tom)));
  assert.equal(loads, 2);
  identities.set('tom', { policies: [BUILTIN_POLICIES.get('readwrite')!] });
  await authz.authorize(req('GetObject', tom, { existingObjectTags: tags({}) }));
  assert.equal(loads, 2, 'readwrite does not read tags, so none are loaded');
});

test('conditions see the request: source IP, TLS, user agent, prefix', async () => {
  const p = policy('office', [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: {
    IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, Bool: { 'aws:SecureTransport': 'true' }, StringLike: { 'aws:UserAgent': 'aws-cli/*', 's3:prefix': 'home/${aws:username}/*' },
  } }]);
  const { authz } = setup({ identities: new Map([['tom', { policies: [p] }]]) });
  const ok = req('ListObjectsV2', tom, { key: undefined, sourceIp: '10.1.1.1', secure: true, headers: { 'user-agent': 'aws-cli/2.15' } }, 'prefix=home%2Ftom%2Fdocs');
  await authz.authorize(ok);
  await denied(authz.authorize({ ...ok, sourceIp: '192.168.1.1' }));
  await denied(authz.authorize({ ...ok, secure: false }));
  await denied(authz.authorize({ ...ok, headers: { 'user-agent': 'curl/8' } }));
  await denied(authz.authorize({ ...ok, query: new URLSearchParams('prefix=home%2Fann%2F') }));
});

test('an unmapped operation is denied with a reason', async () => {
  const { authz } = setup({ identities: new Map([['tom', { policies: [BUILTIN_POLICIES.get('readwrite')!] }]]) });
  await denied(authz.authorize(req('Frobnicate', tom)));
  const e = await authz.explain(req('Frobnicate', tom));
  assert.match(e.reason, /no authorization mapping for S3 operation 'Frobnicate'/);
});

test('explainAction: raw action, resource and context', async () => {
  const p = policy('ops', [
    { Sid: 'Diag', Effect: 'Allow', Action: 'admin:ServerInfo' },
    { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
  ]);
  const { authz } = setup({ identities: new Map([['tom', { policies: [p] }]]) });
  const a = await authz.explainAction({ principal: tom, action: 'admin:ServerInfo' });
  assert.equal(a.allowed, true);
  assert.equal(a.checks[0].decidedBy?.sid, 'Diag');
  assert.equal((await authz.explainAction({ principal: tom, action: 'admin:CreateUser' })).allowed, false);
  assert.equal((await authz.explainAction({ principal: tom, action: 's3:GetObject', resource: 'arn:aws:s3:::b/x', context: { 'aws:SourceIp': '10.9.9.9' } })).allowed, true);
  assert.equal((await authz.explainAction({ principal: tom, action: 's3:GetObject', resource: 'arn:aws:s3:::b/x', context: { 'aws:SourceIp': '8.8.8.8' } })).allowed, false);
  const e = await authz.explainAction({ principal: tom, action: 's3:GetObject', resource: 'arn:aws:s3:::b/x' });
  assert.equal(e.checks[0].bucket, 'b');
  assert.equal(e.checks[0].key, 'x');
});

test('denials are logged (debug) with the explanation, never a secret', async () => {
  const lines: Record<string, unknown>[] = [];
  const { authz } = setup({}, (l) => lines.push(l));
  await denied(authz.authorize(req('GetObject', tom, { headers: { 'x-amz-security-token': 'TOPSECRET' } })));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, 'debug');
  assert.equal(lines[0].msg, 'access denied');
  assert.equal(lines[0].reason, 'no statement allowed');
  assert.ok(!JSON.stringify(lines[0]).includes('TOPSECRET'));
  await authz.isAllowed(req('GetObject', tom));
  assert.equal(lines.length, 1, 'isAllowed does not log');
});

test('bucket policies may be looked up asynchronously (cache miss)', async () => {
  const bp = bucketPolicy('b', [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]);
  const authz = createPolicyAuthorizer({ identityPolicies: () => ({ policies: [] }), bucketPolicy: async () => bp });
  await authz.authorize(req('GetObject', ANONYMOUS));
});
