import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  IAMClient, CreateUserCommand, GetUserCommand, ListUsersCommand, DeleteUserCommand, CreateAccessKeyCommand,
  ListAccessKeysCommand, UpdateAccessKeyCommand, DeleteAccessKeyCommand, PutUserPolicyCommand, GetUserPolicyCommand,
  ListUserPoliciesCommand, DeleteUserPolicyCommand, CreatePolicyCommand, GetPolicyCommand, ListPoliciesCommand,
  AttachUserPolicyCommand, DetachUserPolicyCommand, ListAttachedUserPoliciesCommand, DeletePolicyCommand,
  CreateGroupCommand, GetGroupCommand, AddUserToGroupCommand, RemoveUserFromGroupCommand, ListGroupsForUserCommand,
  AttachGroupPolicyCommand, ListAttachedGroupPoliciesCommand, DetachGroupPolicyCommand, DeleteGroupCommand,
  ListGroupsCommand, PutGroupPolicyCommand, GetGroupPolicyCommand, DeleteGroupPolicyCommand, GetPolicyVersionCommand,
} from '@aws-sdk/client-iam';
import { IamService } from '../../src/iam/service.js';
import { handleIamQueryRequest } from '../../src/admin/iam-query.js';
import { queryServer } from './sts-query-server.js';

const parser = new XMLParser({ ignoreAttributes: false });
const OBJ = 'arn:aws:s3:::photos/a.jpg';
/** The IAM error code behind an SDK exception (EntityAlreadyExistsException -> EntityAlreadyExists). */
const n = (e: any): string => String(e?.name ?? '').replace(/Exception$/, '');

async function setup() {
  const sys = await mkdtemp(join(tmpdir(), 's3gate-iamq-'));
  const iam = await IamService.open({ sysDir: sys, rootUser: 'admin', rootPassword: 'adminpass123', bus: null, refreshIntervalMs: 0 });
  const { server, endpoint } = await queryServer(iam);
  const client = (accessKeyId: string, secretAccessKey: string) => new IAMClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } });
  return {
    iam, client, root: client('admin', 'adminpass123'),
    done: async () => { server.close(); iam.close(); await rm(sys, { recursive: true, force: true }); },
  };
}

const RW_PHOTOS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: ['arn:aws:s3:::photos/*'] }] });

