import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IamService, type IamServiceOptions } from '../../src/iam/service.js';
import { isIamError } from '../../src/iam/errors.js';
import { isS3Error } from '../../src/server/errors.js';

const ROOT = { rootUser: 'admin', rootPassword: 'adminpass123' };
const OBJ = 'arn:aws:s3:::photos/a.jpg';

function clock(start = Date.parse('2024-06-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

async function withSys(fn: (sys: string) => Promise<void>): Promise<void> {
  const sys = await mkdtemp(join(tmpdir(), 's3gate-sts-'));
  try { await fn(sys); } finally { await rm(sys, { recursive: true, force: true }); }
}

function open(sys: string, extra: Partial<IamServiceOptions> = {}): Promise<IamService> {
  return IamService.open({ sysDir: sys, ...ROOT, bus: null, refreshIntervalMs: 0, ...extra });
}

async function tomWith(iam: IamService, policies: string[]) {
  await iam.addUser('tom', 'tomsecret1', { status: 'enabled', policies });
  return (await iam.lookup('tom'))!.principal;
}

test('AssumeRole: credentials work on another instance without a refresh', async () => {
  await withSys(async (sys) => {
    const c = clock();
    const a = await open(sys, { now: c.now });
    const tom = await tomWith(a, ['readwrite']);
    const b = await open(sys, { now: c.now }); // started after tom exists; never refreshes again
    try {
      const creds = await a.assumeRole(tom, { durationSeconds: 900 });
      assert.equal(creds.accessKeyId.length, 20);
      assert.equal(creds.secretAccessKey.length, 40);
      assert.equal(creds.expiration.getTime(), c.now() + 900_000);
      const seen = await b.lookup(creds.accessKeyId, creds.sessionToken);
      assert.ok(seen);
      assert.equal(seen.secretKey, creds.secretAccessKey);
      assert.equal(seen.sessionToken, creds.sessionToken);
      assert.equal(seen.principal.kind, 'sts');
      assert.equal(seen.principal.parentUser, 'tom');
      assert.equal(await b.isAllowed(seen.principal, 's3:PutObject', OBJ), true);
      // The session follows the parent's current rights.
      await a.setPolicies({ user: 'tom' }, ['readonly']);
      await b.reload();
      assert.equal(await b.isAllowed(seen.principal, 's3:PutObject', OBJ), false);
      assert.equal(await b.isAllowed(seen.principal, 's3:GetObject', OBJ), true);
    } finally { a.close(); b.close(); }
  });
});

test('AssumeRole: expiry, tampering and token/key mismatches are refused', async () => {
  await withSys(async (sys) => {
    const c = clock();
    const iam = await open(sys, { now: c.now });
    try {
      const tom = await tomWith(iam, ['readwrite']);
      const creds = await iam.assumeRole(tom);
      assert.equal(creds.expiration.getTime(), c.now() + 3600_000, 'default 3600 s');
      const s3code = async (ak: string, token: string) => {
        try { await iam.lookup(ak, token); return 'ok'; } catch (e) { return isS3Error(e) ? e.code : String(e); }
      };
      assert.equal(await s3code(creds.accessKeyId, creds.sessionToken), 'ok');
      // Flip one character of the claims.
      const [h, body, sig] = creds.sessionToken.split('.');
      const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
      claims.exp += 86400;
      const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      assert.equal(await s3code(creds.accessKeyId, forged), 'InvalidToken');
      assert.equal(await s3code(creds.accessKeyId, creds.sessionToken.slice(0, -2) + 'AA'), 'InvalidToken');
      assert.equal(await s3code(creds.accessKeyId, 'garbage'), 'InvalidToken');
      const other = await iam.assumeRole(tom);
      assert.equal(await s3code(creds.accessKeyId, other.sessionToken), 'InvalidToken', 'token of another session');
      assert.equal(await s3code('tom', creds.sessionToken), 'InvalidToken', 'long-term key with a token');
      assert.equal(await iam.lookup(creds.accessKeyId), undefined, 'no token, no access');
      c.advance(3600_000);
      assert.equal(await s3code(creds.accessKeyId, creds.sessionToken), 'ExpiredToken');
    } finally { iam.close(); }
  });
});

test('AssumeRole: a token signed with another data directory key is refused', async () => {
  await withSys(async (sysA) => {
    await withSys(async (sysB) => {
      const a = await open(sysA);
      const b = await open(sysB);
      try {
        const creds = await a.assumeRole(await tomWith(a, ['readwrite']));
        await tomWith(b, ['readwrite']);
        await assert.rejects(b.lookup(creds.accessKeyId, creds.sessionToken), (e) => isS3Error(e) && e.code === 'InvalidToken');
      } finally { a.close(); b.close(); }
    });
  });
});

test('AssumeRole: session policy narrows and never widens', async () => {
  await withSys(async (sys) => {
    const iam = await open(sys);
    try {
      const tom = await tomWith(iam, ['readonly']);
      const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::photos/*'] }] });
      const creds = await iam.assumeRole(tom, { policy });
      const p = (await iam.lookup(creds.accessKeyId, creds.sessionToken))!.principal;
      assert.equal(await iam.isAllowed(p, 's3:GetObject', OBJ), true);
      assert.equal(await iam.isAllowed(p, 's3:GetObject', 'arn:aws:s3:::other/a'), false, 'outside the session policy');
      assert.equal(await iam.isAllowed(p, 's3:PutObject', OBJ), false, 'session policy cannot add rights');
      const resolved = iam.resolveIdentity(p);
      assert.ok(resolved !== 'root' && resolved.sessionPolicy);
    } finally { iam.close(); }
  });
});

test('AssumeRole: who may call it and argument checks', async () => {
  await withSys(async (sys) => {
    const iam = await open(sys);
    try {
      const tom = await tomWith(iam, ['readwrite']);
      const code = async (p: Promise<unknown>) => { try { await p; return 'ok'; } catch (e) { return isIamError(e) ? e.code : String(e); } };
      assert.equal(await code(iam.assumeRole(tom, { durationSeconds: 899 })), 'InvalidArgument');
      assert.equal(await code(iam.assumeRole(tom, { durationSeconds: 604801 })), 'InvalidArgument');
      assert.equal(await code(iam.assumeRole(tom, { durationSeconds: 604800 })), 'ok');
      assert.equal(await code(iam.assumeRole(tom, { policy: 'x'.repeat(2049) })), 'PolicyTooLarge');
      assert.equal(await code(iam.assumeRole(tom, { policy: '{"Statement":[]}' })), 'MalformedPolicy');
      await iam.addServiceAccount({ parent: 'tom', accessKey: 'tomsvc', secretKey: 'tomsvcsecret' });
      const svc = (await iam.lookup('tomsvc'))!.principal;
      assert.equal(await code(iam.assumeRole(svc)), 'AccessDenied');
      const creds = await iam.assumeRole(tom);
      const sts = (await iam.lookup(creds.accessKeyId, creds.sessionToken))!.principal;
      assert.equal(await code(iam.assumeRole(sts)), 'AccessDenied');
      // Root may, and is narrowed by its session policy.
      const root = iam.rootPrincipal();
      const rc = await iam.assumeRole(root, { policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::*'] }] }) });
      const rp = (await iam.lookup(rc.accessKeyId, rc.sessionToken))!.principal;
      assert.equal(await iam.isAllowed(rp, 's3:GetObject', OBJ), true);
      assert.equal(await iam.isAllowed(rp, 's3:PutObject', OBJ), false);
    } finally { iam.close(); }
  });
});

test('AssumeRole: disabling or removing the parent ends its sessions; a re-created parent does not revive them', async () => {
  await withSys(async (sys) => {
    const iam = await open(sys);
    try {
      const tom = await tomWith(iam, ['readwrite']);
      const creds = await iam.assumeRole(tom);
      await iam.setUserStatus('tom', 'disabled');
      assert.equal(await iam.lookup(creds.accessKeyId, creds.sessionToken), undefined);
      await iam.setUserStatus('tom', 'enabled');
      assert.ok(await iam.lookup(creds.accessKeyId, creds.sessionToken));
      await iam.removeUser('tom');
      await tomWith(iam, ['readwrite']);
      assert.equal(await iam.lookup(creds.accessKeyId, creds.sessionToken), undefined);
    } finally { iam.close(); }
  });
});

test('an STS principal that was never looked up here is denied (fail closed)', async () => {
  await withSys(async (sys) => {
    const iam = await open(sys);
    try {
      await tomWith(iam, ['readwrite']);
      const forged = { kind: 'sts' as const, accessKey: 'NOTLOOKEDUP', username: 'tom', userId: iam.getUser('tom').id, parentUser: 'tom' };
      assert.equal(await iam.isAllowed(forged, 's3:GetObject', OBJ), false);
    } finally { iam.close(); }
  });
});
