import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolWriter } from '../../src/events/spool.js';
import { MERGE_INTERVAL_MS, SpoolMerger, type MergedEvent } from '../../src/events/spool-merger.js';
import { EventJournal } from '../../src/events/journal.js';
import { adoptOrphanQueues } from '../../src/events/queue-lease.js';
import type { QueuedEvent } from '../../src/events/target.js';
import { until } from './e2e-helpers.js';
import { keysOf } from './fixtures/queue.js';
import { settle } from './fixtures/settle.js';

function ev(key: string): QueuedEvent {
  return { eventName: 's3:ObjectCreated:Put', key: `b/${key}`, eventTime: '2024-01-01T00:00:00.000Z', record: { eventName: 's3:ObjectCreated:Put', eventTime: '', s3: { bucket: { name: 'b' }, object: { key } } } };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

function writer(journalDir: string, pid: number, tag: string, segmentLines?: number): SpoolWriter {
  return new SpoolWriter(join(journalDir, `spool-${pid}-${tag}`), { sync: 'always', segmentLines });
}

const append = (w: SpoolWriter, key: string, to = ['1:webhook']) => w.append(to, JSON.stringify(ev(key)));

/** A merger whose queue() records what it got. */
function merger(journalDir: string, live: number[]): { m: SpoolMerger; got: MergedEvent[] } {
  const got: MergedEvent[] = [];
  const m = new SpoolMerger(journalDir, async (items) => { got.push(...items); }, () => new Set(live));
  return { m, got };
}

test('spools of two workers are merged in the order their appends were answered', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-spool-'));
  const a = writer(dir, process.pid, 'aa');
  const b = writer(dir, process.pid, 'bb');
  const { m, got } = merger(dir, [process.pid]);
  m.start();
  try {
    // Each append is answered before the next one (on the other spool) is made.
    for (let i = 0; i < 40; i++) {
      await append(i % 2 ? b : a, `k${i}`);
      if (i % 10 === 0) m.spooled();
    }
    m.spooled();
    await until(() => got.length >= 40, 10_000, '40 merged');
    assert.deepEqual(got.map((e) => e.event.key), Array.from({ length: 40 }, (_, i) => `b/k${i}`));
    assert.deepEqual(got[0].keys, ['1:webhook']);
    // The line queued is the event's JSON as written, not a second stringify.
    assert.equal(got[5].line, JSON.stringify(ev('k5')));
  } finally {
    await m.close();
    await a.close();
    await b.close();
    await rm(dir, { recursive: true });
  }
});

test('the first write after a quiet spell is merged at once; while workers write, their calls do not put the next round off', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-spool-'));
  // Not synced: the steps below must stay well within BUSY_MS of real time.
  const w = new SpoolWriter(join(dir, `spool-${process.pid}-ee`), { sync: 'none' });
  const { m, got } = merger(dir, [process.pid]);
  const keys = () => got.map((e) => e.event.key);
  mock.timers.enable({ apis: ['setTimeout'] }); // the merger's timers fire on tick() only
  try {
    m.start(); // nothing written yet: the idle interval
    await append(w, 'q0');
    m.spooled();
    mock.timers.tick(0);
    await settle(() => got.length === 1, 5000);
    assert.deepEqual(keys(), ['b/q0'], 'merged without waiting for a merge interval');
    // Busy now (the round queued something; its next one is due MERGE_INTERVAL_MS on):
    // workers call as they write, and the round due stays due.
    await append(w, 'q1');
    m.spooled();
    mock.timers.tick(MERGE_INTERVAL_MS - 10);
    m.spooled();
    mock.timers.tick(9);
    await settle(() => got.length === 2);
    assert.deepEqual(keys(), ['b/q0'], 'not merged before the interval');
    mock.timers.tick(1);
    await settle(() => got.length === 2, 5000);
    assert.deepEqual(keys(), ['b/q0', 'b/q1']);
  } finally {
    mock.timers.reset();
    await m.close();
    await w.close();
    await rm(dir, { recursive: true });
  }
});