test('aws iam journey with @aws-sdk/client-iam: users, keys, inline and managed policies, groups', async () => {
  const { iam, client, root, done } = await setup();
  try {
    const created = await root.send(new CreateUserCommand({ UserName: 'bob' }));
    assert.equal(created.User?.UserName, 'bob');
    assert.match(created.User?.Arn ?? '', /^arn:aws:iam::000000000000:user\/bob$/);
    assert.ok(created.User?.CreateDate instanceof Date);
    await assert.rejects(root.send(new CreateUserCommand({ UserName: 'bob' })), (e: any) => n(e) === 'EntityAlreadyExists' && e.$metadata.httpStatusCode === 409);
    assert.equal((await root.send(new GetUserCommand({ UserName: 'bob' }))).User?.UserId, iam.getUser('bob').id);
    await assert.rejects(root.send(new GetUserCommand({ UserName: 'ghost' })), (e: any) => n(e) === 'NoSuchEntity');
    assert.deepEqual((await root.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName), ['bob']);

    const key = (await root.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey!;
    assert.equal(key.Status, 'Active');
    assert.equal(key.SecretAccessKey?.length, 40);
    const keys = await root.send(new ListAccessKeysCommand({ UserName: 'bob' }));
    assert.deepEqual(keys.AccessKeyMetadata?.map((k) => k.AccessKeyId), [key.AccessKeyId]);
    const bobP = async () => (await iam.lookup(key.AccessKeyId!))!.principal;
    assert.equal(await iam.isAllowed(await bobP(), 's3:GetObject', OBJ), false, 'new user has no rights');

    // Inline policy.
    await root.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'photos', PolicyDocument: RW_PHOTOS }));
    const got = await root.send(new GetUserPolicyCommand({ UserName: 'bob', PolicyName: 'photos' }));
    assert.deepEqual(JSON.parse(decodeURIComponent(got.PolicyDocument!)), JSON.parse(RW_PHOTOS));
    assert.deepEqual((await root.send(new ListUserPoliciesCommand({ UserName: 'bob' }))).PolicyNames, ['photos']);
    assert.equal(await iam.isAllowed(await bobP(), 's3:PutObject', OBJ), true);
    await root.send(new DeleteUserPolicyCommand({ UserName: 'bob', PolicyName: 'photos' }));
    assert.equal(await iam.isAllowed(await bobP(), 's3:PutObject', OBJ), false);
    await assert.rejects(root.send(new GetUserPolicyCommand({ UserName: 'bob', PolicyName: 'photos' })), (e: any) => n(e) === 'NoSuchEntity');

    // Managed policies: built-in by aws ARN, custom by the returned ARN.
    await root.send(new AttachUserPolicyCommand({ UserName: 'bob', PolicyArn: 'arn:aws:iam::aws:policy/readonly' }));
    assert.equal(await iam.isAllowed(await bobP(), 's3:GetObject', OBJ), true);
    const pol = (await root.send(new CreatePolicyCommand({ PolicyName: 'photos-rw', PolicyDocument: RW_PHOTOS, Description: 'photos' }))).Policy!;
    assert.equal(pol.Arn, 'arn:aws:iam::000000000000:policy/photos-rw');
    assert.equal(pol.DefaultVersionId, 'v1');
    await assert.rejects(root.send(new CreatePolicyCommand({ PolicyName: 'photos-rw', PolicyDocument: RW_PHOTOS })), (e: any) => n(e) === 'EntityAlreadyExists');
    await assert.rejects(root.send(new CreatePolicyCommand({ PolicyName: 'bad', PolicyDocument: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Fly","Resource":"*"}]}' })),
      (e: any) => n(e) === 'MalformedPolicyDocument' && /s3:Fly/.test(e.message));
    const ver = await root.send(new GetPolicyVersionCommand({ PolicyArn: pol.Arn, VersionId: 'v1' }));
    assert.deepEqual(JSON.parse(decodeURIComponent(ver.PolicyVersion!.Document!)), JSON.parse(RW_PHOTOS));
    await root.send(new AttachUserPolicyCommand({ UserName: 'bob', PolicyArn: pol.Arn }));
    const attached = await root.send(new ListAttachedUserPoliciesCommand({ UserName: 'bob' }));
    assert.deepEqual(attached.AttachedPolicies?.map((p) => p.PolicyArn).sort(), ['arn:aws:iam::000000000000:policy/photos-rw', 'arn:aws:iam::aws:policy/readonly']);
    assert.equal((await root.send(new GetPolicyCommand({ PolicyArn: pol.Arn }))).Policy?.AttachmentCount, 1);
    await assert.rejects(root.send(new DeletePolicyCommand({ PolicyArn: pol.Arn })), (e: any) => n(e) === 'DeleteConflict');
    const local = await root.send(new ListPoliciesCommand({ Scope: 'Local' }));
    assert.deepEqual(local.Policies?.map((p) => p.PolicyName), ['photos-rw']);
    const aws = await root.send(new ListPoliciesCommand({ Scope: 'AWS' }));
    assert.ok(aws.Policies?.some((p) => p.Arn === 'arn:aws:iam::aws:policy/readwrite'));
    await root.send(new DetachUserPolicyCommand({ UserName: 'bob', PolicyArn: pol.Arn }));
    await assert.rejects(root.send(new DetachUserPolicyCommand({ UserName: 'bob', PolicyArn: pol.Arn })), (e: any) => n(e) === 'NoSuchEntity');
    await assert.rejects(root.send(new AttachUserPolicyCommand({ UserName: 'bob', PolicyArn: 'arn:aws:iam::aws:policy/nope' })), (e: any) => n(e) === 'NoSuchEntity');

    // Groups.
    await root.send(new CreateGroupCommand({ GroupName: 'devs' }));
    await root.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'bob' }));
    await assert.rejects(root.send(new AddUserToGroupCommand({ GroupName: 'nogroup', UserName: 'bob' })), (e: any) => n(e) === 'NoSuchEntity');
    const g = await root.send(new GetGroupCommand({ GroupName: 'devs' }));
    assert.deepEqual(g.Users?.map((u) => u.UserName), ['bob']);
    assert.deepEqual((await root.send(new ListGroupsForUserCommand({ UserName: 'bob' }))).Groups?.map((x) => x.GroupName), ['devs']);
    await root.send(new AttachGroupPolicyCommand({ GroupName: 'devs', PolicyArn: pol.Arn }));
    assert.deepEqual((await root.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'devs' }))).AttachedPolicies?.map((p) => p.PolicyName), ['photos-rw']);
    assert.equal(await iam.isAllowed(await bobP(), 's3:PutObject', OBJ), true, 'granted through the group');
    await root.send(new DetachGroupPolicyCommand({ GroupName: 'devs', PolicyArn: pol.Arn }));
    await root.send(new PutGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'inl', PolicyDocument: RW_PHOTOS }));
    assert.equal(decodeURIComponent((await root.send(new GetGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'inl' }))).PolicyDocument!), RW_PHOTOS);
    assert.equal(await iam.isAllowed(await bobP(), 's3:PutObject', OBJ), true, 'inline group policy');
    await root.send(new DeleteGroupPolicyCommand({ GroupName: 'devs', PolicyName: 'inl' }));
    await assert.rejects(root.send(new DeleteGroupCommand({ GroupName: 'devs' })), (e: any) => n(e) === 'DeleteConflict');
    await root.send(new RemoveUserFromGroupCommand({ GroupName: 'devs', UserName: 'bob' }));
    await root.send(new DeleteGroupCommand({ GroupName: 'devs' }));
    assert.deepEqual((await root.send(new ListGroupsCommand({}))).Groups, []);

    // Keys: deactivate, delete; then the user.
    await root.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: key.AccessKeyId, Status: 'Inactive' }));
    assert.equal(await iam.lookup(key.AccessKeyId!), undefined);
    await root.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: key.AccessKeyId }));
    await root.send(new DeletePolicyCommand({ PolicyArn: pol.Arn }));
    await root.send(new DeleteUserCommand({ UserName: 'bob' }));
    assert.deepEqual((await root.send(new ListUsersCommand({}))).Users ?? [], []);
    void client;
  } finally { await done(); }
});

