/**
 * Delivery guarantees through the real server with a Redis target (access format, so
 * the list shows every delivery in order) on a redis-server of our own that the test
 * starts and stops:
 *  - target down during 1,000 PUT/DELETE operations, then up: every event, in order;
 *  - the gateway killed with SIGKILL while events are queued (and again while the
 *    backlog is being delivered), restarted on the same data dir: nothing that was
 *    acknowledged to the S3 client is lost, order is kept; at-least-once, so a replay
 *    after a kill mid-delivery may repeat the last few events delivered before it
 *    (the offset is persisted behind acks); the number seen is printed;
 *  - the same with --workers 2 (workers forward to the primary, which owns the queue).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { startServer, type TestServer } from '../helpers/server.js';
import { closedPort, requireService } from '../helpers/services.js';
import { sleep, ThrowawayRedis, until } from './e2e-helpers.js';
import { MAX_BATCH } from '../../src/events/delivery.js';

const LIST = 'fault-events';
const bucket = 'fault-bucket';

interface Op { eventName: string; key: string; requestId: string }

function serverEnv(redisPort: number): Record<string, string> {
  return {
    MINIO_NOTIFY_REDIS_ENABLE_1: 'on', MINIO_NOTIFY_REDIS_ADDRESS_1: `127.0.0.1:${redisPort}`, MINIO_NOTIFY_REDIS_KEY_1: LIST, MINIO_NOTIFY_REDIS_FORMAT_1: 'access',
  };
}

async function configureBucket(s3: S3Client): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketNotificationConfigurationCommand({
    Bucket: bucket,
    NotificationConfiguration: { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }] },
  }));
}

/**
 * PUT k<i> then DELETE k<i>, sequentially (each sent after the previous was answered),
 * `count` operations. Only acknowledged operations are recorded; `stopAfter` aborts the
 * run (the caller kills the server) once that many were acknowledged.
 */
