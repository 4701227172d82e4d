import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableQueue } from '../../src/events/queue.js';
import { adoptOrphanQueues, LeaseKeeper } from '../../src/events/queue-lease.js';
import { TargetRegistry } from '../../src/events/registry.js';
import { createConfigService } from '../../src/config/service.js';
import { notifySubsystems } from '../../src/events/notify-subsystems.js';
import type { QueuedEvent } from '../../src/events/target.js';
import { freePort, startReceiver } from './fixtures/receiver.js';
import { until } from './e2e-helpers.js';

function ev(key: string): QueuedEvent {
  return { eventName: 's3:ObjectCreated:Put', key: `b/${key}`, eventTime: '2024-01-01T00:00:00.000Z', record: { eventName: 's3:ObjectCreated:Put', eventTime: '', s3: { bucket: { name: 'b' }, object: { key } } } };
}

/** A queue of instance `instance` under root holding these keys, undelivered. */
async function leftBehind(root: string, instance: string, name: string, keys: string[]): Promise<void> {
  const q = await DurableQueue.open({ dir: join(root, instance, name), limit: 1000 });
  for (const k of keys) await q.append(ev(k));
  await q.close();
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

async function keysOf(q: DurableQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.size > 0) {
    const batch = await q.nextBatch(100);
    out.push(...batch.map((i) => i.event.key));
    q.ack(batch[batch.length - 1].seq);
  }
  return out;
}

test('the queue of an instance whose process is gone is taken over: its events follow ours, in order, and its queue directory goes', async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-lease-'));
  await leftBehind(root, 'host-9000', 'webhook-1', ['old0', 'old1', 'old2', 'old3', 'old4']);
  await writeFile(join(root, 'host-9000', 'lease.json'), JSON.stringify({ host: hostname(), pid: deadPid(), heartbeatAt: Date.now() }));
  const ours = await DurableQueue.open({ dir: join(root, 'host-9001', 'webhook-1'), limit: 1000 });
  await ours.append(ev('new0'));
  const o = { root, instanceId: 'host-9001', name: 'webhook-1', into: ours, quickMs: 0 };
  // The first look only notes what the lease says; it must say the same a while later.
  assert.equal(await adoptOrphanQueues(o), 0);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await adoptOrphanQueues(o), 5);
  assert.deepEqual(await keysOf(ours), ['b/new0', 'b/old0', 'b/old1', 'b/old2', 'b/old3', 'b/old4']);
  assert.deepEqual(await readdir(join(root, 'host-9000')), ['lease.json']);
  assert.deepEqual((await readdir(join(root, 'host-9001'))).sort(), ['webhook-1']);
  await ours.close();
  await rm(root, { recursive: true });
});

test('the queue of a live instance, and of another target, is left alone', async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-lease-'));
  await leftBehind(root, 'live-9000', 'webhook-1', ['a', 'b']);
  await leftBehind(root, 'gone-9000', 'redis-1', ['c']);
  await writeFile(join(root, 'gone-9000', 'lease.json'), JSON.stringify({ host: hostname(), pid: deadPid(), heartbeatAt: 0, closed: true }));
  const live = new LeaseKeeper(root, 'live-9000');
  await live.start();
  const ours = await DurableQueue.open({ dir: join(root, 'host-9001', 'webhook-1'), limit: 1000 });
  const o = { root, instanceId: 'host-9001', name: 'webhook-1', into: ours, quickMs: 0, staleMs: 60_000 };
  for (let i = 0; i < 3; i++) {
    assert.equal(await adoptOrphanQueues(o), 0);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(ours.size, 0);
  assert.deepEqual((await readdir(root)).sort(), ['gone-9000', 'host-9001', 'live-9000']);
  await live.stop();
  await ours.close();
  await rm(root, { recursive: true });
});

test('a claim cut short by a crash is finished by the next start', async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-lease-'));
  // What a crash between the claiming rename and the end of the copy leaves.
  await leftBehind(root, 'host-9001', 'webhook-1.from-host-9000', ['x', 'y']);
  const ours = await DurableQueue.open({ dir: join(root, 'host-9001', 'webhook-1'), limit: 1000 });
  assert.equal(await adoptOrphanQueues({ root, instanceId: 'host-9001', name: 'webhook-1', into: ours }), 2);
  assert.deepEqual(await keysOf(ours), ['b/x', 'b/y']);
  assert.deepEqual(await readdir(join(root, 'host-9001')), ['webhook-1']);
  await ours.close();
  await rm(root, { recursive: true });
});

test('started on another port, the server delivers what it had queued under the old one', async () => {
  const sysDir = await mkdtemp(join(tmpdir(), 's3gate-lease-sys-'));
  const port = await freePort();
  const receiver = await startReceiver(port);
  const subsystems = (await notifySubsystems()).filter((s) => s.name === 'notify_webhook');
  const config = await createConfigService({ sysDir, subsystems, env: {} });
  await config.set({ subsys: 'notify_webhook', target: '1', kvs: { endpoint: `http://127.0.0.1:${port}/` } });
  // The instance on port 9000 queued three events its target never got, then stopped.
  await mkdir(join(sysDir, 'queues'), { recursive: true });
  await leftBehind(join(sysDir, 'queues'), 'host-9000', 'webhook-1', ['k0', 'k1', 'k2']);
  const before = new LeaseKeeper(join(sysDir, 'queues'), 'host-9000');
  await before.start();
  await before.stop();
  const registry = new TargetRegistry({ config, sysDir, instanceId: 'host-9001', region: '', announce: () => {}, staleness: { quickMs: 0 }, adoptIntervalMs: 50 });
  const origLog = console.log;
  console.log = () => {};
  try {
    await registry.reconcile();
    await until(() => receiver.keys.length >= 3, 10_000, 'the old instance\'s events');
    assert.deepEqual(receiver.keys, ['b/k0', 'b/k1', 'b/k2']);
    assert.deepEqual(await readdir(join(sysDir, 'queues', 'host-9000')), ['lease.json']);
  } finally {
    console.log = origLog;
    await registry.close();
    config.close();
    await receiver.close();
    await rm(sysDir, { recursive: true });
  }
});
