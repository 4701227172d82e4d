/**
 * The `aws iam` commands of the AWS CLI against the real server, with their JSON output
 * checked: users, access keys (which then work, or stop working, for S3), inline and
 * managed policies, groups, and the errors a user sees (NoSuchEntity, EntityAlreadyExists,
 * MalformedPolicyDocument, DeleteConflict, AccessDenied for a caller without admin rights).
 * Each CLI run costs about a second of CPU, so the S3 effects are checked with the SDK and
 * every command runs about once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { awsCliEnv } from '../helpers/cli-env.js';

interface Keys { accessKeyId: string; secretAccessKey: string }

let server: TestServer;
let work: string;
let root: Keys;
const bucket = 'iam-cli';

before(async () => {
  server = await startServer();
  root = { accessKeyId: server.accessKey, secretAccessKey: server.secretKey };
  work = mkdtempSync(join(tmpdir(), 's3gate-iam-cli-'));
  writeFileSync(join(work, 'config'), '[default]\n');
  const s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'docs/readme.txt', Body: 'hello' }));
});
after(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run { code: number; json: any; stderr: string }

/** `aws ARGS --endpoint-url URL --output json`; never throws, so errors can be checked. */
function run(keys: Keys, ...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, ...awsCliEnv(work, keys) };
  return new Promise((ok) => {
    execFile('aws', [...args, '--endpoint-url', server.url, '--output', 'json'], { env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      ok({ code, json: code === 0 && stdout.trim() ? JSON.parse(stdout) : {}, stderr });
    });
  });
}

/** Root runs an aws command that must succeed; its JSON. */
async function aws(...args: string[]): Promise<any> {
  const r = await run(root, ...args);
  assert.equal(r.code, 0, `aws ${args.join(' ')} failed: ${r.stderr}`);
  return r.json;
}

/** An aws command that must fail with this error code (as the CLI prints it). */
async function awsFails(keys: Keys, code: string, ...args: string[]): Promise<string> {
  const r = await run(keys, ...args);
  assert.notEqual(r.code, 0, `aws ${args.join(' ')} should have failed`);
  assert.match(r.stderr, new RegExp(`\\(${code}\\)`), `aws ${args.join(' ')}: expected ${code}, got: ${r.stderr}`);
  return r.stderr;
}

const ARN_RE = (kind: string, name: string) => new RegExp(`^arn:aws:iam::000000000000:${kind}/${name}$`);
const isDate = (s: string) => !Number.isNaN(Date.parse(s));

let aliceKey: Keys;
let alice: S3Client;

/** The S3 error code of a request that must fail. */
async function s3Fails(p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p;
  } catch (e: any) {
    assert.equal(e.name, code, `${what}: expected ${code}, got ${e.name}`);
    return;
  }
  assert.fail(`${what}: expected ${code}, the request succeeded`);
}

test('create-user, get-user, list-users', async () => {
  const [made] = await Promise.all([aws('iam', 'create-user', '--user-name', 'alice').then((r) => r.User), aws('iam', 'create-user', '--user-name', 'bob', '--path', '/staff/')]);
  assert.equal(made.UserName, 'alice');
  assert.equal(made.Path, '/');
  assert.match(made.Arn, ARN_RE('user', 'alice'));
  assert.match(made.UserId, /^AIDA[A-Z0-9]+$/);
  assert.ok(isDate(made.CreateDate));

  const [got, list, staff] = await Promise.all([
    aws('iam', 'get-user', '--user-name', 'alice'), aws('iam', 'list-users'), aws('iam', 'list-users', '--path-prefix', '/staff/'),
    awsFails(root, 'EntityAlreadyExists', 'iam', 'create-user', '--user-name', 'alice'),
    awsFails(root, 'NoSuchEntity', 'iam', 'get-user', '--user-name', 'nobody'),
  ]);
  assert.deepEqual(got.User, made);
  assert.deepEqual(list.Users.map((u: any) => [u.UserName, u.Path]), [['alice', '/'], ['bob', '/staff/']]);
  assert.deepEqual(staff.Users.map((u: any) => u.UserName), ['bob']);
  assert.match(staff.Users[0].Arn, ARN_RE('user', 'staff/bob'));
});