async function runOperations(s3: S3Client, count: number, tag: string, acked: Op[], onAck?: (n: number) => void): Promise<void> {
  for (let i = 0; acked.length < count; i++) {
    const key = `${tag}/k${Math.floor(i / 2)}`;
    try {
      const r = i % 2 === 0
        ? await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${i}` }))
        : await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      acked.push({ eventName: i % 2 === 0 ? 's3:ObjectCreated:Put' : 's3:ObjectRemoved:Delete', key, requestId: r.$metadata.requestId! });
      onAck?.(acked.length);
    } catch {
      return; // the server went away: this operation was not acknowledged
    }
  }
}

async function delivered(redis: Redis): Promise<Op[]> {
  return (await redis.lrange(LIST, 0, -1)).map((raw) => {
    const r = JSON.parse(raw)[0].Event[0];
    return { eventName: r.eventName, key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')), requestId: r.responseElements['x-amz-request-id'] };
  });
}

/**
 * Checks at-least-once, in order: every acknowledged op is there; reading the list
 * front to back never skips ahead (a replay may step back and repeat); events the
 * client never saw acknowledged (in flight at a kill) may appear only in their place.
 * Returns the number of repeated deliveries.
 */
function checkInOrderAtLeastOnce(got: Op[], acked: Op[], allowedExtra: number, where: string): number {
  const index = new Map(acked.map((o, i) => [`${o.eventName} ${o.requestId}`, i]));
  let max = -1;
  let repeats = 0;
  let extras = 0;
  const seen = new Set<number>();
  for (const [pos, g] of got.entries()) {
    const i = index.get(`${g.eventName} ${g.requestId}`);
    if (i === undefined) { extras++; continue; }
    assert.ok(i <= max + 1, `${where}: delivery #${pos} is op ${i} but op ${max + 1} was not delivered yet (order broken or an event lost)`);
    if (seen.has(i)) repeats++;
    seen.add(i);
    max = Math.max(max, i);
  }
  const missing = acked.map((_, i) => i).filter((i) => !seen.has(i));
  assert.deepEqual(missing.slice(0, 10), [], `${where}: ${missing.length} acknowledged events never delivered`);
  assert.ok(extras <= allowedExtra, `${where}: ${extras} deliveries of events never acknowledged (at most ${allowedExtra} in flight at kills)`);
  return repeats;
}

test('target down during 1,000 operations, then up: every event arrives, in order, once', async () => {
  await requireService('redis'); // the redis-server binary comes with it
  const target = await ThrowawayRedis.reserve();
  const server = await startServer({ env: serverEnv(target.port) });
  try {
    const s3 = server.s3({ maxAttempts: 1 });
    await configureBucket(s3);
    const acked: Op[] = [];
    await runOperations(s3, 1000, 'down', acked);
    assert.equal(acked.length, 1000);
    await target.start();
    const redis = new Redis({ port: target.port, host: '127.0.0.1' });
    try {
      await until(async () => (await redis.llen(LIST)) >= 1000, 60_000, '1000 events in redis');
      await sleep(500);
      const got = await delivered(redis);
      const repeats = checkInOrderAtLeastOnce(got, acked, 0, 'outage');
      assert.equal(repeats, 0, 'without a crash each event is delivered once');
      assert.deepEqual(got, acked);
      assert.match(server.output(), /event target not reachable/, 'the outage is logged');
      assert.match(server.output(), /event target online/, 'the recovery is logged');
    } finally {
      redis.disconnect();
    }
  } finally {
    await server.stop();
    await target.stop();
  }
});

interface Restarts {
  /** The throwaway Redis the target points at, reserved but not started. */
  target: ThrowawayRedis;
  /** A client for it, connected by the test once the target is up. */
  redis: Redis;
  /** Starts the server on the one data dir; the last one started is stopped at the end. */
  start(): Promise<TestServer>;
}

/**
 * What the crash tests share: one data dir that servers are started on again and again,
 * on the same port or (newPortEachStart) a new one each time, and a Redis target.
 */
async function withRestarts(opts: { workers?: number; newPortEachStart?: boolean; eventsSync?: string }, body: (r: Restarts) => Promise<void>): Promise<void> {
  await requireService('redis');
  const target = await ThrowawayRedis.reserve();
  const dataDir = mkdtempSync(join(tmpdir(), 's3gate-fault-'));
  const port = await closedPort();
  const redis = new Redis({ port: target.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  let last: TestServer | undefined;
  const start = async () => (last = await startServer({ dataDir, port: opts.newPortEachStart ? await closedPort() : port, workers: opts.workers, env: { ...serverEnv(target.port), ...(opts.eventsSync ? { S3GATE_EVENTS_SYNC: opts.eventsSync } : {}) } }));
  try {
    await body({ target, redis, start });
  } finally {
    redis.disconnect();
    await last?.stop();
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// interval: the event is in the kernel before the response, on disk within 0.1 s; kill -9 loses none either
for (const { workers, eventsSync } of [{ workers: 1 }, { workers: 2 }, { workers: 2, eventsSync: 'interval' }]) {
  test(`kill -9 with events queued (and again mid-delivery), restart on the same data dir: none lost (--workers ${workers}${eventsSync ? `, events sync ${eventsSync}` : ''})`, async () => {
    await withRestarts({ workers, eventsSync }, async ({ target, redis, start }) => {
      let server = await start();
      assert.match(server.output(), new RegExp(`fsync on, events sync ${eventsSync ?? 'always'}\\)`), 'the server runs in the mode under test');
      let s3 = server.s3({ maxAttempts: 1 });
      await configureBucket(s3);
      const acked: Op[] = [];
      // Kill while the operations run: the op in flight is not acknowledged.
      let killing: Promise<unknown> | undefined;
      const victim = server;
      await runOperations(s3, 1000, 'kill', acked, (n) => { if (n === 600 && !killing) killing = victim.stop('SIGKILL'); });
      await killing;
      const inFlightKills = 1;
      assert.ok(acked.length >= 600 && acked.length < 1000, `${acked.length} acknowledged before the kill`);

      // Restart (target still down) and add more, then kill again with everything queued:
      // more than one delivery batch (MAX_BATCH) in all.
      server = await start();
      s3 = server.s3({ maxAttempts: 1 });
      const more: Op[] = [];
      await runOperations(s3, MAX_BATCH + 100 - acked.length, 'after', more);
      acked.push(...more);
      await server.stop('SIGKILL');

      // Restart, bring the target up, kill once some of the backlog was delivered (its first
      // batch, before the next one).
      server = await start();
      await target.start();
      await redis.connect();
      await until(async () => (await redis.llen(LIST)) >= 100, 60_000, 'delivery to start');
      await server.stop('SIGKILL');
      const beforeKill = await redis.llen(LIST);
      assert.ok(beforeKill < acked.length, `the kill came after all ${acked.length} were delivered, not mid-delivery`);

      server = await start();
      await until(async () => new Set((await delivered(redis)).map((o) => o.requestId + o.eventName)).size >= acked.length, 60_000, `${acked.length} distinct events in redis`);
      await sleep(500);
      const got = await delivered(redis);
      const repeats = checkInOrderAtLeastOnce(got, acked, inFlightKills, `workers=${workers}`);
      console.log(`# workers=${workers}: ${acked.length} acknowledged, ${got.length} delivered (${beforeKill} before the kill mid-delivery), ${repeats} repeated after the kill`);
    });
  });
}

test('kill -9 with events queued, restart on another port (a new instance id): the old queue is taken over, none lost', async () => {
  await withRestarts({ newPortEachStart: true }, async ({ target, redis, start }) => {
    let server = await start();
    const s3 = server.s3({ maxAttempts: 1 });
    await configureBucket(s3);
    const acked: Op[] = [];
    await runOperations(s3, 20, 'moved', acked);
    await server.stop('SIGKILL');

    await target.start();
    await redis.connect();
    server = await start();
    // Taken over once the dead instance's lease has said the same for 10 s (checked every 10 s).
    await until(async () => (await redis.llen(LIST)) >= 20, 60_000, '20 events of the old instance in redis');
    await sleep(300);
    assert.deepEqual(await delivered(redis), acked);
    assert.match(server.output(), /moved queued events into the journal.*\.from-/);
  });
});
