/**
 * The durable on-disk event queue of one instance in one queue root, shared by every
 * target whose queue lives there: an event is written once, naming the targets it is
 * for, however many there are (one durable write per event instead of one per target,
 * which was most of what events cost a PUT with several targets).
 *
 * Layout of a journal directory (<root>/<instance-id>/journal/):
 *   <first-seq, 16 digits>.jsonl  segments, append only: one line per event,
 *                                 {"to":["redis-1","webhook-x"],"event":{...}}
 *   offset-<target>.json          {"next": N}: every event for that target with seq < N
 *                                 was delivered; rewritten in place, fixed length
 *
 * Each target reads the journal through its QueueConsumer, which holds the sequence
 * numbers of the events still to deliver to it and hands them out in order: targets
 * progress independently, and a target that is down (or disabled) keeps its events
 * while the others go on. A segment is deleted once no target has an undelivered event
 * in it, wherever it is (see dropDelivered), so a target that stays down for good keeps
 * only the segments holding its events (at most its queue_limit of them).
 *
 * Durability: append() resolves once the line was written to the active segment (a
 * SegmentFile: it survives kill -9 from then on) and, with fsync 'always' (the
 * default), synced; 'interval' syncs within SYNC_INTERVAL_MS, 'none' leaves it to the
 * kernel (see QueueSync). "Group commit": while one write and sync run, new appends
 * gather into the next batch, written with one write(); with 'always', a batch also
 * waits a little for the other requests in flight (see BatchGate).
 *
 * Offsets are written behind acks (coalesced per target, see OFFSET_WRITE_DELAY_MS),
 * so after a crash the last few delivered events may be delivered again: at-least-once,
 * in order per target.
 *
 * Recovery: segments are read in order; a segment's lines are kept up to the first line
 * that is not a complete JSON document (a torn tail from a crash mid-write), and the
 * file is truncated there. Each target's queue_limit bounds its undelivered count; an
 * event beyond it is not queued for that target (still for the others), logged (first
 * one and then every 1000th) and counted (overflowCount).
 *
 * A directory of an older s3gate's per-target queue (lines are the bare event, the
 * offset is offset.json) opens as a journal whose lines are all for `legacyConsumer`.
 */
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueuedEvent } from './target.js';
import { SegmentFile, type QueueSync } from './segment-file.js';
import { InPlaceFile } from './in-place-file.js';
import { BatchGate } from './batch-gate.js';

export interface JournalOptions {
  dir: string;
  /** Events per segment file. */
  segmentEvents?: number;
  /** When appends reach stable storage (see QueueSync); default 'always'. */
  fsync?: QueueSync;
  /** Used in log lines. */
  name?: string;
  /** Lines without a "to" list are for this target (an older s3gate's queue directory). */
  legacyConsumer?: string;
}

export interface QueuedItem {
  seq: number;
  event: QueuedEvent;
}

interface Segment {
  first: number;
  count: number;
  path: string;
}

/** The events of one segment, in order. */
interface SegmentEvents {
  first: number;
  events: QueuedEvent[];
}

interface PendingAppend {
  seq: number;
  line: string;
  event: QueuedEvent;
  to: QueueConsumer[];
  resolve: (ok: boolean) => void;
}

/**
 * How far an offset file may lag behind acks: after a crash at most this much of
 * delivery is repeated. Each write is a write() on the serving thread. The first ack
 * after a quiet spell is written at once: batches are up to 1000 events and come at
 * most every 100 ms, so waiting after each would leave a whole batch to be repeated by
 * a crash in that time.
 */
const OFFSET_WRITE_DELAY_MS = 100;
const SEGMENT_RE = /^(\d{16})\.jsonl$/;
const OFFSET_RE = /^offset-(.+)\.json$/;
const LEGACY_OFFSET_FILE = 'offset.json';
/** An offset file is always this long ({"next":N} padded with spaces, then a newline). */
const OFFSET_BYTES = 40;
/** A consumer's list of delivered sequence numbers is trimmed once this many are done. */
const TRIM_AFTER = 4096;

function segmentName(first: number): string {
  return `${String(first).padStart(16, '0')}.jsonl`;
}

function log(level: string, msg: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields });
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}

interface Line { to?: unknown; event?: QueuedEvent }

/**
 * The complete lines of a segment's text, parsed, the byte length they occupy, and
 * whether what follows is only the zeros of preallocated space (not a torn write).
 */
