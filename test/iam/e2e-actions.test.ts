/**
 * How S3 operations map to policy actions and conditions, through the real server with
 * real clients: copy needs PutObject on the destination and GetObject on the source;
 * multipart uploads need only s3:PutObject (writeonly); tagging has its own actions;
 * presigned URLs carry the signer's rights (and an STS session's token); request
 * conditions aws:SourceIp, aws:SecureTransport, s3:prefix/s3:delimiter and
 * s3:ExistingObjectTag decide as written.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  GetObjectTaggingCommand, ListObjectsV2Command, PutObjectCommand, PutObjectTaggingCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreatePolicyCommand, CreateUserCommand, DetachUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let root: S3Client;
let iam: IAMClient;
const bucket = 'e2e-actions';
const clients: { destroy(): void }[] = [];

before(async () => {
  server = await startServer();
  root = server.s3();
  iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey } });
  clients.push(iam);
  await root.send(new CreateBucketCommand({ Bucket: bucket }));
  await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'src/open.txt', Body: 'open source', Tagging: 'class=public' }));
  await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'src/closed.txt', Body: 'closed source', Tagging: 'class=secret' }));
  await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/p.txt', Body: 'private' }));
});
after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

interface Keys { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

let counter = 0;
/** A fresh user with exactly these statements (as a managed policy); its S3 client and keys. */
async function userWith(statements: object[]): Promise<{ s3: S3Client; keys: Keys; name: string }> {
  const name = `u${++counter}`;
  await iam.send(new CreateUserCommand({ UserName: name }));
  const p = await iam.send(new CreatePolicyCommand({ PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
  await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: p.Policy!.Arn! }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  const keys = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  return { s3: server.s3({ credentials: keys }), keys, name };
}

async function denied(p: Promise<unknown>, what: string): Promise<void> {
  try { await p; } catch (e: any) {
    assert.equal(e.name, 'AccessDenied', `${what}: expected AccessDenied, got ${e.name}: ${e.message}`);
    return;
  }
  assert.fail(`${what}: expected AccessDenied, the request succeeded`);
}

const read = async (s3: S3Client, key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
const obj = (k: string) => `arn:aws:s3:::${bucket}/${k}`;

test('CopyObject needs PutObject on the destination and GetObject on the source', async () => {
  const { s3 } = await userWith([
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [obj('src/open.txt')] },
    { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [obj('dst/*')] },
  ]);
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst/copy.txt', CopySource: `${bucket}/src/open.txt` }));
  assert.equal(await read(root, 'dst/copy.txt'), 'open source');
  await denied(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst/copy2.txt', CopySource: `${bucket}/src/closed.txt` })), 'copy from an unreadable source');
  await denied(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'elsewhere/copy.txt', CopySource: `${bucket}/src/open.txt` })), 'copy to an unwritable destination');
});

test('writeonly: PutObject and a whole multipart upload, but no reading', async () => {
  const name = `u${++counter}`;
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: 'arn:aws:iam::aws:policy/writeonly' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  const s3 = server.s3({ credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! } });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'w/one.txt', Body: 'one' }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'w/multi.bin' }));
  const part = Buffer.alloc(5 * 1024 * 1024, 7);
  const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'w/multi.bin', UploadId: up.UploadId, PartNumber: 1, Body: part }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'w/multi.bin', UploadId: up.UploadId, PartNumber: 2, Body: 'tail' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'w/multi.bin', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
  const got = await root.send(new GetObjectCommand({ Bucket: bucket, Key: 'w/multi.bin' }));
  assert.equal(got.ContentLength, part.length + 4);
  await got.Body!.transformToByteArray();
  await denied(read(s3, 'w/one.txt'), 'GetObject under writeonly');
  await denied(s3.send(new ListObjectsV2Command({ Bucket: bucket })), 'listing under writeonly');
});

test('object tagging has its own actions; s3:ExistingObjectTag conditions read the stored tags', async () => {
  const { s3 } = await userWith([
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [obj('src/*')], Condition: { StringEquals: { 's3:ExistingObjectTag/class': 'public' } } },
    { Effect: 'Allow', Action: ['s3:PutObject'], Resource: [obj('tagged/*')] },
  ]);
  assert.equal(await read(s3, 'src/open.txt'), 'open source');
  await denied(read(s3, 'src/closed.txt'), 'GetObject of an object tagged class=secret');
  await denied(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'src/open.txt' })), 'GetObjectTagging needs s3:GetObjectTagging');
  // A write that sets tags needs s3:PutObjectTagging too.
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged/plain.txt', Body: 'x' }));
  await denied(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged/t.txt', Body: 'x', Tagging: 'a=b' })), 'PutObject with x-amz-tagging');
  await denied(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged/plain.txt', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } })), 'PutObjectTagging');
});

test('s3:prefix and s3:delimiter conditions on listing', async () => {
  const { s3 } = await userWith([
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`], Condition: { StringEquals: { 's3:prefix': ['', 'src/'], 's3:delimiter': '/' } } },
  ]);
  const top = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
  assert.ok(top.CommonPrefixes?.some((p) => p.Prefix === 'src/'));
  const src = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'src/', Delimiter: '/' }));
  assert.deepEqual(src.Contents?.map((o) => o.Key), ['src/closed.txt', 'src/open.txt']);
  await denied(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'private/', Delimiter: '/' })), 'another prefix');
  await denied(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'src/' })), 'without the delimiter');
});

test('aws:SourceIp and aws:SecureTransport decide as written (requests come from 127.0.0.1 over http)', async () => {
  const { s3 } = await userWith([
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [obj('src/open.txt')], Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [obj('src/closed.txt')], Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [obj('private/p.txt')], Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
  ]);
  assert.equal(await read(s3, 'src/open.txt'), 'open source');
  await denied(read(s3, 'src/closed.txt'), 'a SourceIp range the client is not in');
  await denied(read(s3, 'private/p.txt'), 'SecureTransport true over plain http');
});

test('presigned URLs carry the signer\'s rights, also for STS sessions (token in the query)', async () => {
  const { s3, keys } = await userWith([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [obj('src/*')] }]);
  const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'src/open.txt' }), { expiresIn: 300 });
  const r = await fetch(get);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'open source');
  const other = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'private/p.txt' }), { expiresIn: 300 });
  assert.equal((await fetch(other)).status, 403);
  const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'src/new.txt' }), { expiresIn: 300 });
  assert.equal((await fetch(put, { method: 'PUT', body: 'x' })).status, 403);

  const sts = new STSClient({ endpoint: server.url, region: 'us-east-1', credentials: keys });
  clients.push(sts);
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'presign' }))).Credentials!;
  const session = server.s3({ credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
  const viaSession = await getSignedUrl(session, new GetObjectCommand({ Bucket: bucket, Key: 'src/open.txt' }), { expiresIn: 300 });
  assert.match(viaSession, /X-Amz-Security-Token=/);
  assert.equal((await fetch(viaSession)).status, 200);
  const stripped = viaSession.replace(/&?X-Amz-Security-Token=[^&]*/, '');
  assert.equal((await fetch(stripped)).status, 403, 'the same URL without its token');
});

test('changing a user\'s policies applies to the next request', async () => {
  const { s3, name } = await userWith([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [obj('src/*')] }]);
  assert.equal(await read(s3, 'src/open.txt'), 'open source');
  await iam.send(new DetachUserPolicyCommand({ UserName: name, PolicyArn: `arn:aws:iam::000000000000:policy/${name}-policy` }));
  await denied(read(s3, 'src/open.txt'), 'right after detach');
});
