import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { PosixBackend } from '../../src/storage/posix/backend.js';
import { createConfigService } from '../../src/config/service.js';
import { createEventService } from '../../src/events/service.js';
import { notifySubsystems } from '../../src/events/notify-subsystems.js';
import { freePort } from './fixtures/receiver.js';
import { until } from './e2e-helpers.js';

test('redis target at a closed port, 1000 PUT events, re-pointed at the real Redis: all arrive in order', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 's3gate-redis-'));
  const key = `s3gate-test-${randomBytes(4).toString('hex')}`;
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  await redis.connect();
  const backend = await PosixBackend.open({ dataDir, instanceId: 't', fsync: false }, true);
  await backend.createBucket('images');
  const subsystems = (await notifySubsystems()).filter((s) => s.name === 'notify_redis');
  assert.equal(subsystems.length, 1, 'the redis target module is available');
  const closed = await freePort();
  const config = await createConfigService({ sysDir: backend.sysDir, subsystems, env: {} });
  const events = await createEventService({ sysDir: backend.sysDir, backend, region: '', instanceId: 'h-1', config, initialBackoffMs: 20, maxBackoffMs: 200, announce: () => {} });
  try {
    await config.set({ subsys: 'notify_redis', target: '1', kvs: { address: `127.0.0.1:${closed}`, key, format: 'access' } });
    await events.putBucketNotification('images', '<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event><Queue>arn:minio:sqs::1:redis</Queue></QueueConfiguration></NotificationConfiguration>');
    const request = { principal: { kind: 'root' as const, accessKey: 'admin', username: 'admin', userId: 'admin' }, requestId: 'R', region: '', sourceIp: '127.0.0.1', host: '127.0.0.1', port: '', userAgent: 't', time: new Date() };
    await Promise.all(Array.from({ length: 1000 }, (_, i) => events.publish({ name: 's3:ObjectCreated:Put', bucket: 'images', key: `k${String(i).padStart(4, '0')}`, size: i, etag: 'e' }, request)));
    await until(async () => ((await events.status())[0]?.failedAttempts ?? 0) > 0, 15000, 'a failed attempt');
    const [down] = await events.status();
    assert.equal(down.online, false);
    assert.equal(down.queued, 1000);
    assert.equal(await redis.llen(key), 0);

    // Fix the address at run time: the target is replaced, its queue is kept and replayed.
    await config.set({ subsys: 'notify_redis', target: '1', kvs: { address: '127.0.0.1:6379' } });
    await until(async () => (await redis.llen(key)) >= 1000, 30000, '1000 list entries');
    const items = await redis.lrange(key, 0, -1);
    assert.equal(items.length, 1000);
    const keys = items.map((s) => JSON.parse(s)[0].Event[0].s3.object.key);
    assert.deepEqual(keys, Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`));
    await until(async () => (await events.status())[0]?.queued === 0, 5000, 'queue drained');
    const [up] = await events.status();
    assert.equal(up.online, true);
    assert.equal(up.delivered, 1000);
  } finally {
    await events.close();
    config.close();
    await redis.del(key);
    redis.disconnect();
    await rm(dataDir, { recursive: true });
  }
});
