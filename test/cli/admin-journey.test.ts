/**
 * The seeds' admin journeys through the `s3gate admin` CLI against the real server
 * (test/helpers/server.ts): users, policies, groups, a service account with chosen
 * keys used for S3 requests, and a Redis notification target configured at run time
 * (no restart) that receives the event of an upload.
 *
 * Needs the lead's wiring of madminRoute (src/admin/madmin/http-route.ts) into the
 * server's control routes, and Redis on 127.0.0.1:6379.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { startServer, type TestServer } from '../helpers/server.js';
import { runAdminCli, runAliasCli } from '../../src/cli/admin/index.js';
import { runCliOk, type CliEntry } from '../helpers/admin-cli.js';
import { closeArgon2Pool } from '../../src/admin/madmin/argon2-derive.js';

let server: TestServer;
let dir: string;
let env: NodeJS.ProcessEnv;
const clients: S3Client[] = [];

before(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 's3gate-journey-'));
  env = { S3GATE_CONFIG_DIR: join(dir, 'cfg') };
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
  await closeArgon2Pool();
  rmSync(dir, { recursive: true, force: true });
});

const run = (fn: CliEntry, ...argv: string[]) => runCliOk(fn, env, argv);
const admin = (...a: string[]) => run(runAdminCli, ...a);

test('alias set, then user add/list/info/disable/enable/remove', async () => {
  assert.equal(await run(runAliasCli, 'set', 'myjfs', server.url, server.accessKey, server.secretKey), 'Added `myjfs` successfully.\n');
  assert.equal(await admin('user', 'add', 'myjfs', 'user1', 'admin123'), 'Added user `user1` successfully.\n');
  assert.match(await admin('user', 'list', 'myjfs'), /^enabled {4}user1\n$/m);
  assert.match(await admin('user', 'info', 'myjfs', 'user1'), /Status: enabled/);
  await admin('user', 'disable', 'myjfs', 'user1');
  assert.match(await admin('user', 'info', 'myjfs', 'user1'), /Status: disabled/);
  await admin('user', 'enable', 'myjfs', 'user1');
  await admin('user', 'add', 'myjfs', 'gone', 'gone-secret');
  assert.equal(await admin('user', 'remove', 'myjfs', 'gone'), 'Removed user `gone` successfully.\n');
});

test('policy add from a JSON file, info, list, set readonly user=user1; group add/info/disable', async () => {
  const file = join(dir, 'writeonly.json');
  writeFileSync(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['arn:aws:s3:::*'] }] }));
  await admin('policy', 'add', 'myjfs', 'mywriteonly', file);
  assert.match(await admin('policy', 'info', 'myjfs', 'mywriteonly'), /"s3:PutObject"/);
  assert.match(await admin('policy', 'list', 'myjfs'), /^mywriteonly$/m);
  await admin('policy', 'set', 'myjfs', 'readonly', 'user=user1');
  assert.match(await admin('user', 'list', 'myjfs'), /^enabled {4}user1 {17}readonly$/m);
  await admin('group', 'add', 'myjfs', 'devs', 'user1');
  assert.match(await admin('group', 'info', 'myjfs', 'devs'), /Members: user1/);
  await admin('group', 'disable', 'myjfs', 'devs');
  assert.match(await admin('group', 'info', 'myjfs', 'devs'), /Status: disabled/);
});

test('svcacct add with chosen keys, then the service account does S3 requests with its parent\'s (readonly) rights', async () => {
  const root = server.s3();
  const bucket = `journey-${randomBytes(4).toString('hex')}`;
  await root.send(new CreateBucketCommand({ Bucket: bucket }));
  await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hi' }));
  assert.match(await admin('user', 'svcacct', 'add', 'myjfs', 'user1', '--access-key', 'svcacct1', '--secret-key', '123456abc'), /^Access Key: svcacct1\nSecret Key: 123456abc\n/);
  const sa = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'svcacct1', secretAccessKey: '123456abc' } });
  clients.push(sa);
  const got = await sa.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
  assert.equal(await got.Body!.transformToString(), 'hi');
  await assert.rejects(sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'no' })), (e: any) => e.name === 'AccessDenied');
  assert.match(await admin('user', 'svcacct', 'ls', 'myjfs', 'user1'), /^svcacct1 /m);
});

test('config set notify_redis:1 at run time, bucket notification with arn:minio:sqs::1:redis, the event lands in Redis', async () => {
  const key = `bucketevents-${randomBytes(4).toString('hex')}`;
  assert.equal(await admin('config', 'set', 'myjfs', 'notify_redis:1', 'address=127.0.0.1:6379', `key=${key}`, 'format=namespace'), 'Successfully applied new settings.\n');
  assert.match(await admin('config', 'get', 'myjfs', 'notify_redis:1'), new RegExp(`key=${key} `));
  const root = server.s3();
  const bucket = `images-${randomBytes(4).toString('hex')}`;
  await root.send(new CreateBucketCommand({ Bucket: bucket }));
  await root.send(new PutBucketNotificationConfigurationCommand({
    Bucket: bucket,
    NotificationConfiguration: { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.jpg' }] } } }] },
  }));
  await root.send(new PutObjectCommand({ Bucket: bucket, Key: 'myphoto.jpg', Body: 'jpeg', ContentType: 'image/jpeg' }));
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  try {
    await redis.connect();
    let value: string | null = null;
    for (let i = 0; i < 100 && !value; i++) {
      value = await redis.hget(key, `${bucket}/myphoto.jpg`);
      if (!value) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(value, 'the event reached the Redis hash');
    assert.equal(JSON.parse(value).Records[0].eventName, 's3:ObjectCreated:Put');
    assert.match(await admin('target', 'status', 'myjfs'), /arn:minio:sqs:[^:]*:1:redis\s+online/);
    await redis.del(key);
  } finally {
    redis.disconnect();
  }
  await admin('config', 'reset', 'myjfs', 'notify_redis:1');
});
