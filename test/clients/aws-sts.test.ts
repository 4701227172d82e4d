/**
 * STS AssumeRole against the real server, with `aws sts assume-role` (AWS CLI) and
 * @aws-sdk/client-sts, the temporary credentials used for S3 with @aws-sdk/client-s3.
 * Two server instances share one data dir: credentials one issues are accepted by the
 * other at once (self-contained tokens signed with the shared key), even for a user the
 * other instance has not seen yet.
 *
 * Expiry in real time would take 15 minutes (the minimum DurationSeconds): here the
 * Expiration field is checked, and refusal of an expired token is covered with an
 * injected clock in test/iam/sts.test.ts. Tampered tokens are refused here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, DetachUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { startServer, type TestServer } from '../helpers/server.js';
import { awsCliEnv } from '../helpers/cli-env.js';

interface Keys { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

let a: TestServer;
let b: TestServer;
let work: string;
let tom: Keys;
const bucket = 'sts-bucket';
const clients: { destroy(): void }[] = [];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 's3gate-sts-e2e-'));
  writeFileSync(join(work, 'config'), '[default]\n');
  const dataDir = join(work, 'data');
  a = await startServer({ dataDir });
  b = await startServer({ dataDir });
  // tom is created through A after B started: B has not read him yet.
  const iam = track(new IAMClient({ endpoint: a.url, region: 'us-east-1', credentials: rootOf(a) }));
  await iam.send(new CreateUserCommand({ UserName: 'tom' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'tom' }))).AccessKey!;
  tom = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  await iam.send(new AttachUserPolicyCommand({ UserName: 'tom', PolicyArn: 'arn:aws:iam::aws:policy/readwrite' }));
  const s3 = a.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of ['pub/a.txt', 'pub/b.txt', 'private/c.txt']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
});
after(async () => {
  for (const c of clients) c.destroy();
  await a?.stop();
  await b?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function track<T extends { destroy(): void }>(c: T): T {
  clients.push(c);
  return c;
}
const rootOf = (s: TestServer): Keys => ({ accessKeyId: s.accessKey, secretAccessKey: s.secretKey });
const stsClient = (s: TestServer, keys: Keys) => track(new STSClient({ endpoint: s.url, region: 'us-east-1', credentials: keys }));
const iamAdmin = () => track(new IAMClient({ endpoint: a.url, region: 'us-east-1', credentials: rootOf(a) }));

/** `aws ARGS --endpoint-url URL --output json` as the given identity. */
function aws(s: TestServer, keys: Keys, ...args: string[]): Promise<any> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, ...awsCliEnv(work, keys) };
  return new Promise((ok, fail) => {
    execFile('aws', [...args, '--endpoint-url', s.url, '--output', 'json'], { env }, (err, stdout, stderr) => {
      if (err) fail(Object.assign(new Error(`aws ${args.join(' ')} failed: ${stderr}`), { stderr }));
      else ok(stdout.trim() ? JSON.parse(stdout) : {});
    });
  });
}

async function read(s3: S3Client, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

async function refused(p: Promise<unknown>, code: string, status: number, what: string): Promise<void> {
  try {
    await p;
  } catch (e: any) {
    // Modelled STS errors come back as <Code>Exception classes.
    assert.equal(String(e.name).replace(/Exception$/, ''), code, `${what}: expected ${code}, got ${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, status, what);
    return;
  }
  assert.fail(`${what}: expected ${code}, the request succeeded`);
}

let cliCreds: Keys;

test('aws sts assume-role (AWS CLI): AWS-shaped credentials, DurationSeconds 900 sets the Expiration', async () => {
  const before = Date.now();
  const out = await aws(a, tom, 'sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/anything',
    '--role-session-name', 'cli-session', '--duration-seconds', '900');
  const c = out.Credentials;
  assert.match(c.AccessKeyId, /^[A-Z0-9]{20}$/);
  assert.equal(c.SecretAccessKey.length, 40);
  assert.ok(c.SessionToken.length > 100);
  const exp = Date.parse(c.Expiration);
  assert.ok(exp >= Math.floor(before / 1000) * 1000 + 900_000 && exp <= Date.now() + 900_000 + 1000, `Expiration ${c.Expiration} is 900 s ahead`);
  assert.equal(out.AssumedRoleUser.Arn, 'arn:aws:sts::000000000000:assumed-role/tom/cli-session');
  assert.match(out.AssumedRoleUser.AssumedRoleId, /:cli-session$/);
  cliCreds = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };

  // The CLI itself with the temporary credentials (AWS_SESSION_TOKEN).
  const who = await aws(a, cliCreds, 'sts', 'get-caller-identity');
  assert.equal(who.Account, '000000000000');
  assert.equal(who.Arn, out.AssumedRoleUser.Arn, 'policies see the ARN the session was given');
  const listed = await aws(a, cliCreds, 's3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'pub/');
  assert.deepEqual(listed.Contents.map((o: any) => o.Key), ['pub/a.txt', 'pub/b.txt']);
});

test('temporary credentials work for S3 with the token, and are refused without it or with a tampered one', async () => {
  const s3 = a.s3({ credentials: cliCreds });
  assert.equal(await read(s3, 'private/c.txt'), 'body of private/c.txt');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sts/put.txt', Body: 'by the session' }));
  assert.equal(await read(a.s3(), 'sts/put.txt'), 'by the session');

  const noToken = a.s3({ credentials: { accessKeyId: cliCreds.accessKeyId, secretAccessKey: cliCreds.secretAccessKey } });
  await refused(read(noToken, 'pub/a.txt'), 'InvalidAccessKeyId', 403, 'temporary key without its session token');

  const [h, claims, sig] = cliCreds.sessionToken!.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
  payload.exp += 7 * 86400;
  const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
  await refused(read(a.s3({ credentials: { ...cliCreds, sessionToken: forged } }), 'pub/a.txt'), 'InvalidToken', 400, 'token with a tampered payload');
  await refused(read(a.s3({ credentials: { ...cliCreds, sessionToken: 'not-a-token' } }), 'pub/a.txt'), 'InvalidToken', 400, 'garbage token');
  // A long-term key sent with somebody's session token.
  await refused(read(a.s3({ credentials: { ...tom, sessionToken: cliCreds.sessionToken } }), 'pub/a.txt'), 'InvalidToken', 400, "tom's own key with a session token");
});

test('@aws-sdk/client-sts AssumeRole with a session policy: only GetObject on pub/', async () => {
  const Policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/pub/*`] }],
  });
  const out = await stsClient(a, tom).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'narrow', Policy }));
  const c = out.Credentials!;
  assert.ok(c.Expiration instanceof Date);
  const ahead = c.Expiration!.getTime() - Date.now();
  assert.ok(ahead > 3590_000 && ahead <= 3601_000, `default duration is 3600 s (got ${ahead} ms)`);
  const s3 = a.s3({ credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
  assert.equal(await read(s3, 'pub/a.txt'), 'body of pub/a.txt');
  await refused(read(s3, 'private/c.txt'), 'AccessDenied', 403, 'GetObject outside the session policy');
  await refused(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'pub/new.txt', Body: 'x' })), 'AccessDenied', 403, 'PutObject (tom may, the session may not)');
  await refused(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'pub/' })), 'AccessDenied', 403, 'listing (not in the session policy)');
});

