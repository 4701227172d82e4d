/**
 * IAM changes are shared across --workers at once: with two worker processes, a change
 * made through whichever worker took the IAM request applies to the very next S3 request
 * on every worker. Each check sends many requests on fresh connections, so both workers
 * answer some of them (node:cluster hands connections out round-robin). Bucket policies and
 * `admin config set` of a notify_* target are shared the same way.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutBucketNotificationConfigurationCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, DetachUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { AdminClient } from '../../src/cli/admin/client.js';
import { closeArgon2Pool } from '../../src/admin/madmin/argon2-derive.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let iam: IAMClient;
const bucket = 'e2e-workers';
const ROUNDS = 16;

before(async () => {
  server = await startServer({ workers: 2 });
  iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey } });
  const root = server.s3();
  await root.send(new CreateBucketCommand({ Bucket: bucket }));
  await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'k.txt', Body: 'value' }));
});
after(async () => {
  iam?.destroy();
  await server?.stop();
  await closeArgon2Pool(); // the admin payload key-derivation threads
});

/** Status codes of ROUNDS GetObject requests, each on a new connection. */
async function statuses(s3: S3Client): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    try {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k.txt' }));
      await r.Body!.transformToString();
      out.push(200);
    } catch (e: any) {
      out.push(e.$metadata?.httpStatusCode ?? -1);
    }
  }
  return out;
}

/** An unsigned GET on a new connection. */
function anonymousStatus(path: string): Promise<number> {
  return new Promise((ok, fail) => {
    request(server.url + path, { agent: false }, (res) => { res.resume(); ok(res.statusCode ?? -1); }).on('error', fail).end();
  });
}

test('attach and detach apply at once on every worker', async () => {
  await iam.send(new CreateUserCommand({ UserName: 'tom' }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'tom' }))).AccessKey!;
  // keepAlive off: every request opens a connection, spreading them over the workers.
  const s3 = new S3Client({
    endpoint: server.url, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! },
    requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
  });
  try {
    assert.deepEqual(await statuses(s3), Array(ROUNDS).fill(403), 'a new user is denied on every worker');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'tom', PolicyArn: 'arn:aws:iam::aws:policy/readonly' }));
    assert.deepEqual(await statuses(s3), Array(ROUNDS).fill(200), 'readonly applies on every worker');
    await iam.send(new DetachUserPolicyCommand({ UserName: 'tom', PolicyArn: 'arn:aws:iam::aws:policy/readonly' }));
    assert.deepEqual(await statuses(s3), Array(ROUNDS).fill(403), 'detach applies on every worker');
  } finally {
    s3.destroy();
  }
});

test('a bucket policy applies at once on every worker', async () => {
  const seen = async () => Promise.all(Array.from({ length: ROUNDS }, () => anonymousStatus(`/${bucket}/k.txt`)));
  assert.deepEqual(await seen(), Array(ROUNDS).fill(403));
  await server.s3().send(new PutBucketPolicyCommand({
    Bucket: bucket,
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] }),
  }));
  assert.deepEqual(await seen(), Array(ROUNDS).fill(200));
});

test('a notify target set through admin config is known to every worker at once', async () => {
  const admin = new AdminClient({ url: server.url, accessKey: server.accessKey, secretKey: server.secretKey, api: 's3v4', path: 'auto' });
  // A closed port: a target that cannot connect still exists (its events are queued).
  await admin.call('PUT', 'set-config-kv', { body: 'notify_webhook:w endpoint=http://127.0.0.1:1/', encrypt: true });
  const s3 = new S3Client({
    endpoint: server.url, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
    requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
  });
  try {
    const out: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      try {
        await s3.send(new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::w:webhook', Events: ['s3:ObjectCreated:*'] }] },
        }));
        out.push('ok');
      } catch (e: any) {
        out.push(`${e.name}: ${e.message}`);
      }
    }
    assert.deepEqual(out, Array(ROUNDS).fill('ok'));
  } finally {
    s3.destroy();
  }
});