test('a gone worker\'s spool is merged up to a torn last line, then deleted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-spool-'));
  const pid = deadPid();
  const w = writer(dir, pid, 'cc');
  for (const k of ['x0', 'x1', 'x2']) await append(w, k, ['1:webhook', 'r:redis']);
  await w.close();
  const spool = join(dir, `spool-${pid}-cc`);
  const [segment] = await readdir(spool);
  // A write that a crash cut short: half a line, never answered.
  await appendFile(join(spool, segment), '{"t":1,"to":["1:webhook"],"event":{"eventName":"s3:Obj');
  const { m, got } = merger(dir, []);
  await m.recover();
  assert.deepEqual(got.map((e) => [e.event.key, e.keys.join(',')]), [['b/x0', '1:webhook,r:redis'], ['b/x1', '1:webhook,r:redis'], ['b/x2', '1:webhook,r:redis']]);
  assert.deepEqual(await readdir(dir), []);
  await m.close();
  await rm(dir, { recursive: true });
});

test('what was merged is not merged again by a new merger; merged segments are deleted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 's3gate-spool-'));
  const w = writer(dir, process.pid, 'dd', 5);
  const spool = join(dir, `spool-${process.pid}-dd`);
  for (let i = 0; i < 12; i++) await append(w, `s${i}`);
  assert.equal((await readdir(spool)).filter((n) => n.endsWith('.jsonl')).length, 3);
  const first = merger(dir, [process.pid]);
  first.m.start();
  first.m.spooled();
  await until(() => first.got.length >= 12, 10_000, '12 merged');
  // Progress is written within PROGRESS_DELAY_MS of the last merge.
  await until(async () => (await readdir(spool)).filter((n) => n.endsWith('.jsonl')).length === 1, 5_000, 'merged segments deleted');
  await first.m.close();
  // Up to the end of the last line, where the zeros written ahead begin.
  assert.deepEqual(JSON.parse(await readFile(join(spool, 'merged.json'), 'utf8')), { segment: '0000000000000010.jsonl', offset: (await readFile(join(spool, '0000000000000010.jsonl'))).indexOf(0) });

  const second = merger(dir, [process.pid]);
  second.m.start();
  second.m.spooled();
  await append(w, 's12');
  await append(w, 's13');
  second.m.spooled();
  await until(() => second.got.length >= 2, 10_000, 'the new events merged');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(second.got.map((e) => e.event.key), ['b/s12', 'b/s13']);
  await second.m.close();
  await w.close();
  await rm(dir, { recursive: true });
});

test('a gone instance\'s journal is taken over with what its workers had spooled and not merged', async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-spool-lease-'));
  const gone = join(root, 'host-9000', 'journal');
  const old = await EventJournal.open({ dir: gone });
  await old.append(ev('j0'), [old.consumer('webhook-1')]);
  await old.close();
  const w = writer(gone, deadPid(), 'ee');
  await append(w, 's0');
  await append(w, 's1', ['1:webhook', 'r:redis']);
  await w.close();
  await mkdir(join(root, 'host-9000'), { recursive: true });
  await writeFile(join(root, 'host-9000', 'lease.json'), JSON.stringify({ host: hostname(), pid: deadPid(), heartbeatAt: Date.now() }));
  const into = await EventJournal.open({ dir: join(root, 'host-9001', 'journal') });
  const o = { root, instanceId: 'host-9001', into, quickMs: 0 };
  assert.equal(await adoptOrphanQueues(o), 0); // the first look only notes the lease
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await adoptOrphanQueues(o), 3);
  assert.deepEqual(await keysOf(into.consumer('webhook-1')), ['b/j0', 'b/s0', 'b/s1']);
  assert.deepEqual(await keysOf(into.consumer('redis-r')), ['b/s1']);
  assert.deepEqual(await readdir(join(root, 'host-9000')), ['lease.json']);
  await into.close();
  await rm(root, { recursive: true });
});
