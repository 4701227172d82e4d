/**
 * The cluster primary's side of the workers' spools (spool.ts): in rounds (see start())
 * it reads what the workers appended, queues it in the journal(s) in stamp order, then
 * notes how far it got (merged.json in the spool) and deletes the segments it is done
 * with, and the spools of workers that are gone (not a worker of this primary, and no
 * such process) once they are merged.
 *
 * Order. A round reads the clock (t0) before it reads any spool, and queues only the
 * events stamped before t0; the others wait for the next round. If a client sent B after
 * A was answered, A's write ended before B was stamped; so when B is stamped before t0,
 * A was on disk before this round's reads and is queued in this round or an earlier one,
 * and its earlier stamp puts it first. Requests that overlapped may be queued in either
 * order, as with one process.
 *
 * recover() runs before any worker exists and close() after they stopped: every spool is
 * then complete, and such a round queues all it reads, whatever the stamps (the clock
 * restarts with the machine). Progress is written after each round that queued
 * something (a small synchronous write), so after a crash only the events of a round
 * cut short may be queued again: at-least-once, like the journal's offsets.
 *
 * File calls are synchronous: the merger runs in the primary, which serves no S3
 * requests, and its calls hit the page cache (a few microseconds each), where a round
 * trip through the thread pool costs about 35 us of CPU in wake-ups and context
 * switches on a 2-core machine, several times per round. Elsewhere (recovery at the
 * start, a take-over of a gone instance's journal) spools are small: a running primary
 * merges them within tens of milliseconds, and its workers stop with it.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../server/log.js';
import { InPlaceFile } from './in-place-file.js';
import { pidRuns } from '../server/instance-id.js';
import type { QueuedEvent } from './target.js';
import { monotonicMicros, parseSpoolLine, SPOOL_DIR_RE, SPOOL_SEGMENT_RE, WRITTEN_CALL_MS } from './spool.js';

/**
 * Rounds while workers write: an event waits up to this long (and up to twice that) in a
 * spool before it is queued. Each round wakes the primary and ends with a durable
 * journal write. With 250 ms delivery batches (delivery.ts), 100 ms rather than 20 (with
 * 100 ms batches) took what three targets cost PUT throughput from 22-23% to 16-17% in
 * alternating runs here (2 workers, see the README's benchmarks). The first write after
 * a quiet spell is merged at once (spooled()).
 */
export const MERGE_INTERVAL_MS = 100;
/** Polling with nothing to merge: a safety net, as workers say when they wrote. */
const IDLE_INTERVAL_MS = 1000;
const BUSY_MS = 3 * WRITTEN_CALL_MS;
const READ_CHUNK = 64 * 1024;
const PROGRESS_FILE = 'merged.json';
/** merged.json's length (an InPlaceFile). */
const PROGRESS_BYTES = 128;

export interface MergedEvent {
  /** Target keys (arn.ts targetKey). */
  keys: string[];
  event: QueuedEvent;
  /** The event's JSON. */
  line: string;
}

interface Position { segment: string; offset: number }

interface Item extends MergedEvent {
  t: number;
  spool: Spool;
  /** Where the line ends: progress once it is queued. */
  at: Position;
}

interface Spool {
  name: string;
  dir: string;
  pid: number;
  /** The segment being read and where its next line starts. */
  reading: Position | undefined;
  fd: number | undefined;
  /** Read but not queued yet (stamped at or after the round's start). */
  held: Item[];
  /** Queued up to here, and what merged.json holds. */
  merged: Position | undefined;
  written: string | undefined;
  /** merged.json. */
  progress: InPlaceFile;
  /** Segment files, oldest first, as last listed. */
  segments: string[];
}

export class SpoolMerger {
  private readonly spools = new Map<string, Spool>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private busyUntil = 0;
  private buffer = Buffer.allocUnsafe(READ_CHUNK);

  constructor(
    private readonly journalDir: string,
    /** Queues the events in this order; resolves once they are durable. */
    private readonly queue: (items: MergedEvent[]) => Promise<void>,
    /** Pids of the workers running now. */
    private readonly livePids: () => Set<number>,
  ) {}

  /** Queues what spools of an earlier run hold (call before any worker starts). */
  recover(): Promise<void> {
    return this.round(true);
  }

  /**
   * Merges on a timer from now on (once there are workers): every MERGE_INTERVAL_MS while
   * there is news (a round that queued something, or a worker's spooled() call in the
   * last BUSY_MS), else every IDLE_INTERVAL_MS. A worker calls at most every
   * WRITTEN_CALL_MS while it writes, and BUSY_MS is three times that, so a write is never
   * left to the idle interval unless its call was lost.
   */
  start(delayMs?: number): void {
    if (this.timer || this.stopped) return;
    const busy = performance.now() < this.busyUntil;
    this.timer = setTimeout(() => {
      this.running = this.round(false)
        .catch((e) => log('error', 'event spools: merge failed (tried again)', { dir: this.journalDir, error: String(e) }))
        .finally(() => { this.running = undefined; this.timer = undefined; this.start(); });
    }, delayMs ?? (busy ? MERGE_INTERVAL_MS : IDLE_INTERVAL_MS));
  }

