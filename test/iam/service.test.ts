import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '../../src/auth/principal.js';
import { IamService, type IamServiceOptions } from '../../src/iam/service.js';
import { isIamError } from '../../src/iam/errors.js';

const ROOT = { rootUser: 'admin', rootPassword: 'adminpass123' };

async function tempSys(): Promise<string> {
  return mkdtemp(join(tmpdir(), 's3gate-iam-'));
}

function clock(start = Date.parse('2024-06-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

async function open(sysDir: string, extra: Partial<IamServiceOptions> = {}): Promise<IamService> {
  return IamService.open({ sysDir, ...ROOT, bus: null, refreshIntervalMs: 0, ...extra });
}

async function principalOf(iam: IamService, ak: string, token?: string): Promise<Principal> {
  const c = await iam.lookup(ak, token);
  assert.ok(c, `no credential for ${ak}`);
  return c.principal;
}

function can(iam: IamService, p: Principal, action: string, resource?: string): Promise<boolean> {
  return iam.isAllowed(p, action, resource);
}

const OBJ = 'arn:aws:s3:::photos/a.jpg';

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isIamError(e) && e.code === code);
}

test('a new user can do nothing; readwrite lets him read and write; readonly only read', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled' });
    const cred = await iam.lookup('tom');
    assert.equal(cred?.secretKey, 'tomsecret1');
    const tom = cred!.principal;
    assert.equal(tom.kind, 'user');
    assert.equal(tom.username, 'tom');
    assert.equal(await can(iam, tom, 's3:GetObject', OBJ), false);
    await iam.setPolicies({ user: 'tom' }, ['readwrite']);
    assert.equal(await can(iam, tom, 's3:GetObject', OBJ), true);
    assert.equal(await can(iam, tom, 's3:PutObject', OBJ), true);
    await iam.setPolicies({ user: 'tom' }, ['readonly']);
    assert.equal(await can(iam, tom, 's3:GetObject', OBJ), true);
    assert.equal(await can(iam, tom, 's3:PutObject', OBJ), false);
    assert.match((await iam.explain(tom, 's3:GetObject', OBJ)).checks[0]!.reason, /policy 'readonly'/);
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('root is root: lookup, everything allowed, cannot be managed as a user', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    const c = await iam.lookup('admin');
    assert.equal(c?.secretKey, 'adminpass123');
    assert.equal(c?.principal.kind, 'root');
    assert.equal(iam.resolveIdentity(c!.principal), 'root');
    await rejects(iam.addUser('admin', 'whatever12'), 'NotAllowed');
    await rejects(iam.setUserStatus('admin', 'disabled'), 'NotAllowed');
    await rejects(iam.removeUser('admin'), 'NotAllowed');
    await rejects(iam.setPolicies({ user: 'admin' }, ['readonly']), 'NotAllowed');
    await rejects(iam.createAccessKey('admin'), 'NotAllowed');
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('disabled users and inactive keys do not authenticate; add-user on an existing user changes the password', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled' });
    await iam.setUserStatus('tom', 'disabled');
    assert.equal(await iam.lookup('tom'), undefined);
    await iam.setUserStatus('tom', 'enabled');
    await iam.addUser('tom', 'newsecret2');
    assert.equal((await iam.lookup('tom'))?.secretKey, 'newsecret2');
    const k = await iam.createAccessKey('tom');
    assert.equal(k.accessKey.length, 20);
    assert.equal(k.secretKey.length, 40);
    assert.equal((await iam.lookup(k.accessKey))?.principal.username, 'tom');
    await iam.updateAccessKey('tom', k.accessKey, 'Inactive');
    assert.equal(await iam.lookup(k.accessKey), undefined);
    await rejects(iam.createAccessKey('tom'), 'LimitExceeded');
    await iam.deleteAccessKey('tom', k.accessKey);
    assert.deepEqual(iam.listAccessKeys('tom').map((x) => x.accessKey), ['tom']);
    await rejects(iam.deleteAccessKey('tom', 'nope'), 'NoSuchAccessKey');
    await rejects(iam.addUser('xyz', 'short'), 'InvalidSecretKey');
    await rejects(iam.addUser('xy', 'longenough1'), 'InvalidAccessKey');
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('AWS-style user: created without keys, gets generated keys; names and keys never collide', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    const u = await iam.createUser('alice');
    assert.equal(u.accessKeys.length, 0);
    assert.match(u.arn, /^arn:aws:iam::\d{12}:user\/alice$/);
    await rejects(iam.createUser('alice'), 'UserAlreadyExists');
    const k = await iam.createAccessKey('alice');
    await rejects(iam.createUser(k.accessKey), 'AccessKeyInUse');
    await rejects(iam.addUser(k.accessKey, 'password123'), 'AccessKeyInUse');
    await rejects(iam.addServiceAccount({ parent: 'alice', accessKey: k.accessKey }), 'AccessKeyInUse');
    await rejects(iam.addServiceAccount({ parent: 'alice', accessKey: 'admin' }), 'AccessKeyInUse');
    await rejects(iam.createUser('bad/name'), 'InvalidArgument');
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('groups: membership grants, a disabled group revokes, non-empty groups are not removed', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled' });
    const tom = await principalOf(iam, 'tom');
    await rejects(iam.addGroupMembers('devs', ['ghost']), 'NoSuchUser');
    await iam.addGroupMembers('devs', ['tom']);
    await iam.attachPolicies({ group: 'devs' }, ['readwrite']);
    assert.deepEqual(iam.getUser('tom').memberOf, ['devs']);
    assert.equal(await can(iam, tom, 's3:PutObject', OBJ), true);
    await iam.setGroupStatus('devs', 'disabled');
    assert.equal(await can(iam, tom, 's3:PutObject', OBJ), false);
    await iam.setGroupStatus('devs', 'enabled');
    assert.equal(await can(iam, tom, 's3:PutObject', OBJ), true);
    await rejects(iam.removeGroup('devs'), 'GroupNotEmpty');
    await iam.removeGroupMembers('devs', ['tom']);
    assert.equal(await can(iam, tom, 's3:PutObject', OBJ), false);
    await iam.removeGroup('devs');
    await rejects(iam.removeGroup('devs'), 'NoSuchGroup');
    assert.deepEqual(iam.listGroups(), []);
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('custom policies: validated, listed, attached, and removing one unmaps it everywhere', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    await rejects(iam.putPolicy('bad', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Fly","Resource":"*"}]}'), 'MalformedPolicy');
    await rejects(iam.putPolicy('bad', 'not json'), 'MalformedPolicy');
    await rejects(iam.putPolicy('big', JSON.stringify({ Version: '2012-10-17', Statement: [], x: 'a'.repeat(21000) })), 'PolicyTooLarge');
    await rejects(iam.putPolicy('readonly', '{"Version":"2012-10-17","Statement":[]}'), 'NotAllowed');
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::photos/${aws:username}/*'] }] });
    await iam.putPolicy('home', doc);
    assert.equal(iam.getPolicy('home').document, doc);
    assert.ok(iam.listPolicies().some((p) => p.name === 'readonly' && p.builtin));
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled' });
    await iam.attachPolicies({ user: 'tom' }, ['home']);
    const tom = await principalOf(iam, 'tom');
    assert.equal(await can(iam, tom, 's3:GetObject', 'arn:aws:s3:::photos/tom/x'), true);
    assert.equal(await can(iam, tom, 's3:GetObject', 'arn:aws:s3:::photos/bob/x'), false);
    assert.deepEqual(await iam.attachPolicies({ user: 'tom' }, ['home']), []);
    await rejects(iam.attachPolicies({ user: 'tom' }, ['nope']), 'NoSuchPolicy');
    await iam.removePolicy('home');
    assert.deepEqual(iam.getUser('tom').policies, []);
    await rejects(iam.removePolicy('home'), 'NoSuchPolicy');
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('explicit deny in one policy beats allow in another', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    await iam.putPolicy('nodelete', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['s3:DeleteObject'], Resource: ['arn:aws:s3:::*'] }] }));
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled', policies: ['readwrite', 'nodelete'] });
    const tom = await principalOf(iam, 'tom');
    assert.equal(await can(iam, tom, 's3:PutObject', OBJ), true);
    assert.equal(await can(iam, tom, 's3:DeleteObject', OBJ), false);
    assert.match((await iam.explain(tom, 's3:DeleteObject', OBJ)).reason, /deny by policy 'nodelete'/);
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('service accounts follow the parent, can be narrowed, disabled, expire, and die with the parent', async () => {
  const sys = await tempSys();
  const c = clock();
  const iam = await open(sys, { now: c.now });
  try {
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled', policies: ['readwrite'] });
    const sa = await iam.addServiceAccount({ parent: 'tom', accessKey: 'tom-sc1', secretKey: 'abc123abc' });
    assert.equal(sa.impliedPolicy, true);
    const cred = await iam.lookup('tom-sc1');
    assert.equal(cred?.secretKey, 'abc123abc');
    const p = cred!.principal;
    assert.equal(p.kind, 'serviceAccount');
    assert.equal(p.parentUser, 'tom');
    assert.equal(await can(iam, p, 's3:PutObject', OBJ), true);
    await iam.setPolicies({ user: 'tom' }, ['readonly']);
    assert.equal(await can(iam, p, 's3:PutObject', OBJ), false, 'follows the parent');
    assert.equal(await can(iam, p, 's3:GetObject', OBJ), true);

    // Embedded policy narrows, never widens.
    await iam.setPolicies({ user: 'tom' }, ['readwrite']);
    const narrow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListAllMyBuckets'], Resource: ['arn:aws:s3:::*'] }] });
    await iam.updateServiceAccount('tom-sc1', { policy: narrow });
    assert.equal(await can(iam, p, 's3:GetObject', OBJ), true);
    assert.equal(await can(iam, p, 's3:PutObject', OBJ), false);
    await iam.setPolicies({ user: 'tom' }, ['writeonly']);
    assert.equal(await can(iam, p, 's3:GetObject', OBJ), false, 'the embedded policy cannot grant what the parent lacks');
    await iam.updateServiceAccount('tom-sc1', { policy: null });
    assert.equal(iam.getServiceAccount('tom-sc1').impliedPolicy, true);

    await iam.updateServiceAccount('tom-sc1', { status: 'off' });
    assert.equal(await iam.lookup('tom-sc1'), undefined);
    await iam.updateServiceAccount('tom-sc1', { status: 'on' });
    await iam.setUserStatus('tom', 'disabled');
    assert.equal(await iam.lookup('tom-sc1'), undefined, 'disabled parent disables it');
    await iam.setUserStatus('tom', 'enabled');

    await rejects(iam.addServiceAccount({ parent: 'tom', accessKey: 'ab' }), 'InvalidAccessKey');
    await rejects(iam.addServiceAccount({ parent: 'tom', secretKey: 'x'.repeat(41) }), 'InvalidSecretKey');
    await rejects(iam.addServiceAccount({ parent: 'ghost' }), 'NoSuchUser');
    const exp = await iam.addServiceAccount({ parent: 'tom', expiration: new Date(c.now() + 60_000), name: 'ci' });
    assert.ok(await iam.lookup(exp.accessKey));
    c.advance(61_000);
    assert.equal(await iam.lookup(exp.accessKey), undefined, 'expired');
    assert.deepEqual(iam.listServiceAccounts('tom').map((s) => s.accessKey).sort(), [exp.accessKey, 'tom-sc1'].sort());

    await iam.removeUser('tom');
    assert.equal(await iam.lookup('tom-sc1'), undefined);
    assert.deepEqual(iam.listServiceAccounts('tom'), []);
    // A re-created tom does not inherit anything.
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled' });
    assert.equal(await iam.lookup('tom-sc1'), undefined);
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('state persists across a new service instance; files are plain JSON under iam/', async () => {
  const sys = await tempSys();
  const a = await open(sys);
  await a.addUser('tom', 'tomsecret1', { status: 'enabled', policies: ['readonly'] });
  await a.addGroupMembers('devs', ['tom']);
  await a.putPolicy('p1', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}');
  await a.addServiceAccount({ parent: 'tom', accessKey: 'tomsvc', secretKey: 'tomsvcsecret' });
  a.close();
  try {
    const b = await open(sys);
    assert.deepEqual(b.getUser('tom').policies, ['readonly']);
    assert.deepEqual(b.getGroup('devs').members, ['tom']);
    assert.ok(b.getPolicy('p1'));
    assert.equal((await b.lookup('tomsvc'))?.secretKey, 'tomsvcsecret');
    b.close();
    assert.deepEqual((await readdir(join(sys, 'iam', 'users'))).sort(), ['tom.json']);
    const doc = JSON.parse(await readFile(join(sys, 'iam', 'users', 'tom.json'), 'utf8'));
    assert.equal(doc.version, 1);
    assert.equal(doc.name, 'tom');
    assert.deepEqual(await readdir(join(sys, 'iam', '.tmp')), [], 'no temp files left behind');
  } finally { await rm(sys, { recursive: true, force: true }); }
});

test('a corrupt document is ignored, not fatal', async () => {
  const sys = await tempSys();
  const a = await open(sys);
  await a.addUser('tom', 'tomsecret1', { status: 'enabled' });
  a.close();
  await writeFile(join(sys, 'iam', 'users', 'broken.json'), '{"version":1,');
  const logs: string[] = [];
  const b = await open(sys, { log: (_l, msg) => logs.push(msg) });
  try {
    assert.deepEqual(b.listUsers().map((u) => u.name), ['tom']);
    assert.ok(logs.some((m) => /not valid JSON/.test(m)));
  } finally { b.close(); await rm(sys, { recursive: true, force: true }); }
});

test('instances sharing the directory converge on refresh', async () => {
  const sys = await tempSys();
  const a = await open(sys);
  const b = await open(sys, { refreshIntervalMs: 50 });
  try {
    await a.addUser('tom', 'tomsecret1', { status: 'enabled' });
    assert.equal(await b.lookup('tom'), undefined, 'b has not refreshed yet');
    const deadline = Date.now() + 3000;
    while (!(await b.lookup('tom')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await b.lookup('tom'))?.secretKey, 'tomsecret1');
    await a.removeUser('tom');
    await b.reload();
    assert.equal(await b.lookup('tom'), undefined);
  } finally { a.close(); b.close(); await rm(sys, { recursive: true, force: true }); }
});

test('the bus applies a change in every subscriber before the write resolves', async () => {
  const sys = await tempSys();
  // A local bus standing in for node:cluster (same contract: delivers to everyone).
  const handlers = new Set<(p: unknown) => unknown>();
  const bus = {
    publish: async (_t: string, p: unknown) => { await Promise.all([...handlers].map((h) => h(p))); },
    subscribe: (_t: string, h: (p: unknown) => unknown) => { handlers.add(h); return () => handlers.delete(h); },
  };
  const a = await open(sys, { bus });
  const b = await open(sys, { bus });
  try {
    await a.addUser('tom', 'tomsecret1', { status: 'enabled' });
    // No waiting: the write resolves only after every subscriber applied it.
    assert.equal((await b.lookup('tom'))?.secretKey, 'tomsecret1');
  } finally { a.close(); b.close(); await rm(sys, { recursive: true, force: true }); }
});

test('inline policies are custom policies owned by the user and removed with it', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    await iam.createUser('bob');
    const doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::*"}]}';
    await iam.putInlinePolicy('user', 'bob', 'put', doc);
    assert.deepEqual(iam.listInlinePolicies('user', 'bob'), ['put']);
    assert.equal(iam.getInlinePolicy('user', 'bob', 'put'), doc);
    assert.deepEqual(iam.getUser('bob').policies, ['user:bob:put']);
    const k = await iam.createAccessKey('bob');
    const bob = await principalOf(iam, k.accessKey);
    assert.equal(await can(iam, bob, 's3:PutObject', OBJ), true);
    await iam.deleteInlinePolicy('user', 'bob', 'put');
    assert.equal(await can(iam, bob, 's3:PutObject', OBJ), false);
    await iam.putInlinePolicy('user', 'bob', 'put', doc);
    await iam.removeUser('bob');
    await rejects(Promise.resolve().then(() => iam.getPolicy('user:bob:put')), 'NoSuchPolicy');
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});

test('the exposed authorizer decides S3 requests from IAM identities (per-user folders)', async () => {
  const sys = await tempSys();
  const iam = await open(sys);
  try {
    await iam.putPolicy('home', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: ['arn:aws:s3:::home/${aws:username}/*'] }] }));
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled', policies: ['home'] });
    await iam.addServiceAccount({ parent: 'tom', accessKey: 'tomsvc', secretKey: 'tomsvcsecret' });
    const req = (principal: Principal, op: string, key: string) => ({
      op, bucket: 'home', key, principal, query: new URLSearchParams(), headers: {}, sourceIp: '127.0.0.1', secure: false,
      authType: 'REST-HEADER' as const, signatureVersion: 'AWS4-HMAC-SHA256',
    });
    for (const ak of ['tom', 'tomsvc']) {
      const p = await principalOf(iam, ak);
      await iam.authorizer.authorize(req(p, 'GetObject', 'tom/a.txt'));
      await iam.authorizer.authorize(req(p, 'PutObject', 'tom/b.txt'));
      await assert.rejects(iam.authorizer.authorize(req(p, 'GetObject', 'bob/a.txt')), /Access Denied/);
    }
    await iam.authorizer.authorize(req(iam.rootPrincipal(), 'DeleteObject', 'bob/a.txt'));
  } finally { iam.close(); await rm(sys, { recursive: true, force: true }); }
});