test('create-access-key, list-access-keys, delete-access-key; the key works for S3 until deleted', async () => {
  const k = (await aws('iam', 'create-access-key', '--user-name', 'alice')).AccessKey;
  assert.equal(k.UserName, 'alice');
  assert.equal(k.Status, 'Active');
  assert.match(k.AccessKeyId, /^[A-Z0-9]{20}$/);
  assert.equal(k.SecretAccessKey.length, 40);
  assert.ok(isDate(k.CreateDate));
  aliceKey = { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey };
  alice = server.s3({ credentials: aliceKey });
  const second = (await aws('iam', 'create-access-key', '--user-name', 'alice')).AccessKey;

  const [listed] = await Promise.all([aws('iam', 'list-access-keys', '--user-name', 'alice'), awsFails(root, 'LimitExceeded', 'iam', 'create-access-key', '--user-name', 'alice')]);
  assert.deepEqual(listed.AccessKeyMetadata.map((m: any) => [m.UserName, m.AccessKeyId, m.Status]).sort(),
    [['alice', k.AccessKeyId, 'Active'], ['alice', second.AccessKeyId, 'Active']].sort());
  assert.ok(listed.AccessKeyMetadata.every((m: any) => m.SecretAccessKey === undefined), 'secrets are never listed');

  // A key of a user without policies authenticates but is denied; a deleted key is unknown.
  const secondS3 = server.s3({ credentials: { accessKeyId: second.AccessKeyId, secretAccessKey: second.SecretAccessKey } });
  await s3Fails(secondS3.send(new ListBucketsCommand({})), 'AccessDenied', 'a user without policies');
  assert.deepEqual(await aws('iam', 'delete-access-key', '--user-name', 'alice', '--access-key-id', second.AccessKeyId), {});
  await s3Fails(secondS3.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 'a deleted key');
  await s3Fails(alice.send(new ListBucketsCommand({})), 'AccessDenied', 'the remaining key still authenticates');
  const [after] = await Promise.all([aws('iam', 'list-access-keys', '--user-name', 'alice'),
    awsFails(root, 'NoSuchEntity', 'iam', 'delete-access-key', '--user-name', 'alice', '--access-key-id', second.AccessKeyId)]);
  assert.deepEqual(after.AccessKeyMetadata.map((m: any) => m.AccessKeyId), [k.AccessKeyId]);
});

