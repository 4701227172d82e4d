import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openQueue } from './fixtures/queue.js';
import { BATCH_INTERVAL_MS, DeliveryLoop, MAX_BATCH } from '../../src/events/delivery.js';
import type { EventTarget, QueuedEvent } from '../../src/events/target.js';
import type { QueueConsumer } from '../../src/events/journal.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedisTarget } from '../../src/events/targets/redis.js';
import { createWebhookTarget } from '../../src/events/targets/webhook.js';
import { Redis } from 'ioredis';
import { createHttpTestTarget } from './fixtures/http-target.js';
import { freePort, startReceiver } from './fixtures/receiver.js';
import { until } from './e2e-helpers.js';

function ev(i: number): QueuedEvent {
  return { eventName: 's3:ObjectCreated:Put', key: `b/k${i}`, eventTime: '2024-01-01T00:00:00.000Z', record: { eventName: 's3:ObjectCreated:Put', eventTime: '', s3: { bucket: { name: 'b' }, object: { key: `k${i}` } } } };
}

test('target down (closed port), 1000 events queued, target comes up: all arrive in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-delivery-'));
  const port = await freePort();
  const queue = await openQueue(dir, 100000);
  const target = createHttpTestTarget('1', { endpoint: `http://127.0.0.1:${port}/events` });
  const loop = new DeliveryLoop(target, queue, { arn: 'arn:minio:sqs::1:webhook', initialBackoffMs: 20, maxBackoffMs: 200 });
  const logs: string[] = [];
  const origErr = console.error;
  const origLog = console.log;
  console.error = (l: string) => logs.push(l);
  console.log = (l: string) => logs.push(l);
  try {
    loop.start();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => queue.append(ev(i))));
    await until(() => loop.status().failedAttempts >= 3, 5000, 'failed attempts');
    const down = loop.status();
    assert.equal(down.online, false);
    assert.equal(down.queued, 1000);
    assert.match(down.lastError ?? '', /ECONNREFUSED/);

    const receiver = await startReceiver(port);
    await until(() => receiver.keys.length >= 1000, 20000, '1000 deliveries');
    assert.deepEqual(receiver.keys, Array.from({ length: 1000 }, (_, i) => `b/k${i}`));
    const up = loop.status();
    assert.equal(up.online, true);
    assert.equal(up.delivered, 1000);
    assert.equal(up.queued, 0);
    await loop.stop();
    await queue.journal.close();
    await receiver.close();
  } finally {
    console.error = origErr;
    console.log = origLog;
  }
  // Logged once when it failed and once when it came back, not once per retry.
  assert.equal(logs.filter((l) => l.includes("event delivery failed")).length, 1, logs.join("\n"));
  assert.equal(logs.filter((l) => l.includes('event target online')).length, 1, logs.join('\n'));
  await rm(dir, { recursive: true });
});

test('delivery resumes after a restart from where it stopped (at least once, in order)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-delivery-'));
  const port = await freePort();
  const receiver = await startReceiver(port);
  let queue = await openQueue(dir, 100000);
  await Promise.all(Array.from({ length: 300 }, (_, i) => queue.append(ev(i))));
  let loop = new DeliveryLoop(createHttpTestTarget('1', { endpoint: `http://127.0.0.1:${port}/` }), queue, { arn: 'a', initialBackoffMs: 10 });
  loop.start();
  await until(() => receiver.keys.length >= 100, 10000, '100 deliveries');
  await loop.stop();
  await queue.journal.close();
  const firstRun = receiver.keys.length;
  queue = await openQueue(dir, 100000);
  assert.equal(queue.size, 300 - firstRun);
  loop = new DeliveryLoop(createHttpTestTarget('1', { endpoint: `http://127.0.0.1:${port}/` }), queue, { arn: 'a', initialBackoffMs: 10 });
  loop.start();
  await until(() => receiver.keys.length >= 300, 10000, 'all deliveries');
  await loop.stop();
  await queue.journal.close();
  assert.deepEqual(receiver.keys, Array.from({ length: 300 }, (_, i) => `b/k${i}`));
  await receiver.close();
  await rm(dir, { recursive: true });
});

interface RedisLoop {
  queue: QueueConsumer;
  loop: DeliveryLoop;
  /** Events per round trip, in order. */
  sizes: number[];
  /** The object keys in the Redis list (format access), in order. */
  listedKeys(): Promise<string[]>;
}

