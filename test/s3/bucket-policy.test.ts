/**
 * Bucket policies against the real server: put/get/delete-bucket-policy and
 * get-bucket-policy-status with `aws s3api` (AWS CLI), validation errors (MalformedPolicy,
 * nothing changed), and what a policy does to requests: anonymous GetObject on a prefix
 * (checked with plain unsigned fetch), a grant to a named user with no identity policy,
 * and a bucket-policy Deny beating that user's readwrite.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand, GetBucketPolicyCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { startServer, type TestServer } from '../helpers/server.js';
import { awsCliEnv } from '../helpers/cli-env.js';

let server: TestServer;
let work: string;
let root: S3Client;
let iam: IAMClient;
const bucket = 'bp-bucket';

before(async () => {
  server = await startServer();
  root = server.s3();
  iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey } });
  work = mkdtempSync(join(tmpdir(), 's3gate-bp-'));
  writeFileSync(join(work, 'config'), '[default]\n');
  await root.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of ['pub/a.txt', 'team/t.txt', 'private/p.txt']) await root.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
});
after(async () => {
  iam?.destroy();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run { code: number; json: any; stderr: string }

/** `aws s3api ARGS` as root; never throws. */
function s3api(...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, ...awsCliEnv(work, { accessKeyId: server.accessKey, secretAccessKey: server.secretKey }) };
  return new Promise((ok) => {
    execFile('aws', ['s3api', ...args, '--endpoint-url', server.url, '--output', 'json'], { env }, (err, stdout, stderr) => {
      const code = err ? 1 : 0;
      ok({ code, json: code === 0 && stdout.trim() ? JSON.parse(stdout) : {}, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<any> {
  const r = await s3api(...args);
  assert.equal(r.code, 0, `aws s3api ${args.join(' ')}: ${r.stderr}`);
  return r.json;
}

async function fails(code: string, ...args: string[]): Promise<string> {
  const r = await s3api(...args);
  assert.notEqual(r.code, 0, `aws s3api ${args.join(' ')} should fail`);
  assert.match(r.stderr, new RegExp(`\\(${code}\\)`), `aws s3api ${args.join(' ')}: expected ${code}: ${r.stderr}`);
  return r.stderr;
}

/** Unsigned GET: what a browser or plain curl gets. */
const anonymousGet = (path: string) => fetch(server.url + path);

async function s3Fails(p: Promise<unknown>, code: string, what: string): Promise<void> {
  try { await p; } catch (e: any) {
    assert.equal(e.name, code, `${what}: expected ${code}, got ${e.name}`);
    return;
  }
  assert.fail(`${what}: expected ${code}, the request succeeded`);
}

const body = async (s3: S3Client, key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

const publicPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/pub/*` }],
});

test('no policy: get-bucket-policy and get-bucket-policy-status answer NoSuchBucketPolicy; anonymous is refused', async () => {
  const [get, status] = await Promise.all([fails('NoSuchBucketPolicy', 'get-bucket-policy', '--bucket', bucket), fails('NoSuchBucketPolicy', 'get-bucket-policy-status', '--bucket', bucket)]);
  assert.ok(get && status);
  assert.equal((await anonymousGet(`/${bucket}/pub/a.txt`)).status, 403);
  await fails('NoSuchBucket', 'get-bucket-policy', '--bucket', 'no-such-bucket');
});

test('put-bucket-policy, get-bucket-policy (verbatim), get-bucket-policy-status IsPublic for a prefix grant', async () => {
  assert.deepEqual(await ok('put-bucket-policy', '--bucket', bucket, '--policy', publicPolicy), {});
  const [got, status] = await Promise.all([ok('get-bucket-policy', '--bucket', bucket), ok('get-bucket-policy-status', '--bucket', bucket)]);
  assert.equal(got.Policy, publicPolicy);
  assert.deepEqual(status, { PolicyStatus: { IsPublic: true } });

  const r = await anonymousGet(`/${bucket}/pub/a.txt`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'body of pub/a.txt');
  assert.equal((await anonymousGet(`/${bucket}/private/p.txt`)).status, 403);
  assert.equal((await anonymousGet(`/${bucket}/?list-type=2`)).status, 403);
  const put = await fetch(`${server.url}/${bucket}/pub/new.txt`, { method: 'PUT', body: 'x' });
  assert.equal(put.status, 403);
});

let tom: S3Client;

test('a grant to a named user, IsPublic false; a bucket-policy Deny beats his readwrite', async () => {
  await iam.send(new CreateUserCommand({ UserName: 'tom' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'tom' }))).AccessKey!;
  tom = server.s3({ credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! } });
  await s3Fails(body(tom, 'team/t.txt'), 'AccessDenied', 'tom without any policy');

  const teamPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::000000000000:user/tom'] }, Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/team/*`] }],
  });
  await ok('put-bucket-policy', '--bucket', bucket, '--policy', teamPolicy);
  assert.deepEqual(await ok('get-bucket-policy-status', '--bucket', bucket), { PolicyStatus: { IsPublic: false } });
  assert.equal(await body(tom, 'team/t.txt'), 'body of team/t.txt', 'the bucket policy alone grants tom');
  await s3Fails(body(tom, 'private/p.txt'), 'AccessDenied', 'outside the grant');
  assert.equal((await anonymousGet(`/${bucket}/pub/a.txt`)).status, 403, 'the public grant was replaced');

  await iam.send(new AttachUserPolicyCommand({ UserName: 'tom', PolicyArn: 'arn:aws:iam::aws:policy/readwrite' }));
  assert.equal(await body(tom, 'private/p.txt'), 'body of private/p.txt');
  const denyPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Principal: { AWS: ['tom'] }, Action: ['s3:GetObject', 's3:PutObject'], Resource: [`arn:aws:s3:::${bucket}/private/*`] }],
  });
  await root.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: denyPolicy }));
  await s3Fails(body(tom, 'private/p.txt'), 'AccessDenied', 'bucket-policy Deny over readwrite');
  await s3Fails(tom.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/x.txt', Body: 'x' })), 'AccessDenied', 'bucket-policy Deny on PutObject');
  assert.equal(await body(tom, 'team/t.txt'), 'body of team/t.txt', 'readwrite still works elsewhere');
  // A user with readwrite may manage bucket policies (s3:*); without it he may not.
  assert.equal((await tom.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, denyPolicy);
});

test('invalid policies are refused with MalformedPolicy and change nothing', async () => {
  const before = (await root.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
  const stmt = (s: object) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*`, ...s }] });
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"Version": "2012-10-17", ', /JSON/],
    ['unknown action', stmt({ Action: 's3:GetObjekt' }), /s3:GetObjekt/],
    ['resource of another bucket', stmt({ Resource: 'arn:aws:s3:::other-bucket/*' }), /outside bucket/],
    ['no Principal', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] }), /Principal/],
    ['bad Effect', stmt({ Effect: 'Perhaps' }), /Effect/],
    ['unknown condition operator', stmt({ Condition: { StringSimilar: { 's3:prefix': 'a' } } }), /StringSimilar/],
  ];
  const results = await Promise.all(cases.map(([, policy]) => fails('MalformedPolicy', 'put-bucket-policy', '--bucket', bucket, '--policy', policy)));
  cases.forEach(([what, , message], i) => assert.match(results[i]!, message, `${what}: the message says what is wrong`));
  const huge = stmt({ Resource: Array.from({ length: 700 }, (_, i) => `arn:aws:s3:::${bucket}/some/long/prefix/number/${i}/*`) });
  assert.ok(huge.length > 20 * 1024);
  await s3Fails(root.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: huge })), 'PolicyTooLarge', 'a policy over 20 KiB');
  assert.equal((await root.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, before, 'the stored policy is unchanged');
});

test('delete-bucket-policy removes it; only allowed principals may manage policies', async () => {
  await ok('put-bucket-policy', '--bucket', bucket, '--policy', publicPolicy);
  assert.equal((await anonymousGet(`/${bucket}/pub/a.txt`)).status, 200);
  assert.deepEqual(await ok('delete-bucket-policy', '--bucket', bucket), {});
  await fails('NoSuchBucketPolicy', 'get-bucket-policy', '--bucket', bucket);
  assert.equal((await anonymousGet(`/${bucket}/pub/a.txt`)).status, 403, 'anonymous access ends with the policy');

  await iam.send(new CreateUserCommand({ UserName: 'reader' }));
  await iam.send(new AttachUserPolicyCommand({ UserName: 'reader', PolicyArn: 'arn:aws:iam::aws:policy/readonly' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!;
  const reader = server.s3({ credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! } });
  await s3Fails(reader.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy })), 'AccessDenied', 'readonly user putting a policy');
  await s3Fails(reader.send(new GetBucketPolicyCommand({ Bucket: bucket })), 'AccessDenied', 'readonly user reading the policy');
  await fails('NoSuchBucketPolicy', 'get-bucket-policy', '--bucket', bucket);
});
