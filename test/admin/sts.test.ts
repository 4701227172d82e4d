import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { IamService } from '../../src/iam/service.js';
import { handleStsRequest } from '../../src/admin/sts.js';
import { queryServer } from './sts-query-server.js';
import { ANONYMOUS } from '../../src/auth/principal.js';

const parser = new XMLParser({ ignoreAttributes: false });

async function setup() {
  const sys = await mkdtemp(join(tmpdir(), 's3gate-sts-xml-'));
  const iam = await IamService.open({ sysDir: sys, rootUser: 'admin', rootPassword: 'adminpass123', bus: null, refreshIntervalMs: 0 });
  await iam.addUser('tom', 'tomsecret1', { status: 'enabled', policies: ['readwrite'] });
  const tom = (await iam.lookup('tom'))!.principal;
  return { sys, iam, tom, done: async () => { iam.close(); await rm(sys, { recursive: true, force: true }); } };
}

const form = (o: Record<string, string>) => new URLSearchParams(o);

test('AssumeRole XML: AWS shape, Expiration without fractions, credentials usable', async () => {
  const { iam, tom, done } = await setup();
  try {
    const r = await handleStsRequest(form({ Action: 'AssumeRole', Version: '2011-06-15', DurationSeconds: '1800', RoleArn: 'arn:xxx:xxx:xxx:xxxx', RoleSessionName: 'anything' }), tom, { iam, requestId: 'R1' });
    assert.equal(r.status, 200);
    assert.match(r.contentType, /xml/);
    const x = parser.parse(r.body);
    assert.equal(x.AssumeRoleResponse['@_xmlns'], 'https://sts.amazonaws.com/doc/2011-06-15/');
    const c = x.AssumeRoleResponse.AssumeRoleResult.Credentials;
    assert.match(c.AccessKeyId, /^[0-9A-Z]{20}$/);
    assert.equal(String(c.SecretAccessKey).length, 40);
    assert.match(c.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(c.Expiration) - Date.now() - 1800_000) < 5000);
    assert.match(x.AssumeRoleResponse.AssumeRoleResult.AssumedRoleUser.Arn, /assumed-role\/tom\/anything$/);
    assert.equal(x.AssumeRoleResponse.ResponseMetadata.RequestId, 'R1');
    const cred = await iam.lookup(c.AccessKeyId, c.SessionToken);
    assert.equal(cred?.secretKey, c.SecretAccessKey);
  } finally { await done(); }
});

test('STS errors: shape and codes', async () => {
  const { iam, tom, done } = await setup();
  try {
    const err = async (params: Record<string, string>, who = tom) => {
      const r = await handleStsRequest(form(params), who, { iam, requestId: 'R2' });
      const e = parser.parse(r.body).ErrorResponse;
      assert.equal(e.RequestId, 'R2');
      return { status: r.status, code: e.Error.Code as string, type: e.Error.Type as string, message: e.Error.Message as string };
    };
    const v = { Version: '2011-06-15' };
    assert.deepEqual((await err({ Action: 'AssumeRole', ...v, DurationSeconds: '100' })).code, 'InvalidParameterValue');
    assert.equal((await err({ Action: 'AssumeRole', ...v, DurationSeconds: 'abc' })).status, 400);
    assert.equal((await err({ Action: 'AssumeRole', ...v, Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Nope","Resource":"*"}]}' })).code, 'MalformedPolicyDocument');
    assert.equal((await err({ Action: 'AssumeRole', ...v, Policy: 'x'.repeat(2049) })).code, 'PackedPolicyTooLarge');
    assert.equal((await err({ Action: 'AssumeRole', Version: '2010-01-01' })).code, 'MissingParameter');
    assert.equal((await err({ Action: 'Frobnicate', ...v })).code, 'InvalidParameterValue');
    const web = await err({ Action: 'AssumeRoleWithWebIdentity', ...v });
    assert.equal(web.status, 501);
    assert.equal(web.code, 'NotImplemented');
    assert.equal(web.type, 'Receiver');
    const anon = await err({ Action: 'AssumeRole', ...v }, ANONYMOUS);
    assert.equal(anon.status, 403);
    assert.equal(anon.code, 'AccessDenied');
    assert.equal(anon.type, 'Sender');
    await iam.addServiceAccount({ parent: 'tom', accessKey: 'tomsvc', secretKey: 'tomsvcsecret' });
    const svc = (await iam.lookup('tomsvc'))!.principal;
    assert.equal((await err({ Action: 'AssumeRole', ...v }, svc)).code, 'AccessDenied');
  } finally { await done(); }
});

test('@aws-sdk/client-sts parses AssumeRole and GetCallerIdentity; temp credentials identify as the session', async () => {
  const { iam, done } = await setup();
  const { server, endpoint } = await queryServer(iam);
  try {
    const sts = new STSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'tom', secretAccessKey: 'tomsecret1' } });
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'sdk', DurationSeconds: 900 }));
    assert.ok(out.Credentials?.AccessKeyId && out.Credentials.SecretAccessKey && out.Credentials.SessionToken);
    assert.ok(out.Credentials.Expiration instanceof Date);
    assert.match(out.AssumedRoleUser?.Arn ?? '', /assumed-role\/tom\/sdk/);
    const temp = new STSClient({ endpoint, region: 'us-east-1', credentials: {
      accessKeyId: out.Credentials.AccessKeyId, secretAccessKey: out.Credentials.SecretAccessKey, sessionToken: out.Credentials.SessionToken,
    } });
    const me = await temp.send(new GetCallerIdentityCommand({}));
    assert.match(me.Arn ?? '', /^arn:aws:sts::000000000000:assumed-role\/tom\//);
    assert.equal(me.Account, '000000000000');
    const bad = new STSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'tom', secretAccessKey: 'tomsecret1' } });
    await assert.rejects(bad.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'sdk', DurationSeconds: 60 })), (e: any) => e.name === 'InvalidParameterValue' || /DurationSeconds/.test(e.message));
  } finally { server.close(); await done(); }
});