function parseSegment(text: string): { lines: Line[]; bytes: number; zeroTail: boolean } {
  const lines: Line[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    try { lines.push(JSON.parse(text.slice(pos, nl)) as Line); } catch { break; }
    pos = nl + 1;
  }
  return { lines, bytes: Buffer.byteLength(text.slice(0, pos)), zeroTail: /^\0*$/.test(text.slice(pos)) };
}

/** A legacy line is the event itself. */
function eventOf(line: Line): QueuedEvent {
  return Array.isArray(line.to) ? line.event! : (line as unknown as QueuedEvent);
}

async function readOffset(path: string): Promise<number> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as { next?: unknown };
    if (typeof doc.next === 'number' && doc.next >= 0) return doc.next;
  } catch { /* none yet, or garbled: start from the first segment (repeats, no loss) */ }
  return 0;
}

export class EventJournal {
  readonly dir: string;
  readonly name: string;
  private readonly segmentEvents: number;
  private readonly sync: QueueSync;
  private readonly legacy: string | undefined;

  private segments: Segment[] = [];
  private active: SegmentFile | undefined;
  /**
   * The events of the active segment: readers get the appended objects themselves, with
   * no JSON.parse per delivery. The same object goes to every target; nobody mutates it.
   */
  private activeEvents: QueuedEvent[] = [];
  /** The segment sealed last, for readers a little behind (no read back from disk). */
  private sealed: SegmentEvents | undefined;

  private nextSeq = 0;
  /** Events below this are on disk and in their consumers' lists. */
  private durableSeq = 0;
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private readonly gate: BatchGate;
  private closed = false;
  private readonly consumers = new Map<string, QueueConsumer>();

  private constructor(opts: JournalOptions) {
    this.dir = opts.dir;
    this.name = opts.name ?? opts.dir;
    this.segmentEvents = opts.segmentEvents ?? 1000;
    this.sync = opts.fsync ?? 'always';
    this.legacy = opts.legacyConsumer;
    this.gate = new BatchGate(this.sync, () => this.pending.length);
  }

  static async open(opts: JournalOptions): Promise<EventJournal> {
    const j = new EventJournal(opts);
    await j.recover();
    return j;
  }

  /** The reader of one target, created on first use (also for targets not running). */
  consumer(name: string): QueueConsumer {
    let c = this.consumers.get(name);
    if (!c) {
      c = new QueueConsumer(this, name, join(this.dir, `offset-${name}.json`));
      this.consumers.set(name, c);
    }
    return c;
  }

  /** The consumer of a target that starts delivering, with its queue_limit. */
  attach(name: string, opts: { limit: number; label: string }): QueueConsumer {
    const c = this.consumer(name);
    c.limit = opts.limit;
    c.label = opts.label;
    c.reopen();
    return c;
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).sort();
    for (const n of names) {
      const m = OFFSET_RE.exec(n);
      if (m) this.consumer(m[1]).restoreOffset(await readOffset(join(this.dir, n)));
    }
    if (this.legacy) this.consumer(this.legacy).restoreOffset(await readOffset(join(this.dir, LEGACY_OFFSET_FILE)));