test('IAM Query authorization: users need the admin: action; self-service GetUser', async () => {
  const { iam, client, done } = await setup();
  try {
    await iam.addUser('tom', 'tomsecret1', { status: 'enabled' });
    const tom = client('tom', 'tomsecret1');
    assert.equal((await tom.send(new GetUserCommand({}))).User?.UserName, 'tom', 'own user without a policy');
    await assert.rejects(tom.send(new ListUsersCommand({})), (e: any) => n(e) === 'AccessDenied' && e.$metadata.httpStatusCode === 403);
    await assert.rejects(tom.send(new GetUserCommand({ UserName: 'admin' })), (e: any) => n(e) === 'AccessDenied');
    await iam.setPolicies({ user: 'tom' }, ['consoleAdmin']);
    assert.ok((await tom.send(new ListUsersCommand({}))).Users?.some((u) => u.UserName === 'tom'));
    // A service account of an admin narrowed to s3 only cannot manage IAM.
    await iam.addServiceAccount({ parent: 'tom', accessKey: 'tomsvc', secretKey: 'tomsvcsecret', policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] }] }) });
    await assert.rejects(client('tomsvc', 'tomsvcsecret').send(new CreateUserCommand({ UserName: 'x1' })), (e: any) => n(e) === 'AccessDenied');
    await assert.rejects(client('nobody', 'whatever1').send(new ListUsersCommand({})), (e: any) => n(e) === 'AccessDenied');
  } finally { await done(); }
});

test('IAM Query XML: namespace, RequestId, error shape, pagination', async () => {
  const { iam, done } = await setup();
  try {
    const root = iam.rootPrincipal();
    const ctx = { iam, requestId: 'RQ1' };
    const call = (o: Record<string, string>) => handleIamQueryRequest(new URLSearchParams({ Version: '2010-05-08', ...o }), root, ctx);
    const r = await call({ Action: 'CreateUser', UserName: 'a<&>' }).then((x) => x);
    assert.equal(r.status, 400, 'invalid name');
    for (const n of ['u1', 'u2', 'u3']) assert.equal((await call({ Action: 'CreateUser', UserName: n })).status, 200);
    const x = parser.parse((await call({ Action: 'CreateUser', UserName: 'u4' })).body);
    assert.equal(x.CreateUserResponse['@_xmlns'], 'https://iam.amazonaws.com/doc/2010-05-08/');
    assert.equal(x.CreateUserResponse.CreateUserResult.User.UserName, 'u4');
    assert.equal(x.CreateUserResponse.ResponseMetadata.RequestId, 'RQ1');
    const p1 = parser.parse((await call({ Action: 'ListUsers', MaxItems: '3' })).body).ListUsersResponse.ListUsersResult;
    assert.equal(p1.IsTruncated, true);
    assert.deepEqual(p1.Users.member.map((u: any) => u.UserName), ['u1', 'u2', 'u3']);
    const p2 = parser.parse((await call({ Action: 'ListUsers', MaxItems: '3', Marker: p1.Marker })).body).ListUsersResponse.ListUsersResult;
    assert.equal(p2.IsTruncated, false);
    assert.equal(p2.Users.member.UserName, 'u4');
    const e = await call({ Action: 'DeleteUser', UserName: 'ghost' });
    assert.equal(e.status, 404);
    const err = parser.parse(e.body).ErrorResponse;
    assert.equal(err.Error.Type, 'Sender');
    assert.equal(err.Error.Code, 'NoSuchEntity');
    assert.equal(err.RequestId, 'RQ1');
    assert.equal(parser.parse((await call({ Action: 'Nope' })).body).ErrorResponse.Error.Code, 'InvalidAction');
    assert.equal(parser.parse((await call({ Action: 'CreateUser' })).body).ErrorResponse.Error.Code, 'ValidationError');
    assert.equal(parser.parse((await call({ Action: 'DeleteUser', UserName: 'admin' })).body).ErrorResponse.Error.Code, 'AccessDenied');
  } finally { await done(); }
});