test('AssumeRole arguments: DurationSeconds outside 900..604800, oversized or invalid policy, who may call', async () => {
  const sts = stsClient(a, tom);
  const assume = (extra: object) => sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'args', ...extra }));
  await refused(assume({ DurationSeconds: 899 }), 'InvalidParameterValue', 400, 'DurationSeconds 899');
  await refused(assume({ DurationSeconds: 604801 }), 'InvalidParameterValue', 400, 'DurationSeconds 604801');
  const week = await assume({ DurationSeconds: 604800 });
  const ahead = week.Credentials!.Expiration!.getTime() - Date.now();
  assert.ok(ahead > 604790_000 && ahead <= 604801_000, `604800 s is accepted (got ${ahead} ms)`);

  const big = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: Array.from({ length: 80 }, (_, i) => `arn:aws:s3:::${bucket}/prefix-number-${i}/*`) }],
  });
  assert.ok(big.length > 2048);
  await refused(assume({ Policy: big }), 'PackedPolicyTooLarge', 400, 'session policy over 2048 characters');
  await refused(assume({ Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Fly","Resource":"*"}]}' }), 'MalformedPolicyDocument', 400, 'unknown action');

  // A session cannot mint further sessions; anonymous callers are refused.
  const session = await assume({});
  const c = session.Credentials!;
  await refused(stsClient(a, { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! })
    .send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'again' })), 'AccessDenied', 403, 'AssumeRole with temporary credentials');
  const anon = await fetch(a.url + '/', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=AssumeRole&Version=2011-06-15&DurationSeconds=900',
  });
  assert.equal(anon.status, 403);
  assert.match(await anon.text(), /<Code>AccessDenied<\/Code>/);
  // A wrong secret is a signature error in the STS error shape.
  await refused(stsClient(a, { ...tom, secretAccessKey: 'wrong-secret-wrong-secret' }).send(new GetCallerIdentityCommand({})), 'SignatureDoesNotMatch', 403, 'bad signature');
});

test('credentials issued by one instance are accepted by a second instance on the same data dir', async () => {
  // Issued by A for tom, whom B has not read yet (no IAM refresh has run on B).
  const onB = b.s3({ credentials: cliCreds });
  assert.equal(await read(onB, 'pub/b.txt'), 'body of pub/b.txt');
  await onB.send(new PutObjectCommand({ Bucket: bucket, Key: 'sts/from-b.txt', Body: 'via B' }));
  assert.equal(await read(a.s3(), 'sts/from-b.txt'), 'via B');
  // And the other way round, issued by B through the CLI.
  const out = await aws(b, tom, 'sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/x', '--role-session-name', 'from-b');
  const viaB = { accessKeyId: out.Credentials.AccessKeyId, secretAccessKey: out.Credentials.SecretAccessKey, sessionToken: out.Credentials.SessionToken };
  assert.equal(await read(a.s3({ credentials: viaB }), 'pub/a.txt'), 'body of pub/a.txt');
});

test("a session follows its parent's current rights", async () => {
  const s3 = a.s3({ credentials: cliCreds });
  await iamAdmin().send(new DetachUserPolicyCommand({ UserName: 'tom', PolicyArn: 'arn:aws:iam::aws:policy/readwrite' }));
  await refused(read(s3, 'pub/a.txt'), 'AccessDenied', 403, 'after the parent lost readwrite');
  await iamAdmin().send(new AttachUserPolicyCommand({ UserName: 'tom', PolicyArn: 'arn:aws:iam::aws:policy/readonly' }));
  assert.equal(await read(s3, 'pub/a.txt'), 'body of pub/a.txt');
  await refused(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sts/ro.txt', Body: 'x' })), 'AccessDenied', 403, 'PutObject with a readonly parent');
});