    let lastEvents: QueuedEvent[] = [];
    let lastBytes = 0;
    let lastSize = 0;
    for (const n of names.filter((x) => SEGMENT_RE.test(x))) {
      const first = Number(SEGMENT_RE.exec(n)![1]);
      const path = join(this.dir, n);
      const text = await readFile(path, 'utf8');
      const { lines, bytes, zeroTail } = parseSegment(text);
      lastSize = Buffer.byteLength(text);
      if (!zeroTail) {
        // Cut off, so that no later line can follow the garbage.
        log('warn', 'event queue: ignoring torn tail of segment', { queue: this.name, segment: n, keptEvents: lines.length });
        const fh = await open(path, 'r+');
        try { await fh.truncate(bytes); await fh.datasync(); } finally { await fh.close(); }
        lastSize = bytes;
      }
      lines.forEach((line, i) => {
        const to = Array.isArray(line.to) ? (line.to as string[]) : this.legacy ? [this.legacy] : [];
        for (const name of to) this.consumer(name).restorePending(first + i);
      });
      this.segments.push({ first, count: lines.length, path });
      lastEvents = lines.map(eventOf);
      lastBytes = bytes;
    }
    const last = this.segments[this.segments.length - 1];
    const offsets = [...this.consumers.values()].map((c) => c.committedOnDisk);
    this.nextSeq = this.durableSeq = Math.max(last ? last.first + last.count : 0, ...offsets);
    if (last && last.count < this.segmentEvents) {
      this.active = await SegmentFile.reopen(last.path, this.sync, lastBytes, lastSize);
      this.activeEvents = lastEvents;
    } else if (last) {
      this.sealed = { first: last.first, events: lastEvents };
    }
    this.dropDelivered();
  }

  /**
   * Queues an event for the given targets. Resolves true once it is durable for all of
   * them, false when it was refused for any (its queue full, a write error; both logged
   * and counted per target). Never rejects. `line` is the event's JSON when the caller
   * already has it. `ignoreLimit` is for events taken over from another queue: they were
   * accepted once and must not be lost now.
   */
  append(event: QueuedEvent, to: QueueConsumer[], opts: { line?: string; ignoreLimit?: boolean } = {}): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const takers = opts.ignoreLimit ? to : to.filter((c) => c.admits(event));
    if (takers.length === 0) return Promise.resolve(to.length === 0);
    for (const c of takers) c.inFlight++;
    const line = `{"to":${JSON.stringify(takers.map((c) => c.name))},"event":${opts.line ?? JSON.stringify(event)}}`;
    return new Promise((resolve) => {
      this.pending.push({ seq: this.nextSeq++, line, event, to: takers, resolve: (ok) => resolve(ok && takers.length === to.length) });
      if (!this.flushing) this.flushing = this.flushLoop();
      this.gate.joined();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let appends of the same tick join this batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.pending.length > 0) {
        await this.gate.wait();
        const batch = this.pending.splice(0);
        const touched = new Set<QueueConsumer>();
        try {
          await this.writeBatch(batch);
          for (const p of batch) for (const c of p.to) { c.queued(p.seq); touched.add(c); }
          this.durableSeq = batch[batch.length - 1].seq + 1;
          for (const p of batch) p.resolve(true);
        } catch (e) {
          for (const p of batch) for (const c of p.to) c.failed();
          log('error', 'event queue: write failed, events NOT queued', { queue: this.name, events: batch.length, error: String(e) });
          // Later appends must not leave a gap in the sequence: re-number what is left.
          this.nextSeq = this.durableSeq;
          for (const p of this.pending) p.seq = this.nextSeq++;
          for (const p of batch) p.resolve(false);
        }
        for (const c of touched) c.wake();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    let i = 0;
    while (i < batch.length) {
      let seg = this.segments[this.segments.length - 1];
      if (!this.active || !seg || seg.count >= this.segmentEvents) seg = await this.rotate(batch[i].seq);
      const take = batch.slice(i, i + (this.segmentEvents - seg.count));
      const data = Buffer.from(take.map((p) => p.line).join('\n') + '\n');
      await this.active!.append(data);
      seg.count += take.length;
      for (const p of take) this.activeEvents.push(p.event);
      i += take.length;
    }
  }

  /** Seals the current segment and starts a new one whose first event is `first`. */
  private async rotate(first: number): Promise<Segment> {
    await this.active?.seal();
    this.active = undefined;
    const sealed = this.segments[this.segments.length - 1];
    if (sealed && sealed.count === this.activeEvents.length) this.sealed = { first: sealed.first, events: this.activeEvents };
    const seg: Segment = { first, count: 0, path: join(this.dir, segmentName(first)) };
    this.active = await SegmentFile.create(seg.path, this.sync);
    this.segments.push(seg);
    this.activeEvents = [];
    this.dropDelivered(true);
    return seg;
  }

  /** The event with this seq (undefined when its segment is gone); `reader` caches a segment read back. */
  async read(seq: number, reader: { cache?: SegmentEvents }): Promise<QueuedEvent | undefined> {
    const seg = this.segmentOf(seq);
    if (!seg) return undefined;
    if (seg === this.segments[this.segments.length - 1] && this.active) return this.activeEvents[seq - seg.first];
    if (this.sealed?.first === seg.first) return this.sealed.events[seq - seg.first];
    if (reader.cache?.first !== seg.first) {
      const text = await readFile(seg.path, 'utf8').catch(() => '');
      reader.cache = { first: seg.first, events: parseSegment(text).lines.map(eventOf) };
    }
    return reader.cache.events[seq - seg.first];
  }

  private segmentOf(seq: number): Segment | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segments[mid];
      if (seq < s.first) hi = mid - 1;
      else if (seq >= s.first + s.count) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /**
   * Deletes sealed segments in which no target has an undelivered event: from the oldest
   * on (after every ack), and with `anywhere` (at each rotation) also behind a segment
   * that is kept. So a target that stays down, or was disabled or removed with events
   * queued, keeps only the segments that hold its own events, not every one written
   * since its oldest. Sequence numbers keep their gaps: each segment knows its first.
   */
  dropDelivered(anywhere = false): void {
    let bound = this.durableSeq;
    for (const c of this.consumers.values()) bound = Math.min(bound, c.oldestUndelivered() ?? bound);
    while (this.segments.length > 1 && this.segments[0].first + this.segments[0].count <= bound) this.deleteSegment(this.segments.shift()!);
    if (!anywhere) return;
    const consumers = [...this.consumers.values()];
    // never the active (last) segment, nor one with lines not yet in their consumers' lists
    const done = (s: Segment) => s !== this.segments[this.segments.length - 1] && s.first + s.count <= this.durableSeq
      && !consumers.some((c) => c.hasUndeliveredIn(s.first, s.first + s.count));
    const gone = new Set(this.segments.filter(done));
    if (gone.size === 0) return;
    this.segments = this.segments.filter((s) => !gone.has(s));
    for (const seg of gone) this.deleteSegment(seg);
  }

  private deleteSegment(seg: Segment): void {
    if (this.sealed?.first === seg.first) this.sealed = undefined;
    unlink(seg.path).catch((e) => log('warn', 'event queue: could not delete delivered segment', { queue: this.name, path: seg.path, error: String(e) }));
  }

  /**
   * Every undelivered event, in order, with the targets it is still undelivered to, in
   * batches of up to `max` (for moving a queue into another one).
   */
  async *undelivered(max: number): AsyncGenerator<Array<{ event: QueuedEvent; to: string[] }>> {
    const owners = new Map<number, string[]>();
    for (const c of this.consumers.values()) {
      for (const seq of c.undeliveredSeqs()) {
        const names = owners.get(seq);
        if (names) names.push(c.name);
        else owners.set(seq, [c.name]);
      }
    }
    const seqs = [...owners.keys()].sort((a, b) => a - b);
    const reader: { cache?: SegmentEvents } = {};
    for (let i = 0; i < seqs.length; i += max) {
      const batch: Array<{ event: QueuedEvent; to: string[] }> = [];
      for (const seq of seqs.slice(i, i + max)) {
        const event = await this.read(seq, reader);
        if (event) batch.push({ event, to: owners.get(seq)! });
      }
      yield batch;
    }
  }

  /** Finishes pending appends, writes every offset, releases files. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.closed = true;
    await Promise.all([...this.consumers.values()].map((c) => c.close()));
    await this.active?.close();
    this.active = undefined;
  }
}

/** One target's view of the journal: its undelivered events, in order, and its offset. */
export class QueueConsumer {
  /** Most undelivered events held for this target; more are refused (overflow). */
  limit = Number.MAX_SAFE_INTEGER;
  /** Used in log lines, e.g. the target ARN. */
  label: string;
  /** Appends for this target still being written. */
  inFlight = 0;
  /** Appends made durable for this target since this process opened the journal. */
  acceptedCount = 0;
  /** Appends refused because this target's queue was full. */
  overflowCount = 0;
  /** Appends that failed on I/O (disk full ...); also logged. */
  writeErrors = 0;
  /** Offset on disk: events below it were delivered. */
  committedOnDisk = 0;
  /** Read back from disk by this reader (see EventJournal.read). */
  cache: SegmentEvents | undefined;

  /** Sequence numbers of this target's events, undelivered from index `at` on. */
  private seqs: number[] = [];
  private at = 0;
  /** Events below this were delivered. */
  private head = 0;
  private waiters: Array<() => void> = [];
  private closed = false;
  private readonly offsetFile: InPlaceFile;
  private commitTimer: NodeJS.Timeout | undefined;
  private lastCommitAt = -Infinity;

  constructor(readonly journal: EventJournal, readonly name: string, offsetPath: string) {
    this.offsetFile = new InPlaceFile(offsetPath, OFFSET_BYTES);
    this.label = name;
  }

  get dir(): string {
    return this.journal.dir;
  }

  /** Undelivered events (including appends still being written). */
  get size(): number {
    return this.seqs.length - this.at + this.inFlight;
  }

  /** Queues an event for this target alone (see EventJournal.append). */
  append(event: QueuedEvent, line?: string): Promise<boolean> {
    return this.journal.append(event, [this], { line });
  }

  /** For the journal: at recovery. */
  restoreOffset(next: number): void {
    this.committedOnDisk = this.head = next;
  }

  /** For the journal: a recovered event for this target. */
  restorePending(seq: number): void {
    if (seq >= this.head) this.seqs.push(seq);
  }

  /** For the journal: whether an event may be queued for this target (limit). */
  admits(event: QueuedEvent): boolean {
    if (this.size < this.limit) return true;
    this.overflowCount++;
    if (this.overflowCount === 1 || this.overflowCount % 1000 === 0) {
      log('error', 'event queue full: event NOT queued for this target', { queue: this.label, limit: this.limit, refusedSoFar: this.overflowCount, event: event.eventName, key: event.key });
    }
    return false;
  }

  /** For the journal: an append for this target is durable. */
  queued(seq: number): void {
    this.inFlight--;
    this.acceptedCount++;
    this.seqs.push(seq);
  }

  /** For the journal: an append for this target failed. */
  failed(): void {
    this.inFlight--;
    this.writeErrors++;
  }

  oldestUndelivered(): number | undefined {
    return this.at < this.seqs.length ? this.seqs[this.at] : undefined;
  }

  /** Whether an undelivered event of this target has a seq in [from, to). */
  hasUndeliveredIn(from: number, to: number): boolean {
    let lo = this.at;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.seqs.length && this.seqs[lo] < to;
  }

  undeliveredSeqs(): number[] {
    return this.seqs.slice(this.at);
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once an undelivered event is ready (without reading it). Rejects once closed. */
  async ready(): Promise<void> {
    while (this.at >= this.seqs.length) {
      if (this.closed) throw new Error('queue closed');
      await new Promise<void>((r) => { this.waiters.push(r); });
    }
    if (this.closed) throw new Error('queue closed');
  }

  peekReady(): boolean {
    return this.at < this.seqs.length;
  }

  /** The oldest undelivered event; waits until there is one. Rejects once closed. */
  async next(): Promise<QueuedItem> {
    for (;;) {
      await this.ready();
      const seq = this.seqs[this.at];
      const event = await this.journal.read(seq, this);
      if (event) return { seq, event };
      // Its segment is gone (deleted by hand, or lost to corruption): go on without it.
      log('warn', 'event queue: skipping a missing event', { queue: this.label, seq });
      this.ack(seq);
    }
  }

  /**
   * Up to `max` undelivered events from the oldest (waits for the first one, never for
   * more). ack() the last one's seq once all were delivered.
   */
  async nextBatch(max: number): Promise<QueuedItem[]> {
    const out = [await this.next()];
    for (let i = this.at + 1; out.length < max && i < this.seqs.length; i++) {
      const seq = this.seqs[i];
      const event = await this.journal.read(seq, this);
      if (!event) break; // missing: next() deals with it on its own
      out.push({ seq, event });
    }
    return out;
  }

  /** Marks every event for this target up to and including seq delivered. */
  ack(seq: number): void {
    if (seq < this.head) return;
    this.head = seq + 1;
    while (this.at < this.seqs.length && this.seqs[this.at] <= seq) this.at++;
    if (this.at >= TRIM_AFTER && this.at * 2 >= this.seqs.length) {
      this.seqs = this.seqs.slice(this.at);
      this.at = 0;
    }
    this.journal.dropDelivered();
    if (!this.commitTimer && !this.closed) {
      // At once after a quiet spell (a batch's ack), else at most every OFFSET_WRITE_DELAY_MS.
      const wait = Math.max(0, this.lastCommitAt + OFFSET_WRITE_DELAY_MS - performance.now());
      this.commitTimer = setTimeout(() => { this.commitTimer = undefined; this.commit(); }, wait);
    }
  }

  /**
   * Writes the offset file if it is behind (an InPlaceFile: one small write() on this
   * thread, no thread-pool round trip: it runs up to 10 times a second per busy target,
   * and the sooner it is written after an ack, the less a crash repeats). A torn or
   * garbled offset only makes recovery start at the oldest segment on disk.
   */
  commit(): void {
    if (this.committedOnDisk === this.head) return;
    const next = this.head;
    this.lastCommitAt = performance.now();
    try {
      this.offsetFile.write(JSON.stringify({ next }));
      this.committedOnDisk = next;
    } catch (e) {
      log('warn', 'event queue: could not write offset', { queue: this.label, error: String(e) });
    }
  }

  /** For the journal: a target starts (again) reading. */
  reopen(): void {
    this.closed = false;
  }

  /** Writes the offset and stops reading: next() rejects. Its events stay queued. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.commit();
    this.offsetFile.close();
    this.wake();
  }
}
