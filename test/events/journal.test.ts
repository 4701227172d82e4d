import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, readFile, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fs, { constants, readFileSync, readlinkSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { spawn } from 'node:child_process';
import { EventJournal, type QueueConsumer } from '../../src/events/journal.js';
import { SYNC_INTERVAL_MS } from '../../src/events/segment-file.js';
import { sleep, until } from './e2e-helpers.js';
import { openQueue } from './fixtures/queue.js';
import type { QueuedEvent } from '../../src/events/target.js';

function ev(i: number): QueuedEvent {
  return { eventName: 's3:ObjectCreated:Put', key: `b/k${i}`, eventTime: '2024-01-01T00:00:00.000Z', record: { eventName: 's3:ObjectCreated:Put', eventTime: '', s3: { bucket: { name: 'b' }, object: { key: `k${i}` } } } };
}

async function drain(q: QueueConsumer, max = Infinity): Promise<number[]> {
  const got: number[] = [];
  while (q.peekReady() && got.length < max) {
    const item = await q.next();
    got.push(Number(item.event.key.slice(3)));
    q.ack(item.seq);
  }
  return got;
}

/**
 * Watches the I/O of segment files: `onWrite` before each write of event lines (not of
 * the zeros written ahead of them), through the thread pool or on the calling thread,
 * with whether the file is open O_DSYNC (a write through the pool may be held); `onSync`
 * before each fdatasync of a segment. Returns the undo.
 */
async function hookSegmentIo(dir: string, hooks: { onWrite?: (dsync: boolean) => Promise<void> | void; onSync?: () => void }): Promise<() => void> {
  const isSegment = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`).endsWith('.jsonl');
  const dsync = (fd: number) => (parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8) & constants.O_DSYNC) !== 0;
  const probe = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { write(...args: unknown[]): Promise<unknown>; datasync(): Promise<void> };
  await probe.close();
  await rm(join(dir, 'probe'));
  const { write: originalWrite, datasync: originalSync } = proto;
  proto.write = async function (this: { fd: number }, ...args: unknown[]) {
    const [buf, off] = args as [Buffer, number | undefined];
    if (isSegment(this.fd) && buf[off ?? 0] === 0x7b) await hooks.onWrite?.(dsync(this.fd));
    return originalWrite.apply(this, args);
  };
  proto.datasync = function (this: { fd: number }) {
    if (isSegment(this.fd)) hooks.onSync?.();
    return originalSync.apply(this);
  };
  const originalWriteSync = fs.writeSync;
  fs.writeSync = function (fd: number, buf: Buffer, ...rest: unknown[]) {
    if (isSegment(fd) && buf[(rest[0] as number | undefined) ?? 0] === 0x7b) void hooks.onWrite?.(dsync(fd));
    return (originalWriteSync as (...a: unknown[]) => number)(fd, buf, ...rest);
  } as typeof fs.writeSync;
  syncBuiltinESMExports(); // the named import in segment-file.ts follows
  return () => {
    proto.write = originalWrite;
    proto.datasync = originalSync;
    fs.writeSync = originalWriteSync;
    syncBuiltinESMExports();
  };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 's3gate-queue-'));
}

test('events come out in order, survive reopen, and delivered segments are deleted', async () => {
  const dir = await tempDir();
  let q = await openQueue(dir, 100000, 10);
  await Promise.all(Array.from({ length: 35 }, (_, i) => q.append(ev(i))));
  assert.equal(q.size, 35);
  assert.deepEqual(await drain(q, 12), Array.from({ length: 12 }, (_, i) => i));
  await q.journal.close();

  q = await openQueue(dir, 100000, 10);
  assert.equal(q.size, 23, 'the 12 delivered events are not replayed');
  await q.append(ev(35));
  assert.deepEqual(await drain(q), Array.from({ length: 24 }, (_, i) => i + 12));
  await q.journal.close();
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.jsonl'));
  assert.equal(segs.length, 1, `only the active segment remains, got ${segs.join(',')}`);
  await rm(dir, { recursive: true });
});

test('a reader behind at a rotation, and a reopen on a full last segment, still get every event in order', async () => {
  const dir = await tempDir();
  let q = await openQueue(dir, 100000, 5);
  const appended = Array.from({ length: 7 }, (_, i) => ev(i));
  for (const e of appended) await q.append(e);
  // Events 0-4 are in the segment just sealed: handed out as appended, not parsed back.
  const first = await q.next();
  assert.equal(first.event, appended[0]);
  assert.deepEqual(await drain(q, 3), [0, 1, 2]);
  for (let i = 7; i < 12; i++) await q.append(ev(i));
  await q.journal.close();

  q = await openQueue(dir, 100000, 5);
  for (let i = 12; i < 15; i++) await q.append(ev(i)); // fills the last segment
  assert.deepEqual(await drain(q, 7), [3, 4, 5, 6, 7, 8, 9]);
  await q.journal.close();
  q = await openQueue(dir, 100000, 5);
  for (let i = 15; i < 18; i++) await q.append(ev(i)); // a new segment after a full one
  assert.deepEqual(await drain(q), Array.from({ length: 8 }, (_, i) => i + 10));
  await q.journal.close();
  await rm(dir, { recursive: true });
});

test('a torn last line is ignored and the queue keeps appending after it', async () => {
  const dir = await tempDir();
  let q = await openQueue(dir, 100000);
  for (let i = 0; i < 5; i++) await q.append(ev(i));
  await q.journal.close();
  const seg = (await readdir(dir)).find((n) => n.endsWith('.jsonl'))!;
  await appendFile(join(dir, seg), '{"eventName":"s3:ObjectCreated:Put","key":"b/k5","rec');
  q = await openQueue(dir, 100000);
  assert.equal(q.size, 5);
  await q.append(ev(6));
  assert.deepEqual(await drain(q), [0, 1, 2, 3, 4, 6]);
  await q.journal.close();
  const text = await readFile(join(dir, seg), 'utf8');
  assert.equal(text.split('\n').filter((l) => l && !l.startsWith('\0')).length, 6, 'the torn bytes were cut off before appending');
  await rm(dir, { recursive: true });
});

test('queue_limit: appends beyond the limit are refused, counted and logged', async () => {
  const dir = await tempDir();
  const q = await openQueue(dir, 3, undefined, 'arn:minio:sqs::1:redis');
  const logged: string[] = [];
  const orig = console.error;
  console.error = (line: string) => { logged.push(line); };
  try {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => q.append(ev(i))));
    assert.deepEqual(results, [true, true, true, false, false]);
  } finally {
    console.error = orig;
  }
  assert.equal(q.overflowCount, 2);
  assert.ok(logged.some((l) => l.includes('event queue full') && l.includes('arn:minio:sqs::1:redis')), logged.join('\n'));
  // Room again once something was delivered.
  await drain(q, 1);
  assert.equal(await q.append(ev(9)), true);
  await q.journal.close();
  await rm(dir, { recursive: true });
});

test('SIGKILL mid-stream: every acknowledged event is replayed, in order, nothing invented', async () => {
  const dir = await tempDir();
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/queue-writer.ts'), dir, '200000', '500'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked = new Set<number>();
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
        if (line === 'done') reject(new Error('writer finished before it was killed'));
      }
      if (acked.size >= 3000 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  assert.ok(acked.size >= 3000);

  const q = await openQueue(dir, 1_000_000, 500);
  const got = await drain(q);
  await q.journal.close();
  // The writer numbers events in append order, so the queue must hold exactly 0..n-1.
  assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
  const missing = [...acked].filter((i) => i >= got.length);
  assert.deepEqual(missing, [], 'acknowledged events lost');
  await rm(dir, { recursive: true });
});

test('appends made while a write runs share the next synchronous write; every one is durable when it resolves', async () => {
  const dir = await tempDir();
  const q = await openQueue(dir, 1000);
  // Count the writes of lines; the first one is held until released. Each must go to a
  // file opened O_DSYNC, so that it is durable on return.
  let writes = 0;
  let undurable = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  let writing!: () => void;
  const firstWriteStarted = new Promise<void>((r) => { writing = r; });
  const restore = await hookSegmentIo(dir, {
    onWrite: async (dsync) => {
      if (!dsync) undurable++;
      if (++writes === 1) { writing(); await held; }
    },
  });
  try {
    const first = q.append(ev(0));
    await firstWriteStarted;
    const rest: Array<Promise<boolean>> = [];
    for (let i = 1; i < 60; i++) {
      rest.push(q.append(ev(i)));
      await new Promise((r) => setImmediate(r)); // each in its own turn of the event loop
    }
    release();
    assert.deepEqual(await Promise.all([first, ...rest]), new Array(60).fill(true));
    assert.equal(writes, 2, 'the 59 appends made during the first write share the second');
    assert.equal(undurable, 0, 'segment writes go to a file opened O_DSYNC');
  } finally {
    restore();
  }
  await q.journal.close();
  // What resolved is on disk, in order.
  const reopened = await openQueue(dir, 1000);
  assert.deepEqual(await drain(reopened), Array.from({ length: 60 }, (_, i) => i));
  await reopened.journal.close();
  await rm(dir, { recursive: true });
});

test("with fsync 'interval', appends resolve once written and one sync follows within SYNC_INTERVAL_MS", async () => {
  const dir = await tempDir();
  const journal = await EventJournal.open({ dir, fsync: 'interval' });
  const q = journal.attach('t', { limit: 1000, label: 't' });
  let writes = 0;
  let durable = 0;
  let syncs = 0;
  const restore = await hookSegmentIo(dir, { onWrite: (dsync) => { writes++; if (dsync) durable++; }, onSync: () => { syncs++; } });
  try {
    const started = performance.now();
    for (let i = 0; i < 5; i++) assert.equal(await q.append(ev(i)), true);
    assert.equal(writes, 5);
    assert.equal(durable + syncs, 0, 'no append waited for a sync');
    await until(() => syncs > 0, SYNC_INTERVAL_MS * 20, 'the interval sync');
    assert.ok(performance.now() - started >= SYNC_INTERVAL_MS - 5, 'the sync came after the interval');
    await sleep(SYNC_INTERVAL_MS * 2);
    assert.equal(syncs, 1, 'one sync for the five appends, none while nothing is written');
  } finally {
    restore();
  }
  await journal.close();
  const reopened = await openQueue(dir, 1000);
  assert.deepEqual(await drain(reopened), [0, 1, 2, 3, 4]);
  await reopened.journal.close();
  await rm(dir, { recursive: true });
});

test('an append never waits on a timer (a lone writer is never held for company)', async () => {
  const dir = await tempDir();
  const q = await openQueue(dir, 1000);
  // setTimeout is frozen: an append that waited on a timer would never resolve.
  mock.timers.enable({ apis: ['setTimeout'] });
  let stuck: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => { stuck = setInterval(() => reject(new Error('an append waited on a timer')), 10_000); });
    for (let i = 0; i < 50; i++) assert.equal(await Promise.race([q.append(ev(i)), deadline]), true);
  } finally {
    clearInterval(stuck);
    mock.timers.reset();
  }
  await q.journal.close();
  await rm(dir, { recursive: true });
});

test('an event for three targets is one write; each target reads it and progresses on its own', async () => {
  const dir = await tempDir();
  let journal = await EventJournal.open({ dir, segmentEvents: 10 });
  const names = ['redis-1', 'webhook-x', 'postgresql-1'];
  let [a, b, c] = names.map((n) => journal.attach(n, { limit: 1000, label: n }));
  let writes = 0;
  const restore = await hookSegmentIo(dir, { onWrite: () => { writes++; } });
  try {
    for (let i = 0; i < 25; i++) assert.equal(await journal.append(ev(i), [a, b, c]), true);
  } finally {
    restore();
  }
  assert.equal(writes, 25, 'one write per event, not one per target');
  assert.deepEqual([a.size, b.size, c.size], [25, 25, 25]);
  // An event for one target only is not handed to the others.
  assert.equal(await journal.append(ev(25), [b]), true);
  assert.deepEqual(await drain(a), Array.from({ length: 25 }, (_, i) => i));
  assert.deepEqual(await drain(b, 5), [0, 1, 2, 3, 4]);
  await journal.close();

  // Reopened: each target resumes where it was; the one that read nothing has it all.
  journal = await EventJournal.open({ dir, segmentEvents: 10 });
  [a, b, c] = names.map((n) => journal.attach(n, { limit: 1000, label: n }));
  assert.deepEqual([a.size, b.size, c.size], [0, 21, 25]);
  assert.deepEqual(await drain(b), Array.from({ length: 21 }, (_, i) => i + 5));
  const segments = async () => (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).length;
  assert.equal(await segments(), 3, 'segments stay while one target has not read them');
  assert.deepEqual(await drain(c), Array.from({ length: 25 }, (_, i) => i));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await segments(), 1, 'read by every target: only the active segment is left');
  await journal.close();
  await rm(dir, { recursive: true });
});

test('a target at its queue_limit does not stop the event from being queued for the others', async () => {
  const dir = await tempDir();
  const journal = await EventJournal.open({ dir });
  const full = journal.attach('full', { limit: 2, label: 'arn:minio:sqs::full:webhook' });
  const roomy = journal.attach('roomy', { limit: 1000, label: 'roomy' });
  const orig = console.error;
  console.error = () => {};
  try {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await journal.append(ev(i), [full, roomy]));
    assert.deepEqual(results, [true, true, false, false]);
  } finally {
    console.error = orig;
  }
  assert.deepEqual([full.overflowCount, roomy.overflowCount], [2, 0]);
  assert.deepEqual(await drain(full), [0, 1]);
  assert.deepEqual(await drain(roomy), [0, 1, 2, 3]);
  await journal.close();
  await rm(dir, { recursive: true });
});

test('a target that is not running keeps its events across restarts until it runs again', async () => {
  const dir = await tempDir();
  let journal = await EventJournal.open({ dir, segmentEvents: 4 });
  const on = journal.attach('on', { limit: 1000, label: 'on' });
  const off = journal.attach('off', { limit: 1000, label: 'off' });
  for (let i = 0; i < 6; i++) await journal.append(ev(i), [on, off]);
  await off.close(); // disabled: its loop stopped
  for (let i = 6; i < 10; i++) await journal.append(ev(i), [on]);
  assert.deepEqual(await drain(on), Array.from({ length: 10 }, (_, i) => i));
  await journal.close();
  journal = await EventJournal.open({ dir, segmentEvents: 4 });
  const back = journal.attach('off', { limit: 1000, label: 'off' });
  assert.deepEqual(await drain(back), [0, 1, 2, 3, 4, 5]);
  assert.equal(journal.attach('on', { limit: 1000, label: 'on' }).size, 0);
  await journal.close();
  await rm(dir, { recursive: true });
});

test('a target down for good keeps only the segments holding its events; the others\' delivered segments go, also behind them', async () => {
  const dir = await tempDir();
  const segments = async () => (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).length;
  let journal = await EventJournal.open({ dir, segmentEvents: 10 });
  const down = journal.attach('down', { limit: 15, label: 'down' });
  const up = journal.attach('up', { limit: 1000, label: 'up' });
  const orig = console.error;
  console.error = () => {};
  try {
    // 200 events: the down target takes the first 15 (in segments 0 and 1), then is full
    for (let i = 0; i < 200; i++) {
      await journal.append(ev(i), [down, up]);
      await drain(up);
    }
  } finally {
    console.error = orig;
  }
  assert.equal(down.overflowCount, 185);
  assert.equal(await segments(), 3, 'the two segments with the down target\'s events and the active one');
  await journal.close();

  journal = await EventJournal.open({ dir, segmentEvents: 10 });
  const upAgain = journal.attach('up', { limit: 1000, label: 'up' });
  assert.equal(upAgain.size, 0, 'nothing comes back for the target that delivered all');
  const back = journal.attach('down', { limit: 15, label: 'down' });
  assert.deepEqual(await drain(back), Array.from({ length: 15 }, (_, i) => i), 'the down target gets its events, in order');
  await journal.append(ev(200), [back, upAgain]);
  assert.deepEqual([await drain(back), await drain(upAgain)], [[200], [200]], 'appends go on after the gap');
  await journal.close();
  await rm(dir, { recursive: true });
});

test('the queue directory of an older s3gate (bare event lines, offset.json) opens for its target', async () => {
  const dir = await tempDir();
  const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify(ev(i))).join('\n') + '\n';
  await appendFile(join(dir, '0000000000000000.jsonl'), lines);
  await appendFile(join(dir, 'offset.json'), JSON.stringify({ next: 2 }));
  const journal = await EventJournal.open({ dir, legacyConsumer: 'webhook-1' });
  const batches = [];
  for await (const batch of journal.undelivered(2)) batches.push(batch.map((i) => `${i.to.join(',')}:${i.event.key}`));
  assert.deepEqual(batches, [['webhook-1:b/k2', 'webhook-1:b/k3'], ['webhook-1:b/k4']]);
  await journal.close();
  await rm(dir, { recursive: true });
});

test('lines are written into zeros written ahead of them; a reopen is not fooled by the zeros, a torn write into them is cut off', async () => {
  const dir = await tempDir();
  let q = await openQueue(dir, 1000, 5);
  for (let i = 0; i < 3; i++) await q.append(ev(i));
  const [first] = (await readdir(dir)).filter((n) => n.endsWith('.jsonl'));
  const content = (await readFile(join(dir, first))).toString('latin1');
  const used = content.indexOf('\0');
  assert.ok(used > 0 && content.length - used >= 1 << 19, `zeros ahead of the lines: ${used} of ${content.length} bytes used`);
  await q.journal.close();

  const warnings: string[] = [];
  const orig = console.error;
  console.error = (l: string) => { warnings.push(l); };
  try {
    q = await openQueue(dir, 1000, 5);
    assert.equal(warnings.length, 0, `zeros are not a torn write: ${warnings.join('\n')}`);
    for (let i = 3; i < 6; i++) await q.append(ev(i)); // fills the segment, starts the next
    const sealed = await readFile(join(dir, first), 'utf8');
    assert.equal(sealed.split('\n').length, 6, 'the sealed segment keeps its 5 lines and no zeros');
    assert.ok(!sealed.includes('\0'));
    await q.journal.close();

    // A crash in the middle of writing a line into the zeros of the active segment.
    const active = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort()[1];
    const fh = await open(join(dir, active), 'r+');
    const at = (await readFile(join(dir, active))).indexOf(0);
    await fh.write(Buffer.from('{"to":["t"],"event":{"eventName":"s3:Obj'), 0, undefined, at);
    await fh.close();
    q = await openQueue(dir, 1000, 5);
    assert.ok(warnings.some((l) => l.includes('torn tail')), warnings.join('\n'));
  } finally {
    console.error = orig;
  }
  await q.append(ev(6));
  await q.journal.close();
  q = await openQueue(dir, 1000, 5);
  assert.deepEqual(await drain(q), [0, 1, 2, 3, 4, 5, 6]);
  await q.journal.close();
  await rm(dir, { recursive: true });
});
