/**
 * Filter routing through the real server: prefix/suffix/event-name rules of several
 * QueueConfigurations send each event to exactly the targets whose rule matches
 * (two Redis access-format targets, one key each, read back with LRANGE).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { startServer, type TestServer } from '../helpers/server.js';
import { requireService } from '../helpers/services.js';
import { sleep, until } from './e2e-helpers.js';

const tag = `${process.pid}-${Date.now() % 100000}`;
const keyA = `e2e-filter-a-${tag}`;
const keyB = `e2e-filter-b-${tag}`;
const bucket = 'e2e-filters';
let server: TestServer;
let s3: S3Client;
let redis: Redis;

before(async () => {
  await requireService('redis');
  redis = new Redis({ host: '127.0.0.1', port: 6379 });
  server = await startServer({
    env: {
      MINIO_NOTIFY_REDIS_ENABLE_a: 'on', MINIO_NOTIFY_REDIS_ADDRESS_a: '127.0.0.1:6379', MINIO_NOTIFY_REDIS_KEY_a: keyA, MINIO_NOTIFY_REDIS_FORMAT_a: 'access',
      MINIO_NOTIFY_REDIS_ENABLE_b: 'on', MINIO_NOTIFY_REDIS_ADDRESS_b: '127.0.0.1:6379', MINIO_NOTIFY_REDIS_KEY_b: keyB, MINIO_NOTIFY_REDIS_FORMAT_b: 'access',
    },
  });
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await server?.stop();
  if (redis) { await redis.del(keyA, keyB); redis.disconnect(); }
});

const rule = (arn: string, events: string[], prefix?: string, suffix?: string) => ({
  QueueArn: arn, Events: events as any[],
  Filter: prefix || suffix ? { Key: { FilterRules: [...(prefix ? [{ Name: 'prefix' as const, Value: prefix }] : []), ...(suffix ? [{ Name: 'suffix' as const, Value: suffix }] : [])] } } : undefined,
});

async function events(key: string): Promise<string[]> {
  return (await redis.lrange(key, 0, -1)).map((raw) => {
    const r = JSON.parse(raw)[0].Event[0];
    return `${r.eventName} ${decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))}`;
  });
}

test('prefix, suffix and event-name filters route each event to the matching targets only', async () => {
  await s3.send(new PutBucketNotificationConfigurationCommand({
    Bucket: bucket,
    NotificationConfiguration: {
      QueueConfigurations: [
        rule('arn:minio:sqs::a:redis', ['s3:ObjectCreated:*'], 'photos/', '.jpg'),
        rule('arn:minio:sqs::a:redis', ['s3:ObjectRemoved:Delete'], 'logs/'),
        rule('arn:minio:sqs::b:redis', ['s3:ObjectCreated:Put', 's3:ObjectAccessed:Get'], undefined, '.txt'),
        // Same target, different filter, overlapping events: accepted (as MinIO does).
        rule('arn:minio:sqs::b:redis', ['s3:ObjectCreated:*'], 'photos/'),
      ],
    },
  }));
  const put = (Key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
  await put('photos/a.jpg'); // a (created, prefix+suffix), b (photos/ rule)
  await put('photos/a.png'); // b (photos/ rule)
  await put('other/a.jpg'); // nobody
  await put('photos.jpg'); // nobody: prefix is 'photos/'
  await put('notes/x.txt'); // b (.txt Put)
  await put('logs/y'); // nobody (only deletes under logs/)
  await put('photos/n.txt'); // b once, though two of b's rules match
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'photos/copy.jpg', CopySource: `${bucket}/photos/a.jpg` })); // a, b (Copy is ObjectCreated:*)
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'notes/copy.txt', CopySource: `${bucket}/notes/x.txt` })); // nobody: b wants Put only for .txt
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'notes/x.txt' })); // b
  await got.Body!.transformToString();
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'logs/y' })); // a
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'photos/a.png' })); // nobody

  const wantA = ['s3:ObjectCreated:Put photos/a.jpg', 's3:ObjectCreated:Copy photos/copy.jpg', 's3:ObjectRemoved:Delete logs/y'];
  const wantB = ['s3:ObjectCreated:Put photos/a.png', 's3:ObjectCreated:Put photos/a.jpg', 's3:ObjectCreated:Put notes/x.txt', 's3:ObjectCreated:Put photos/n.txt', 's3:ObjectCreated:Copy photos/copy.jpg', 's3:ObjectAccessed:Get notes/x.txt'].sort();
  await until(async () => (await redis.llen(keyA)) >= wantA.length && (await redis.llen(keyB)) >= wantB.length, 15_000, 'routed events');
  await sleep(500); // nothing more arrives
  assert.deepEqual(await events(keyA), wantA);
  const b = await events(keyB);
  // Changes in operation order (a Get is queued just after its response, so only its presence is checked).
  assert.deepEqual([...b].sort(), wantB);
  assert.deepEqual(b.filter((e) => !e.includes('Accessed')), ['s3:ObjectCreated:Put photos/a.jpg', 's3:ObjectCreated:Put photos/a.png', 's3:ObjectCreated:Put notes/x.txt', 's3:ObjectCreated:Put photos/n.txt', 's3:ObjectCreated:Copy photos/copy.jpg']);
});