test('put-user-policy, get-user-policy, delete-user-policy (inline policy grants and revokes)', async () => {
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/docs/*`] }] };
  assert.deepEqual(await aws('iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'read-docs', '--policy-document', JSON.stringify(doc)), {});
  const [got, inline, attached] = await Promise.all([
    aws('iam', 'get-user-policy', '--user-name', 'alice', '--policy-name', 'read-docs'),
    aws('iam', 'list-user-policies', '--user-name', 'alice'),
    aws('iam', 'list-attached-user-policies', '--user-name', 'alice'),
    awsFails(root, 'MalformedPolicyDocument', 'iam', 'put-user-policy', '--user-name', 'alice', '--policy-name', 'bad',
      '--policy-document', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s4:::x"}]}'),
  ]);
  assert.equal(got.UserName, 'alice');
  assert.equal(got.PolicyName, 'read-docs');
  // The CLI url-decodes and parses the document it receives.
  assert.deepEqual(typeof got.PolicyDocument === 'string' ? JSON.parse(got.PolicyDocument) : got.PolicyDocument, doc);
  assert.deepEqual(inline.PolicyNames, ['read-docs']);
  assert.deepEqual(attached.AttachedPolicies, [], 'inline policies are not managed policies');

  const r = await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/readme.txt' }));
  assert.equal(await r.Body!.transformToString(), 'hello', 'the inline policy grants GetObject');
  await aws('iam', 'delete-user-policy', '--user-name', 'alice', '--policy-name', 'read-docs');
  await s3Fails(alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/readme.txt' })), 'AccessDenied', 'after delete-user-policy');
  await awsFails(root, 'NoSuchEntity', 'iam', 'get-user-policy', '--user-name', 'alice', '--policy-name', 'read-docs');
});

let managedArn: string;

test('create-policy, attach-user-policy, list-attached-user-policies, detach-user-policy', async () => {
  const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`] }] });
  const [made] = await Promise.all([
    aws('iam', 'create-policy', '--policy-name', 'list-iam-cli', '--policy-document', doc, '--description', 'list the bucket'),
    awsFails(root, 'MalformedPolicyDocument', 'iam', 'create-policy', '--policy-name', 'broken', '--policy-document', '{"Statement":[{"Effect":"Maybe"}]}'),
  ]);
  const p = made.Policy;
  assert.equal(p.PolicyName, 'list-iam-cli');
  assert.match(p.Arn, ARN_RE('policy', 'list-iam-cli'));
  assert.equal(p.DefaultVersionId, 'v1');
  assert.equal(p.AttachmentCount, 0);
  assert.equal(p.IsAttachable, true);
  managedArn = p.Arn;

  await Promise.all([
    aws('iam', 'attach-user-policy', '--user-name', 'alice', '--policy-arn', managedArn),
    awsFails(root, 'EntityAlreadyExists', 'iam', 'create-policy', '--policy-name', 'list-iam-cli', '--policy-document', doc),
    awsFails(root, 'NoSuchEntity', 'iam', 'attach-user-policy', '--user-name', 'alice', '--policy-arn', 'arn:aws:iam::000000000000:policy/ghost'),
  ]);
  await aws('iam', 'attach-user-policy', '--user-name', 'alice', '--policy-arn', 'arn:aws:iam::aws:policy/readonly');
  const [attached, got] = await Promise.all([
    aws('iam', 'list-attached-user-policies', '--user-name', 'alice'),
    aws('iam', 'get-policy', '--policy-arn', managedArn),
    awsFails(root, 'DeleteConflict', 'iam', 'delete-policy', '--policy-arn', managedArn),
  ]);
  assert.deepEqual(attached.AttachedPolicies.map((a: any) => [a.PolicyName, a.PolicyArn]).sort(),
    [['list-iam-cli', managedArn], ['readonly', 'arn:aws:iam::aws:policy/readonly']].sort());
  assert.equal(got.Policy.AttachmentCount, 1);
  assert.equal(got.Policy.Description, 'list the bucket');
  const listed = await alice.send(new ListObjectsV2Command({ Bucket: bucket }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), ['docs/readme.txt'], 'the managed policy grants ListBucket');

  await aws('iam', 'detach-user-policy', '--user-name', 'alice', '--policy-arn', managedArn);
  await s3Fails(alice.send(new ListObjectsV2Command({ Bucket: bucket })), 'AccessDenied', 'after detach-user-policy');
  const [local, builtins] = await Promise.all([
    aws('iam', 'list-policies', '--scope', 'Local'), aws('iam', 'list-policies', '--scope', 'AWS'),
    awsFails(root, 'NoSuchEntity', 'iam', 'detach-user-policy', '--user-name', 'alice', '--policy-arn', managedArn),
  ]);
  assert.deepEqual(local.Policies.map((x: any) => x.PolicyName), ['list-iam-cli']);
  const arns = builtins.Policies.map((x: any) => x.Arn);
  for (const n of ['consoleAdmin', 'readonly', 'readwrite', 'writeonly', 'diagnostics']) assert.ok(arns.includes(`arn:aws:iam::aws:policy/${n}`), n);
});

test('create-group, add-user-to-group, attach-group-policy, remove-user-from-group', async () => {
  const g = (await aws('iam', 'create-group', '--group-name', 'listers')).Group;
  assert.equal(g.GroupName, 'listers');
  assert.match(g.Arn, ARN_RE('group', 'listers'));
  assert.match(g.GroupId, /^AGPA[A-Z0-9]+$/);
  await Promise.all([
    aws('iam', 'attach-group-policy', '--group-name', 'listers', '--policy-arn', managedArn),
    aws('iam', 'add-user-to-group', '--group-name', 'listers', '--user-name', 'alice'),
    awsFails(root, 'EntityAlreadyExists', 'iam', 'create-group', '--group-name', 'listers'),
    awsFails(root, 'NoSuchEntity', 'iam', 'add-user-to-group', '--group-name', 'nogroup', '--user-name', 'alice'),
  ]);
  const [groupPolicies, info, groups] = await Promise.all([
    aws('iam', 'list-attached-group-policies', '--group-name', 'listers'),
    aws('iam', 'get-group', '--group-name', 'listers'),
    aws('iam', 'list-groups-for-user', '--user-name', 'alice'),
    awsFails(root, 'DeleteConflict', 'iam', 'delete-group', '--group-name', 'listers'),
  ]);
  assert.deepEqual(groupPolicies.AttachedPolicies, [{ PolicyName: 'list-iam-cli', PolicyArn: managedArn }]);
  assert.deepEqual(info.Users.map((u: any) => u.UserName), ['alice']);
  assert.equal(info.Group.GroupName, 'listers');
  assert.deepEqual(groups.Groups.map((x: any) => x.GroupName), ['listers']);
  await alice.send(new ListObjectsV2Command({ Bucket: bucket })); // the group policy grants ListBucket

  await aws('iam', 'remove-user-from-group', '--group-name', 'listers', '--user-name', 'alice');
  await s3Fails(alice.send(new ListObjectsV2Command({ Bucket: bucket })), 'AccessDenied', 'after remove-user-from-group');
  const [after] = await Promise.all([aws('iam', 'get-group', '--group-name', 'listers'),
    awsFails(root, 'NoSuchEntity', 'iam', 'remove-user-from-group', '--group-name', 'listers', '--user-name', 'alice')]);
  assert.deepEqual(after.Users, []);
});

test('a user without admin rights gets AccessDenied from aws iam create-user', async () => {
  // alice has readonly (S3 only): no admin: actions.
  const [err] = await Promise.all([
    awsFails(aliceKey, 'AccessDenied', 'iam', 'create-user', '--user-name', 'mallory'),
    awsFails(aliceKey, 'AccessDenied', 'iam', 'attach-user-policy', '--user-name', 'alice', '--policy-arn', 'arn:aws:iam::aws:policy/consoleAdmin'),
  ]);
  assert.match(err, /CreateUser/);
  await awsFails(root, 'NoSuchEntity', 'iam', 'get-user', '--user-name', 'mallory');
  // Without a signature at all: refused too, in the IAM error shape.
  const anon = await fetch(server.url + '/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=CreateUser&UserName=eve&Version=2010-05-08' });
  assert.equal(anon.status, 403);
  assert.match(await anon.text(), /<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/">[\s\S]*<Code>AccessDenied<\/Code>/);
});

test('delete-user removes the user and its keys; built-in policies cannot be deleted', async () => {
  assert.deepEqual(await aws('iam', 'delete-user', '--user-name', 'alice'), {});
  await s3Fails(alice.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', "the deleted user's key");
  const [users] = await Promise.all([
    aws('iam', 'list-users'),
    awsFails(root, 'NoSuchEntity', 'iam', 'delete-user', '--user-name', 'alice'),
    aws('iam', 'delete-group', '--group-name', 'listers'),
    awsFails(root, 'InvalidInput', 'iam', 'delete-policy', '--policy-arn', 'arn:aws:iam::aws:policy/readwrite'),
  ]);
  assert.deepEqual(users.Users.map((u: any) => u.UserName), ['bob']);
  await aws('iam', 'delete-policy', '--policy-arn', managedArn);
  await awsFails(root, 'NoSuchEntity', 'iam', 'get-policy', '--policy-arn', managedArn);
});