/** A delivery loop to the real Redis target (format access), the size of every round trip written down. */
async function withRedisLoop(tag: string, body: (r: RedisLoop) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-delivery-'));
  const key = `s3gate-test-${tag}-${process.pid}-${Date.now()}`;
  const redisTarget = createRedisTarget('b', { address: '127.0.0.1:6379', key, format: 'access' });
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const sizes: number[] = [];
  const target: EventTarget = {
    type: 'redis', id: 'b',
    init: () => redisTarget.init(),
    send: (e) => { sizes.push(1); return redisTarget.send(e); },
    sendBatch: (es) => { sizes.push(es.length); return redisTarget.sendBatch!(es); },
    isOnline: () => redisTarget.isOnline(),
    close: () => redisTarget.close(),
  };
  const queue = await openQueue(dir, 100000);
  const loop = new DeliveryLoop(target, queue, { arn: 'arn:minio:sqs::b:redis' });
  const listedKeys = async () => (await redis.lrange(key, 0, -1)).map((l) => JSON.parse(l)[0].Event[0].s3.object.key as string);
  try {
    await body({ queue, loop, sizes, listedKeys });
  } finally {
    await loop.stop();
    await queue.journal.close();
    await redis.del(key);
    redis.disconnect();
    await rm(dir, { recursive: true });
  }
}

test('a steady stream of events reaches Redis in batches, in order', async () => {
  await withRedisLoop('batches', async ({ queue, loop, sizes, listedKeys }) => {
    loop.start();
    await until(() => loop.status().online, 5000, 'redis target online');
    // 100 events about a millisecond apart: without the batch interval each is one round trip.
    const start = performance.now();
    for (let i = 0; i < 100; i++) {
      await queue.append(ev(i));
      await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => loop.status().delivered === 100, 10000, '100 deliveries');
    const elapsedMs = performance.now() - start;
    assert.deepEqual(await listedKeys(), Array.from({ length: 100 }, (_, i) => `k${i}`));
    // At most one batch starts per interval (timers only run late, never early), and
    // however slow the machine, batches average more than one event.
    const trips = `100 events in ${elapsedMs.toFixed(0)} ms took ${sizes.length} round trips: ${sizes.join(',')}`;
    assert.ok(sizes.length <= Math.ceil(elapsedMs / BATCH_INTERVAL_MS) + 1, trips);
    assert.ok(sizes.length <= 50, trips);

    // After a quiet spell an event travels alone.
    await new Promise((r) => setTimeout(r, 100));
    const before = sizes.length;
    await queue.append(ev(100));
    await until(() => loop.status().delivered === 101, 5000, 'the lone event');
    assert.deepEqual(sizes.slice(before), [1]);
  });
});

test('a backlog reaches Redis in batches of up to MAX_BATCH (a target keeps up with thousands of events a second)', async () => {
  await withRedisLoop('backlog', async ({ queue, loop, sizes, listedKeys }) => {
    const total = 2 * MAX_BATCH + 500;
    await Promise.all(Array.from({ length: total }, (_, i) => queue.append(ev(i))));
    loop.start();
    await until(() => loop.status().delivered === total, 20000, `${total} deliveries`);
    // One batch per BATCH_INTERVAL_MS: a target can be sent 10,000 events a second.
    assert.ok((MAX_BATCH * 1000) / BATCH_INTERVAL_MS >= 10_000, `${MAX_BATCH} per ${BATCH_INTERVAL_MS} ms`);
    assert.deepEqual(sizes, [MAX_BATCH, MAX_BATCH, 500]);
    assert.deepEqual(await listedKeys(), Array.from({ length: total }, (_, i) => `k${i}`));
  });
});

test('webhook: a POST refused mid-batch is retried from that event; the ones acknowledged before it are not sent again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-delivery-'));
  const got: string[] = [];
  let refused = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const key = JSON.parse(body).Key as string;
      got.push(key);
      // b/k5 is refused once, after b/k0..k4 were acknowledged in the same batch.
      if (key === 'b/k5' && !refused) { refused = true; res.statusCode = 503; }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  const queue = await openQueue(dir, 1000);
  // All 20 are queued before the loop starts, so the first batch holds all of them.
  for (let i = 0; i < 20; i++) await queue.append(ev(i));
  const loop = new DeliveryLoop(createWebhookTarget('p', { endpoint: `http://127.0.0.1:${port}/` }), queue, { arn: 'arn:minio:sqs::p:webhook', initialBackoffMs: 20 });
  const origErr = console.error;
  console.error = () => {};
  try {
    loop.start();
    await until(() => loop.status().delivered === 20, 10000, '20 deliveries');
    const want = Array.from({ length: 20 }, (_, i) => `b/k${i}`);
    assert.ok(refused);
    assert.deepEqual(got.slice(0, 5), want.slice(0, 5));
    assert.equal(got.filter((k) => want.indexOf(k) < 5).length, 5, `k0..k4 were sent once each: ${got.join(' ')}`);
    // From the refused one on, the last copy of each event arrives in order.
    const lastCopies = want.map((k) => got.lastIndexOf(k));
    assert.deepEqual([...lastCopies].sort((a, b) => a - b), lastCopies, got.join(' '));
    assert.equal(loop.status().queued, 0);
  } finally {
    console.error = origErr;
    await loop.stop();
    await queue.journal.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true });
  }
});