  /**
   * A worker wrote to its spool: keep merging often for a while. After a quiet spell the
   * round comes at once, so a lone event is not held; while busy, the round already
   * due is not put off (workers call every WRITTEN_CALL_MS, more often than it comes).
   */
  spooled(): void {
    const quiet = performance.now() >= this.busyUntil;
    this.busyUntil = performance.now() + BUSY_MS;
    if (quiet && this.timer && !this.running) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.start(0);
    }
  }

  /** Stops the timer; once the workers are gone, queues what their spools still hold. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.livePids().size === 0) await this.round(true).catch((e) => log('error', 'event spools: final merge failed (done at the next start)', { dir: this.journalDir, error: String(e) }));
    for (const s of this.spools.values()) closeFiles(s);
  }

  private async round(all: boolean): Promise<void> {
    const t0 = monotonicMicros();
    const live = this.livePids();
    let names: string[] = [];
    try { names = readdirSync(this.journalDir); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
    for (const name of names) {
      const m = SPOOL_DIR_RE.exec(name);
      if (m && !this.spools.has(name)) this.spools.set(name, this.load(name, Number(m[1])));
    }
    // Writers that are gone before this round reads their spools: nothing more will come.
    // (A worker of a primary that was killed may outlive it for a moment.)
    const gone = new Set([...this.spools.values()].filter((s) => !live.has(s.pid) && !pidRuns(s.pid)));
    const ready: Item[] = [];
    const taking = new Map<Spool, number>();
    for (const s of this.spools.values()) {
      this.read(s);
      const later = all ? -1 : s.held.findIndex((i) => i.t >= t0);
      taking.set(s, later < 0 ? s.held.length : later);
      ready.push(...s.held.slice(0, taking.get(s)));
    }
    if (ready.length > 0) {
      this.busyUntil = performance.now() + BUSY_MS;
      ready.sort((a, b) => a.t - b.t); // stable: a spool's lines keep their order
      await this.queue(ready); // if it fails, they are still held for the next round
      for (const [s, n] of taking) s.held.splice(0, n);
      for (const i of ready) i.spool.merged = i.at;
    }
    for (const s of [...this.spools.values()]) {
      this.persist(s);
      if (gone.has(s) && s.held.length === 0) this.remove(s);
    }
  }

  private load(name: string, pid: number): Spool {
    const dir = join(this.journalDir, name);
    let merged: Position | undefined;
    try {
      const doc = JSON.parse(readFileSync(join(dir, PROGRESS_FILE), 'utf8')) as Partial<Position>;
      if (typeof doc.segment === 'string' && typeof doc.offset === 'number') merged = { segment: doc.segment, offset: doc.offset };
    } catch { /* none yet, or torn: from the first segment (repeats, no loss) */ }
    return { name, dir, pid, reading: merged && { ...merged }, fd: undefined, held: [], merged, written: merged && JSON.stringify(merged), progress: new InPlaceFile(join(dir, PROGRESS_FILE), PROGRESS_BYTES), segments: [] };
  }

  /** Reads the complete lines written since the last round, segment after segment. */
  private read(s: Spool): void {
    s.segments = listSegments(s.dir);
    for (;;) {
      if (!s.reading || !s.segments.includes(s.reading.segment)) {
        const first = s.segments.find((n) => !s.reading || n > s.reading.segment);
        if (first === undefined) return;
        closeFd(s);
        s.reading = { segment: first, offset: 0 };
      }
      s.fd ??= openSync(join(s.dir, s.reading.segment), 'r');
      this.readLines(s, s.fd, s.reading);
      const next = s.segments.find((n) => n > s.reading!.segment);
      if (next === undefined) return;
      // The writer began `next` after its last write to this one: nothing more comes here
      // (and what does not parse is a write a crash cut short, never answered).
      closeFd(s);
      s.reading = { segment: next, offset: 0 };
    }
  }

  /**
   * Complete lines from `pos` on, into s.held; stops at zeros (space written ahead), at a
   * line not (yet) complete, and at the end of the file.
   */
  private readLines(s: Spool, fd: number, pos: Position): void {
    let size = READ_CHUNK;
    for (;;) {
      if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
      const buf = this.buffer; // lines are copied out as strings
      const bytesRead = readSync(fd, buf, 0, size, pos.offset);
      const data = buf.subarray(0, bytesRead);
      let used = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, used)) {
        const line = parseSpoolLine(data.toString('utf8', used, nl));
        if (!line) {
          pos.offset += used;
          return;
        }
        used = nl + 1;
        s.held.push({ keys: line.to, event: line.event, line: line.text, t: line.t, spool: s, at: { segment: pos.segment, offset: pos.offset + used } });
      }
      pos.offset += used;
      // At the end of the file, at zeros, or at a line still being written: done for now.
      if (bytesRead < size || data.indexOf(0, used) >= 0) return;
      if (used === 0) size *= 2; // a line longer than the buffer
    }
  }

  /** Writes merged.json if it is behind, then drops finished segments. */
  private persist(s: Spool): void {
    if (!s.merged) return;
    const text = JSON.stringify(s.merged);
    if (text === s.written) return;
    s.progress.write(text);
    s.written = text;
    const done = s.merged.segment;
    for (const seg of s.segments.filter((n) => n < done)) {
      try { unlinkSync(join(s.dir, seg)); } catch { /* gone already */ }
    }
    s.segments = s.segments.filter((n) => n >= done);
  }

  private remove(s: Spool): void {
    closeFiles(s);
    rmSync(s.dir, { recursive: true, force: true });
    this.spools.delete(s.name);
  }
}

function listSegments(dir: string): string[] {
  try { return readdirSync(dir).filter((n) => SPOOL_SEGMENT_RE.test(n)).sort(); } catch { return []; }
}

function closeFd(s: Spool): void {
  if (s.fd !== undefined) closeSync(s.fd);
  s.fd = undefined;
}

function closeFiles(s: Spool): void {
  closeFd(s);
  s.progress.close();
}
