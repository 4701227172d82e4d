import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolWriter, parseSpoolLine } from '../../src/events/spool.js';
import { EventJournal } from '../../src/events/journal.js';
import { COMMIT_WAIT_MS } from '../../src/events/batch-gate.js';
import { requestsInFlight, trackRequest } from '../../src/server/in-flight.js';
import type { QueuedEvent } from '../../src/events/target.js';
import { settle } from './fixtures/settle.js';

function ev(key: string): QueuedEvent {
  return { eventName: 's3:ObjectCreated:Put', key: `b/${key}`, eventTime: '2024-01-01T00:00:00.000Z', record: { eventName: 's3:ObjectCreated:Put', eventTime: '', s3: { bucket: { name: 'b' }, object: { key } } } };
}

/** A request held in flight until end() is called. */
function request(): { end(): void } {
  let end!: () => void;
  void trackRequest(new Promise<void>((r) => { end = r; }));
  return { end };
}

/** Whether a promise has settled yet. */
function tracked(p: Promise<unknown>): { done: boolean } {
  const s = { done: false };
  void p.then(() => { s.done = true; });
  return s;
}

/** The keys of a spool's lines, grouped by write (a batch's lines share their stamp). */
async function batches(dir: string): Promise<string[][]> {
  const text = (await readFile(join(dir, '0000000000000000.jsonl'), 'utf8')).split('\0')[0];
  const byStamp = new Map<number, string[]>();
  for (const l of text.split('\n').filter(Boolean)) {
    const line = parseSpoolLine(l)!;
    byStamp.set(line.t, [...(byStamp.get(line.t) ?? []), line.event.key]);
  }
  return [...byStamp.values()];
}

async function withSpool(fn: (w: SpoolWriter, dir: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 's3gate-gate-'));
  const dir = join(root, 'spool-1-aa');
  const w = new SpoolWriter(dir, { sync: 'always' });
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await fn(w, dir);
  } finally {
    mock.timers.reset();
    await w.close();
    await rm(root, { recursive: true });
  }
}

const append = (w: SpoolWriter, key: string) => tracked(w.append(['1:redis'], JSON.stringify(ev(key))));

test('a lone request does not wait for company: its event is written at once', async () => {
  await withSpool(async (w, dir) => {
    const r = request();
    const a = append(w, 'k1');
    await settle(() => a.done, 5000);
    assert.equal(a.done, true, 'written without the commit wait');
    assert.deepEqual(await batches(dir), [['b/k1']]);
    r.end();
  });
});

test('the events of requests in flight together are written with one sync, as soon as all have joined', async () => {
  await withSpool(async (w, dir) => {
    const rs = [request(), request(), request()];
    const done: Array<{ done: boolean }> = [];
    for (const k of ['k1', 'k2', 'k3']) {
      done.push(append(w, k));
      await settle();
    }
    await settle(() => done.every((d) => d.done), 5000);
    assert.deepEqual(done.map((d) => d.done), [true, true, true], 'written once the third joined, without the timer');
    assert.deepEqual(await batches(dir), [['b/k1', 'b/k2', 'b/k3']]);
    for (const r of rs) r.end();
  });
});

test('a batch waits at most the commit wait for requests that do not join, and goes when they end', async () => {
  await withSpool(async (w, dir) => {
    const [r1, r2, r3] = [request(), request(), request()];
    const a = append(w, 'k1');
    await settle();
    assert.equal(a.done, false, 'waits while two other requests are in flight');
    r2.end(); // ends without an event: still one to wait for
    await settle();
    assert.equal(a.done, false);
    mock.timers.tick(COMMIT_WAIT_MS);
    await settle(() => a.done, 5000);
    assert.equal(a.done, true, 'written after the commit wait');

    const b = append(w, 'k2');
    await settle();
    assert.equal(b.done, false);
    r3.end(); // the only other request ends: nobody left to join
    await settle(() => b.done, 5000);
    assert.equal(b.done, true, 'written when the last other request ended');
    assert.deepEqual(await batches(dir), [['b/k1'], ['b/k2']]);
    r1.end();
  });
  assert.equal(requestsInFlight(), 0);
});

test("'interval' never waits, and the journal waits like the spool", async () => {
  const root = await mkdtemp(join(tmpdir(), 's3gate-gate-'));
  const interval = new SpoolWriter(join(root, 'spool-1-bb'), { sync: 'interval' });
  const journal = await EventJournal.open({ dir: join(root, 'journal') });
  const consumer = journal.consumer('1:redis');
  mock.timers.enable({ apis: ['setTimeout'] });
  const rs = [request(), request()];
  try {
    const a = append(interval, 'k1');
    const j = tracked(journal.append(ev('k1'), [consumer]));
    await settle(() => a.done, 5000);
    await settle();
    assert.equal(a.done, true, "'interval' wrote at once");
    assert.equal(j.done, false, "the journal ('always') waits for the other request");
    mock.timers.tick(COMMIT_WAIT_MS);
    await settle(() => j.done, 5000);
    assert.equal(j.done, true);
  } finally {
    mock.timers.reset();
    for (const r of rs) r.end();
    await interval.close();
    await journal.close();
    await rm(root, { recursive: true });
  }
});
