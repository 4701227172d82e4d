/**
 * The madmin router driven with requests built as the spec documents them for the 2021
 * mc (RELEASE.2021-04-22T17-40-00Z, madmin-go/0.0.1) and for current mc (madmin-go
 * v3), against a real IamService and ConfigService on a temp dir.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IamService } from '../../src/iam/service.js';
import { createConfigService, type ConfigService } from '../../src/config/service.js';
import { notifySubsystems } from '../../src/events/notify-subsystems.js';
import { createAdminHandler, type AdminHandler } from '../../src/admin/madmin/router.js';
import type { AdminResponse } from '../../src/admin/madmin/call.js';
import { decryptData, encryptData, type AlgorithmId } from '../../src/admin/madmin/crypto.js';
import { closeArgon2Pool } from '../../src/admin/madmin/argon2-derive.js';
import type { Principal } from '../../src/auth/principal.js';

const MC21 = 'MinIO (linux; amd64) madmin-go/0.0.1 mc/RELEASE.2021-04-22T17-40-00Z';
const MCM = 'MinIO (linux; amd64) madmin-go/3.0.70 mc/RELEASE.2025-08-13T08-35-41Z';
const ROOT = 'minioadmin';
const ROOT_SECRET = 'minioadmin-secret';

let dir: string;
let iam: IamService;
let config: ConfigService;
let handler: AdminHandler;
const statuses = [{ arn: 'arn:minio:sqs::1:redis', type: 'redis', id: '1', online: true, queued: 0, delivered: 3, accepted: 3, sending: 0, failedAttempts: 0, overflow: 0, writeErrors: 0, queueDir: '', queueLimit: 0 }];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'madmin-router-'));
  iam = await IamService.open({ sysDir: dir, rootUser: ROOT, rootPassword: ROOT_SECRET, bus: null, refreshIntervalMs: 0, log: () => {} });
  const specs = (await notifySubsystems()).filter((s) => ['notify_redis', 'notify_webhook', 'notify_mysql', 'notify_postgres'].includes(s.name));
  config = await createConfigService({ sysDir: dir, subsystems: specs, env: {}, refreshIntervalMs: 3_600_000 });
  handler = createAdminHandler({
    iam, config, region: '', deploymentId: 'dep-1', version: 'test', startedAt: new Date(Date.now() - 5000),
    events: { listTargetArns: () => ['arn:minio:sqs::1:redis'], status: async () => statuses },
    usage: async () => ({ buckets: 2, objects: 5, size: 10 }),
  });
});

after(async () => {
  config.close();
  iam.close();
  await closeArgon2Pool();
  rmSync(dir, { recursive: true, force: true });
});

interface Caller { principal: Principal; secret: string; ua: string }
const root = (ua = MC21): Caller => ({ principal: iam.rootPrincipal(), secret: ROOT_SECRET, ua });
async function as(accessKey: string, secret: string, ua = MC21): Promise<Caller> {
  const cred = await iam.lookup(accessKey);
  assert.ok(cred, `no credential for ${accessKey}`);
  return { principal: cred.principal, secret, ua };
}

async function call(c: Caller, method: string, op: string, opts: { query?: Record<string, string>; body?: Buffer | string; version?: string } = {}): Promise<AdminResponse> {
  return handler.handle({
    method, version: opts.version ?? 'v3', op, query: new URLSearchParams(opts.query ?? {}),
    body: Buffer.from(opts.body ?? ''), principal: c.principal, secretKey: c.secret, userAgent: c.ua, requestId: 'req-1',
  });
}
const enc = (c: Caller, v: unknown, alg: AlgorithmId = 0) => encryptData(c.secret, Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), { algorithm: alg });
async function dec(c: Caller, r: AdminResponse): Promise<any> {
  assert.equal(r.status, 200, r.body.toString());
  const { plaintext, algorithm } = await decryptData(c.secret, r.body);
  assert.notEqual(algorithm, 2, 'replies never use the PBKDF2 id the 2021 mc cannot open');
  const text = plaintext.toString();
  try { return JSON.parse(text); } catch { return text; }
}
function err(r: AdminResponse, status: number, code: string): any {
  assert.equal(r.status, status, r.body.toString());
  const e = JSON.parse(r.body.toString());
  assert.equal(e.Code, code);
  assert.equal(typeof e.Message, 'string');
  assert.equal(e.RequestId, 'req-1');
  assert.equal(e.HostId, 'dep-1');
  return e;
}

test('2021 mc user journey: add, list (enveloped), info, disable/enable, remove', async () => {
  const c = root();
  let r = await call(c, 'PUT', 'add-user', { query: { accessKey: 'tom' }, body: await enc(c, { secretKey: 'abc123abc', status: 'enabled' }) });
  assert.equal(r.status, 200); assert.equal(r.body.length, 0);
  assert.deepEqual(Object.keys(await dec(c, await call(c, 'GET', 'list-users'))), ['tom']);
  assert.equal((await dec(c, await call(c, 'GET', 'list-users'))).tom.status, 'enabled');
  r = await call(c, 'GET', 'user-info', { query: { accessKey: 'tom' } });
  assert.equal(JSON.parse(r.body.toString()).status, 'enabled');
  assert.equal((await call(c, 'PUT', 'set-user-status', { query: { accessKey: 'tom', status: 'disabled' } })).status, 200);
  assert.equal(JSON.parse((await call(c, 'GET', 'user-info', { query: { accessKey: 'tom' } })).body.toString()).status, 'disabled');
  assert.equal(await iam.lookup('tom'), undefined, 'a disabled user cannot sign');
  assert.equal((await call(c, 'PUT', 'set-user-status', { query: { accessKey: 'tom', status: 'enabled' } })).status, 200);
  err(await call(c, 'PUT', 'set-user-status', { query: { accessKey: 'tom', status: 'paused' } }), 400, 'XMinioAdminInvalidArgument');
  err(await call(c, 'PUT', 'set-user-status', { query: { accessKey: ROOT, status: 'disabled' } }), 400, 'InvalidRequest');
  // add-user without "status":"enabled" stores a disabled user (pitfall 10).
  await call(c, 'PUT', 'add-user', { query: { accessKey: 'jerry' }, body: await enc(c, { secretKey: 'jerry-secret' }) });
  assert.equal(iam.getUser('jerry').status, 'disabled');
  assert.equal((await call(c, 'DELETE', 'remove-user', { query: { accessKey: 'jerry' } })).status, 200);
  err(await call(c, 'GET', 'user-info', { query: { accessKey: 'jerry' } }), 404, 'XMinioAdminNoSuchUser');
  err(await call(c, 'DELETE', 'remove-user', { query: { accessKey: 'jerry' } }), 404, 'XMinioAdminNoSuchUser');
  err(await call(c, 'PUT', 'add-user', { query: { accessKey: ROOT }, body: await enc(c, { secretKey: 'whatever1', status: 'enabled' }) }), 403, 'XMinioInvalidIAMCredentials');
  err(await call(c, 'GET', 'user-info', { query: { accessKey: ROOT } }), 404, 'XMinioAdminNoSuchUser');
});

test('envelopes: all three ids accepted on input; a wrong secret or plain body is 400 ConfigBadJSON', async () => {
  const c = root();
  for (const alg of [0, 1, 2] as const) {
    const r = await call(c, 'PUT', 'add-user', { query: { accessKey: `alg${alg}` }, body: await enc(c, { secretKey: 'abcdefgh1', status: 'enabled' }, alg) });
    assert.equal(r.status, 200, r.body.toString());
  }
  const wrong = await encryptData('not-the-secret', Buffer.from('{"secretKey":"abcdefgh1","status":"enabled"}'));
  err(await call(c, 'PUT', 'add-user', { query: { accessKey: 'x1' }, body: wrong }), 400, 'XMinioAdminConfigBadJSON');
  err(await call(c, 'PUT', 'add-user', { query: { accessKey: 'x1' }, body: '{"secretKey":"abcdefgh1"}' }), 400, 'XMinioAdminConfigBadJSON');
  err(await call(c, 'PUT', 'add-user', { query: { accessKey: 'x1' }, body: Buffer.alloc(262273) }), 400, 'XMinioAdminConfigTooLarge');
  assert.equal(iam.hasUser('x1'), false);
});

test('2021 canned policies: add from JSON, list (v3 objects, v2 base64), info, set user=..., remove', async () => {
  const c = root();
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['arn:aws:s3:::*'] }] };
  assert.equal((await call(c, 'PUT', 'add-canned-policy', { query: { name: 'mywrite' }, body: JSON.stringify(doc) })).status, 200);
  const list = JSON.parse((await call(c, 'GET', 'list-canned-policies')).body.toString());
  assert.deepEqual(list.mywrite, doc);
  assert.deepEqual(list.readonly.Statement[0].Action, ['s3:GetBucketLocation', 's3:GetObject']);
  const v2 = JSON.parse((await call(c, 'GET', 'list-canned-policies', { version: 'v2' })).body.toString());
  assert.deepEqual(JSON.parse(Buffer.from(v2.mywrite, 'base64').toString()), doc);
  const info = (await call(c, 'GET', 'info-canned-policy', { query: { name: 'mywrite' } })).body.toString();
  assert.ok(info.endsWith('\n'));
  assert.deepEqual(JSON.parse(info), doc);
  const infoV2 = JSON.parse((await call(c, 'GET', 'info-canned-policy', { query: { name: 'mywrite', v: '2' } })).body.toString());
  assert.equal(infoV2.PolicyName, 'mywrite');
  assert.deepEqual(infoV2.Policy, doc);
  err(await call(c, 'GET', 'info-canned-policy', { query: { name: 'nope' } }), 404, 'XMinioAdminNoSuchPolicy');
  err(await call(c, 'PUT', 'add-canned-policy', { query: { name: 'bad' }, body: '{"Statement":' }), 400, 'XMinioMalformedIAMPolicy');
  err(await call(c, 'PUT', 'add-canned-policy', { query: { name: 'bad' }, body: '{"Statement":[]}' }), 400, 'MalformedPolicy');

  // mc admin policy set A readwrite user=tom (2021): replaces the list.
  let r = await call(c, 'PUT', 'set-user-or-group-policy', { query: { policyName: 'readwrite,mywrite', userOrGroup: 'tom', isGroup: 'false' } });
  assert.equal(r.status, 200);
  assert.equal((await dec(c, await call(c, 'GET', 'list-users'))).tom.policyName, 'readwrite,mywrite');
  r = await call(c, 'PUT', 'set-user-or-group-policy', { query: { policyName: 'readonly', userOrGroup: 'tom', isGroup: 'false' } });
  assert.equal(JSON.parse((await call(c, 'GET', 'user-info', { query: { accessKey: 'tom' } })).body.toString()).policyName, 'readonly');
  err(await call(c, 'PUT', 'set-user-or-group-policy', { query: { policyName: 'nope', userOrGroup: 'tom', isGroup: 'false' } }), 404, 'XMinioAdminNoSuchPolicy');
  err(await call(c, 'PUT', 'set-user-or-group-policy', { query: { policyName: 'readonly', userOrGroup: 'ghost', isGroup: 'false' } }), 404, 'XMinioAdminNoSuchUser');
  err(await call(c, 'PUT', 'set-user-or-group-policy', { query: { policyName: 'readonly', userOrGroup: 'ghosts', isGroup: 'true' } }), 404, 'XMinioAdminNoSuchGroup');

  // Removing a policy unmaps it; removing an unknown one is fine.
  await call(c, 'PUT', 'set-user-or-group-policy', { query: { policyName: 'mywrite,readonly', userOrGroup: 'tom', isGroup: 'false' } });
  assert.equal((await call(c, 'DELETE', 'remove-canned-policy', { query: { name: 'mywrite' } })).status, 200);
  assert.equal((await call(c, 'DELETE', 'remove-canned-policy', { query: { name: 'mywrite' } })).status, 200);
  assert.deepEqual(iam.getUser('tom').policies, ['readonly']);
});

test('current mc: attach/detach enveloped both ways, already-applied error, policy-entities', async () => {
  const c = root(MCM);
  let r = await call(c, 'POST', 'idp/builtin/policy/attach', { body: await enc(c, { policies: ['readwrite'], user: 'tom' }, 2) });
  const attached = await dec(c, r);
  assert.deepEqual(attached.policiesAttached, ['readwrite']);
  assert.ok(attached.updatedAt);
  assert.deepEqual(iam.getUser('tom').policies, ['readonly', 'readwrite']);
  err(await call(c, 'POST', 'idp/builtin/policy/attach', { body: await enc(c, { policies: ['readwrite'], user: 'tom' }) }), 400, 'XMinioAdminPolicyChangeAlreadyApplied');
  err(await call(c, 'POST', 'idp/builtin/policy/attach', { body: await enc(c, { policies: ['nope'], user: 'tom' }) }), 404, 'XMinioAdminNoSuchPolicy');
  r = await call(c, 'POST', 'idp/builtin/policy/detach', { body: await enc(c, { policies: ['readwrite', 'diagnostics'], user: 'tom' }, 1) });
  assert.deepEqual((await dec(c, r)).policiesDetached, ['readwrite']);
  assert.equal((await decryptData(c.secret, r.body)).algorithm, 1, 'a ChaCha20 client is answered with ChaCha20');
  const ent = await dec(c, await call(c, 'GET', 'idp/builtin/policy-entities', { query: { policy: 'readonly' } }));
  assert.deepEqual(ent.policyMappings, [{ policy: 'readonly', users: ['tom'], groups: [] }]);
});

test('groups: add members (creates), info, list, disable, non-empty delete refused, remove', async () => {
  const c = root();
  assert.equal((await call(c, 'PUT', 'update-group-members', { body: JSON.stringify({ group: 'devs', members: ['tom'], isRemove: false }) })).status, 200);
  // current mc sends groupStatus "" too.
  assert.equal((await call(c, 'PUT', 'update-group-members', { body: JSON.stringify({ group: 'devs', members: ['alg0'], groupStatus: '', isRemove: false }) })).status, 200);
  const info = JSON.parse((await call(c, 'GET', 'group', { query: { group: 'devs' } })).body.toString());
  assert.deepEqual({ ...info, updatedAt: undefined }, { name: 'devs', status: 'enabled', members: ['tom', 'alg0'], policy: '', updatedAt: undefined });
  assert.deepEqual(JSON.parse((await call(c, 'GET', 'groups')).body.toString()), ['devs']);
  assert.deepEqual(JSON.parse((await call(c, 'GET', 'user-info', { query: { accessKey: 'tom' } })).body.toString()).memberOf, ['devs']);
  assert.equal((await call(c, 'PUT', 'set-group-status', { query: { group: 'devs', status: 'disabled' } })).status, 200);
  assert.equal(JSON.parse((await call(c, 'GET', 'group', { query: { group: 'devs' } })).body.toString()).status, 'disabled');
  err(await call(c, 'PUT', 'update-group-members', { body: JSON.stringify({ group: 'devs', members: ['ghost'], isRemove: false }) }), 404, 'XMinioAdminNoSuchUser');
  err(await call(c, 'PUT', 'update-group-members', { body: JSON.stringify({ group: 'devs', members: [], isRemove: true }) }), 400, 'XMinioAdminGroupNotEmpty');
  err(await call(c, 'PUT', 'update-group-members', { body: JSON.stringify({ group: '', members: [], isRemove: true }) }), 400, 'XMinioAdminInvalidArgument');
  assert.equal((await call(c, 'PUT', 'update-group-members', { body: JSON.stringify({ group: 'devs', members: ['tom', 'alg0'], isRemove: true }) })).status, 200);
  assert.equal((await call(c, 'PUT', 'update-group-members', { body: JSON.stringify({ group: 'devs', members: null, isRemove: true }) })).status, 200);
  err(await call(c, 'GET', 'group', { query: { group: 'devs' } }), 404, 'XMinioAdminNoSuchGroup');
  assert.deepEqual(JSON.parse((await call(c, 'GET', 'groups')).body.toString()), []);
});

test('service accounts: 2021 shapes (old list, 0001 expiry) and current shapes (objects, 1970), update 204, delete 204', async () => {
  const old = root(MC21);
  let r = await call(old, 'PUT', 'add-service-account', { body: await enc(old, { targetUser: 'tom', accessKey: 'tom-sc1', secretKey: 'abc123abc' }) });
  assert.deepEqual(await dec(old, r), { credentials: { accessKey: 'tom-sc1', secretKey: 'abc123abc', expiration: '0001-01-01T00:00:00Z' } });
  const sa = await iam.lookup('tom-sc1');
  assert.equal(sa?.principal.kind, 'serviceAccount');
  assert.equal(sa?.principal.parentUser, 'tom');
  assert.deepEqual(await dec(old, await call(old, 'GET', 'list-service-accounts', { query: { user: 'tom' } })), { accounts: ['tom-sc1'] });
  assert.deepEqual(await dec(old, await call(old, 'GET', 'list-service-accounts', { query: { user: 'alg0' } })), { accounts: null });
  const info = await dec(old, await call(old, 'GET', 'info-service-account', { query: { accessKey: 'tom-sc1' } }));
  assert.equal(info.parentUser, 'tom'); assert.equal(info.accountStatus, 'on'); assert.equal(info.impliedPolicy, true);
  assert.deepEqual(JSON.parse(info.policy).Statement[0].Action, ['s3:GetBucketLocation', 's3:GetObject']);

  const cur = root(MCM);
  r = await call(cur, 'PUT', 'add-service-account', { body: await enc(cur, { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/*'] }] }, targetUser: 'tom', accessKey: 'TOMSA2', secretKey: 'tom-sa2-secret', name: 'ci', description: 'for ci', expiration: '2099-01-01T10:00:00+02:00' }) });
  assert.deepEqual(await dec(cur, r), { credentials: { accessKey: 'TOMSA2', secretKey: 'tom-sa2-secret', expiration: '2099-01-01T08:00:00Z' } });
  const list = await dec(cur, await call(cur, 'GET', 'list-service-accounts', { query: { user: 'tom' } }));
  assert.deepEqual(list.accounts, [
    { parentUser: 'tom', accountStatus: 'on', impliedPolicy: false, accessKey: 'TOMSA2', name: 'ci', description: 'for ci', expiration: '2099-01-01T08:00:00Z' },
    { parentUser: 'tom', accountStatus: 'on', impliedPolicy: true, accessKey: 'tom-sc1', expiration: '1970-01-01T00:00:00Z' },
  ]);
  // A madmin-go/2.0.0 client from before 2023-05-26 gets the old shape; a newer one the new.
  const mid = { ...cur, ua: 'MinIO (linux; amd64) madmin-go/2.0.0 mc/RELEASE.2023-05-04T18-10-16Z' };
  assert.deepEqual(await dec(mid, await call(mid, 'GET', 'list-service-accounts', { query: { user: 'tom' } })), { accounts: ['TOMSA2', 'tom-sc1'] });

  // 2021 update always carries newStatus ("" = unchanged).
  r = await call(old, 'POST', 'update-service-account', { query: { accessKey: 'tom-sc1' }, body: await enc(old, { newSecretKey: '', newStatus: '' }) });
  assert.equal(r.status, 204);
  assert.equal(iam.getServiceAccount('tom-sc1').status, 'on');
  r = await call(old, 'POST', 'update-service-account', { query: { accessKey: 'tom-sc1' }, body: await enc(old, { newStatus: 'off' }) });
  assert.equal(r.status, 204);
  assert.equal(await iam.lookup('tom-sc1'), undefined);
  await call(old, 'POST', 'update-service-account', { query: { accessKey: 'tom-sc1' }, body: await enc(old, { newStatus: 'on', newSecretKey: 'newsecret99' }) });
  assert.equal((await iam.lookup('tom-sc1'))?.secretKey, 'newsecret99');
  err(await call(old, 'PUT', 'add-service-account', { body: await enc(old, { targetUser: 'tom', accessKey: 'ab', secretKey: 'abc123abc' }) }), 400, 'XMinioAdminInvalidAccessKey');
  err(await call(old, 'PUT', 'add-service-account', { body: await enc(old, { targetUser: 'tom', accessKey: 'abcd', secretKey: 'short' }) }), 400, 'XMinioAdminInvalidSecretKey');
  assert.equal((await call(old, 'DELETE', 'delete-service-account', { query: { accessKey: 'TOMSA2' } })).status, 204);
  err(await call(old, 'DELETE', 'delete-service-account', { query: { accessKey: 'TOMSA2' } }), 404, 'XMinioInvalidIAMCredentials');
  err(await call(old, 'GET', 'info-service-account', { query: { accessKey: 'nope' } }), 404, 'XMinioInvalidIAMCredentials');
});

test('authorization: admin actions through policies, self-service, root always allowed', async () => {
  const c = root();
  await call(c, 'PUT', 'add-user', { query: { accessKey: 'plain' }, body: await enc(c, { secretKey: 'plain-secret', status: 'enabled' }) });
  await call(c, 'PUT', 'add-user', { query: { accessKey: 'boss' }, body: await enc(c, { secretKey: 'boss-secret', status: 'enabled', policyName: 'consoleAdmin' }) });
  const plain = await as('plain', 'plain-secret');
  err(await call(plain, 'GET', 'list-users'), 403, 'AccessDenied');
  err(await call(plain, 'GET', 'user-info', { query: { accessKey: 'tom' } }), 403, 'AccessDenied');
  assert.equal((await call(plain, 'GET', 'user-info', { query: { accessKey: 'plain' } })).status, 200, 'own info');
  // Own service accounts need no admin action; others' look like they do not exist.
  const mine = await dec(plain, await call(plain, 'PUT', 'add-service-account', { body: await enc(plain, {}) }));
  assert.match(mine.credentials.accessKey, /^[0-9A-Z]{20}$/);
  assert.equal(mine.credentials.secretKey.length, 40);
  assert.deepEqual(await dec(plain, await call(plain, 'GET', 'list-service-accounts', { query: { user: '' } })), { accounts: [mine.credentials.accessKey] });
  err(await call(plain, 'GET', 'info-service-account', { query: { accessKey: 'tom-sc1' } }), 404, 'XMinioInvalidIAMCredentials');
  err(await call(plain, 'PUT', 'add-service-account', { body: await enc(plain, { targetUser: 'tom' }) }), 403, 'AccessDenied');
  // The service account itself may not create service accounts.
  const sa = await as(mine.credentials.accessKey, mine.credentials.secretKey);
  err(await call(sa, 'PUT', 'add-service-account', { body: await enc(sa, {}) }), 403, 'XMinioIAMActionNotAllowed');

  const boss = await as('boss', 'boss-secret');
  assert.deepEqual(Object.keys(await dec(boss, await call(boss, 'GET', 'list-users'))).sort(), ['alg0', 'alg1', 'alg2', 'boss', 'plain', 'tom']);
  // A narrow admin policy grants exactly its actions.
  await call(c, 'PUT', 'add-canned-policy', { query: { name: 'userlister' }, body: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['admin:ListUsers'] }] }) });
  await call(c, 'PUT', 'set-user-or-group-policy', { query: { policyName: 'userlister', userOrGroup: 'plain', isGroup: 'false' } });
  assert.equal((await call(plain, 'GET', 'list-users')).status, 200);
  err(await call(plain, 'DELETE', 'remove-user', { query: { accessKey: 'tom' } }), 403, 'AccessDenied');
});

test('unknown routes, other versions and missing query keys answer 426 XMinioAdminVersionMismatch', async () => {
  const c = root();
  err(await call(c, 'GET', 'no-such-op'), 426, 'XMinioAdminVersionMismatch');
  err(await call(c, 'GET', 'list-users', { version: 'v4' }), 426, 'XMinioAdminVersionMismatch');
  err(await call(c, 'PUT', 'set-user-status', { query: { accessKey: 'tom' } }), 426, 'XMinioAdminVersionMismatch');
  err(await call(c, 'POST', 'list-users'), 426, 'XMinioAdminVersionMismatch');
  err(await call(c, 'POST', 'service', { query: { action: 'restart' } }), 501, 'NotImplemented');
});

test('config KV: set (applied at once), get, help, reset; errors are XMinioConfigError', async () => {
  const c = root();
  const line = 'notify_redis:1 address=127.0.0.1:6379/1 format=namespace key=bucketevents password=yoursecret queue_dir= queue_limit=0';
  let r = await call(c, 'PUT', 'set-config-kv', { body: await enc(c, line) });
  assert.equal(r.status, 200, r.body.toString());
  assert.equal(r.headers['x-minio-config-applied'], 'true');
  assert.equal(config.get('notify_redis', '1')[0].enabled, true);
  const one = await dec(c, await call(c, 'GET', 'get-config-kv', { query: { key: 'notify_redis:1' } }));
  assert.equal(one, 'notify_redis:1 format=namespace address=127.0.0.1:6379/1 key=bucketevents password=yoursecret queue_dir= queue_limit=0 ');
  const both = await dec(c, await call(c, 'GET', 'get-config-kv', { query: { key: 'notify_redis' } }));
  assert.equal(both.split('\n')[0], 'notify_redis enable=off format=namespace address= key= password= queue_dir= queue_limit=0 ');
  assert.equal(both.split('\n')[1], one);
  // queue_limit only: stays on (a line without enable= turns the target on).
  await call(c, 'PUT', 'set-config-kv', { body: await enc(c, 'notify_redis:1 queue_limit="1000"') });
  assert.equal(config.get('notify_redis', '1')[0].kvs.queue_limit, '1000');
  const help = JSON.parse((await call(c, 'GET', 'help-config-kv', { query: { subSys: '', key: '' } })).body.toString());
  assert.deepEqual(help.keysHelp.map((k: any) => k.key), ['notify_webhook', 'notify_redis', 'notify_mysql', 'notify_postgres']);
  const redisHelp = JSON.parse((await call(c, 'GET', 'help-config-kv', { query: { subSys: 'notify_redis', key: '' } })).body.toString());
  assert.ok(redisHelp.keysHelp.some((k: any) => k.key === 'address' && k.optional === false));
  err(await call(c, 'PUT', 'set-config-kv', { body: await enc(c, 'notify_nope:1 a=b') }), 400, 'XMinioConfigError');
  const e = err(await call(c, 'PUT', 'set-config-kv', { body: await enc(c, 'notify_redis:2 key=x') }), 400, 'XMinioConfigError');
  assert.match(e.Message, /'address' is not optional/);
  r = await call(c, 'DELETE', 'del-config-kv', { body: await enc(c, 'notify_redis:1') });
  assert.equal(r.status, 200);
  err(await call(c, 'GET', 'get-config-kv', { query: { key: 'notify_redis:1' } }), 400, 'XMinioConfigError');
  const exported = await dec(c, await call(c, 'GET', 'config'));
  assert.match(exported, /^notify_webhook enable=off /m);
});

test('server info answers both mc generations; target status and policy simulate extensions', async () => {
  const info = JSON.parse((await call(root(), 'GET', 'info')).body.toString());
  assert.equal(info.mode, 'online');
  assert.equal(info.backend.backendType, 'FS');
  assert.equal(info.servers.length, 1);
  assert.equal(info.servers[0].state, 'online');
  assert.ok(info.servers[0].uptime >= 5);
  assert.deepEqual(info.sqsARN, ['arn:minio:sqs::1:redis']);
  assert.equal(info.buckets.count, 2);
  assert.equal(JSON.parse((await call(root(MCM), 'GET', 'info', { query: { metrics: 'false' } })).body.toString()).mode, 'online');
  assert.deepEqual(JSON.parse((await call(root(), 'GET', 's3gate/target-status')).body.toString()).targets, statuses);
  const ex = JSON.parse((await call(root(), 'POST', 's3gate/policy-simulate', { body: JSON.stringify({ user: 'tom', action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }) })).body.toString());
  assert.equal(ex.allowed, true);
  const no = JSON.parse((await call(root(), 'POST', 's3gate/policy-simulate', { body: JSON.stringify({ user: 'tom', action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' }) })).body.toString());
  assert.equal(no.allowed, false);
});
