import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventJournal } from '../../src/events/journal.js';
import { adoptOrphanQueues, LeaseKeeper, migrateLegacyQueues } from '../../src/events/queue-lease.js';
import { TargetRegistry } from '../../src/events/registry.js';
import { createConfigService } from '../../src/config/service.js';
import { notifySubsystems } from '../../src/events/notify-subsystems.js';
import type { QueuedEvent } from '../../src/events/target.js';
import { freePort, startReceiver } from './fixtures/receiver.js';
import { until } from './e2e-helpers.js';
import { keysOf } from './fixtures/queue.js';

function ev(key: string): QueuedEvent {
  return { eventName: 's3:ObjectCreated:Put', key: `b/${key}`, eventTime: '2024-01-01T00:00:00.000Z', record: { eventName: 's3:ObjectCreated:Put', eventTime: '', s3: { bucket: { name: 'b' }, object: { key } } } };
}

/** The journal of instance `instance` under root holding these keys for `target`, undelivered. */
async function leftBehind(root: string, instance: string, target: string, keys: string[], journalDir = 'journal'): Promise<void> {
  const journal = await EventJournal.open({ dir: join(root, instance, journalDir) });
  const c = journal.consumer(target);
  for (const k of keys) await journal.append(ev(k), [c]);
  await journal.close();
}

/** What an older s3gate left: <root>/<instance>/<target>/ with bare event lines. */
async function legacyQueue(root: string, instance: string, target: string, keys: string[]): Promise<void> {
  await mkdir(join(root, instance, target), { recursive: true });
  await writeFile(join(root, instance, target, '0000000000000000.jsonl'), keys.map((k) => JSON.stringify(ev(k)) + '\n').join(''));
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

async function ourJournal(root: string, instance: string): Promise<EventJournal> {
  return EventJournal.open({ dir: join(root, instance, 'journal') });
}

test('the journal of an instance whose process is gone is taken over: its events follow ours, in order, for the same targets, and it goes', async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-lease-'));
  await leftBehind(root, 'host-9000', 'webhook-1', ['old0', 'old1', 'old2', 'old3', 'old4']);
  await leftBehind(root, 'host-9000', 'redis-1', ['r0'], 'journal.from-host-8000'); // a claim it had not finished
  await writeFile(join(root, 'host-9000', 'lease.json'), JSON.stringify({ host: hostname(), pid: deadPid(), heartbeatAt: Date.now() }));
  const into = await ourJournal(root, 'host-9001');
  const ours = into.attach('webhook-1', { limit: 1000, label: 'webhook-1' });
  await ours.append(ev('new0'));
  const o = { root, instanceId: 'host-9001', into, quickMs: 0 };
  // The first look only notes what the lease says; it must say the same a while later.
  assert.equal(await adoptOrphanQueues(o), 0);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await adoptOrphanQueues(o), 6);
  assert.deepEqual(await keysOf(ours), ['b/new0', 'b/old0', 'b/old1', 'b/old2', 'b/old3', 'b/old4']);
  // A target this instance does not run (yet) keeps its events here.
  assert.deepEqual(await keysOf(into.consumer('redis-1')), ['b/r0']);
  assert.deepEqual(await readdir(join(root, 'host-9000')), ['lease.json']);
  assert.deepEqual((await readdir(join(root, 'host-9001'))).sort(), ['journal']);
  await into.close();
  await rm(root, { recursive: true });
});

test('the journal of a live instance is left alone', async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-lease-'));
  await leftBehind(root, 'live-9000', 'webhook-1', ['a', 'b']);
  const live = new LeaseKeeper(root, 'live-9000');
  await live.start();
  const into = await ourJournal(root, 'host-9001');
  const o = { root, instanceId: 'host-9001', into, quickMs: 0, staleMs: 60_000 };
  for (let i = 0; i < 3; i++) {
    assert.equal(await adoptOrphanQueues(o), 0);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(into.consumer('webhook-1').size, 0);
  assert.deepEqual((await readdir(join(root, 'live-9000'))).sort(), ['journal', 'lease.json']);
  await live.stop();
  await into.close();
  await rm(root, { recursive: true });
});

test('a claim cut short by a crash is finished by the next start', async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-lease-'));
  // What a crash between the claiming rename and the end of the copy leaves.
  await leftBehind(root, 'host-9001', 'webhook-1', ['x', 'y'], 'journal.from-host-9000');
  const into = await ourJournal(root, 'host-9001');
  assert.equal(await adoptOrphanQueues({ root, instanceId: 'host-9001', into }), 2);
  assert.deepEqual(await keysOf(into.consumer('webhook-1')), ['b/x', 'b/y']);
  assert.deepEqual(await readdir(join(root, 'host-9001')), ['journal']);
  await into.close();
  await rm(root, { recursive: true });
});

test("an older s3gate's per-target queues move into the journal: this instance's own, and a gone instance's", async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-lease-'));
  await legacyQueue(root, 'host-9001', 'webhook-1', ['mine0', 'mine1']);
  await legacyQueue(root, 'host-9001', 'redis-1', ['r0']);
  await legacyQueue(root, 'old-9000', 'webhook-1', ['theirs0']); // no lease: an older s3gate
  const into = await ourJournal(root, 'host-9001');
  assert.equal(await migrateLegacyQueues(root, 'host-9001', into), 3);
  assert.deepEqual((await readdir(join(root, 'host-9001'))).sort(), ['journal']);
  const o = { root, instanceId: 'host-9001', into, staleMs: 0 };
  assert.equal(await adoptOrphanQueues(o), 0);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await adoptOrphanQueues(o), 1);
  assert.deepEqual(await keysOf(into.consumer('webhook-1')), ['b/mine0', 'b/mine1', 'b/theirs0']);
  assert.deepEqual(await keysOf(into.consumer('redis-1')), ['b/r0']);
  await into.close();
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
  await legacyQueue(join(sysDir, 'queues'), 'host-9001', 'webhook-1', ['mine']); // left by an older s3gate on this port
  const before = new LeaseKeeper(join(sysDir, 'queues'), 'host-9000');
  await before.start();
  await before.stop();
  const registry = new TargetRegistry({ config, sysDir, instanceId: 'host-9001', region: '', announce: () => {}, staleness: { quickMs: 0 }, adoptIntervalMs: 50 });
  const origLog = console.log;
  console.log = () => {};
  try {
    await registry.reconcile();
    await until(() => receiver.keys.length >= 4, 10_000, 'the old instance\'s events');
    assert.deepEqual(receiver.keys, ['b/mine', 'b/k0', 'b/k1', 'b/k2']);
    assert.deepEqual(await readdir(join(sysDir, 'queues', 'host-9000')), ['lease.json']);
  } finally {
    console.log = origLog;
    await registry.close();
    config.close();
    await receiver.close();
    await rm(sysDir, { recursive: true });
  }
});
