/**
 * A worker's spool: where a --workers process makes its matched events durable before
 * the S3 response, with no round trip to the primary (which owns the journal and the
 * delivery loops and merges the spools into the journal, see spool-merger.ts).
 *
 * Layout: <journal dir>/spool-<pid>-<random>/<first line number, 16 digits>.jsonl (the
 * random part so a pid used again never writes into an older spool), one line per
 * event, {"t":<stamp>,"to":["<id>:<type>",...],"event":{...}}, in segments of
 * SEGMENT_LINES lines; merged.json there is the merger's progress.
 *
 * Writes are grouped like the journal's (one write, and sync per the QueueSync mode,
 * per batch of the appends that came while the previous one ran or the BatchGate
 * waited). `t` is the batch's stamp: CLOCK_MONOTONIC in microseconds, the same clock in
 * every process of the machine, read when the batch is handed to write(). An event's
 * stamp is therefore earlier than its S3 response, and the stamp of any event published
 * after that response is later: merging the spools by stamp keeps the order of requests
 * that followed each other, whichever workers served them.
 */
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SegmentFile, type QueueSync } from './segment-file.js';
import type { QueuedEvent } from './target.js';
import { eventFromJson } from './serialized-event.js';
import { BatchGate } from './batch-gate.js';

/** A spool directory's name; the pid of its writer is the first group. */
export const SPOOL_DIR_RE = /^spool-(\d+)-[0-9a-f]+$/;
export const SPOOL_SEGMENT_RE = /^\d{16}\.jsonl$/;
const SEGMENT_LINES = 1000;
/** Shortest time between two onWritten calls; the merger polls for 3 times as long after one. */
export const WRITTEN_CALL_MS = 100;

/** A new spool directory for this process. */
export function newSpoolDir(journalDir: string): string {
  return join(journalDir, `spool-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** CLOCK_MONOTONIC in microseconds (a Number: exact for 285 years of uptime). */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function segmentName(firstLine: number): string {
  return `${String(firstLine).padStart(16, '0')}.jsonl`;
}

function linePrefix(t: number, to: string[]): string {
  return `{"t":${t},"to":${JSON.stringify(to)},"event":`;
}

export interface SpoolLine {
  t: number;
  /** Target keys (arn.ts targetKey). */
  to: string[];
  event: QueuedEvent;
  /** The event's JSON as written (for the journal line, without a second stringify). */
  text: string;
}

/** The start of a line as linePrefix() writes it. */
const PREFIX = /^\{"t":(\d+),"to":(\[[^\]]*\]),"event":/;

/**
 * One line (without its newline) as written by a SpoolWriter, or undefined when it is
 * not one. A reader may see a batch half copied into the page cache, and a crash may
 * leave one half written: what follows is zero bytes (the preallocated space), so such
 * a line has no newline yet or holds a zero byte. The event is not parsed (see
 * SerializedEvent); a line in another shape is, and must parse.
 */
export function parseSpoolLine(line: string): SpoolLine | undefined {
  if (line.includes('\0')) return undefined;
  const m = PREFIX.exec(line);
  const to = m && parseTargets(m[2]);
  if (m && to && line.endsWith('}')) {
    const text = line.slice(m[0].length, -1);
    const event = eventFromJson(text);
    if (event) return { t: Number(m[1]), to, event, text };
  }
  let doc: { t?: unknown; to?: unknown; event?: unknown };
  try { doc = JSON.parse(line) as typeof doc; } catch { return undefined; }
  if (typeof doc.t !== 'number' || !Array.isArray(doc.to) || typeof doc.event !== 'object' || doc.event === null) return undefined;
  return { t: doc.t, to: doc.to as string[], event: doc.event as QueuedEvent, text: JSON.stringify(doc.event) };
}

/** A JSON list of target keys, or undefined (a key with a ']' is cut short by PREFIX). */
function parseTargets(json: string): string[] | undefined {
  try {
    const to = JSON.parse(json) as unknown;
    return Array.isArray(to) && to.every((k) => typeof k === 'string') ? to : undefined;
  } catch {
    return undefined;
  }
}

interface PendingLine {
  to: string[];
  text: string;
  resolve(): void;
  reject(e: Error): void;
}

export class SpoolWriter {
  private file: SegmentFile | undefined;
  /** Lines written before the current segment, and in it. */
  private segmentFirst = 0;
  private segmentLines = 0;
  private readonly maxLines: number;
  private pending: PendingLine[] = [];
  private flushing: Promise<void> | undefined;
  private readonly gate: BatchGate;

  private lastWrittenCall = -Infinity;

  /**
   * `onWritten` is called after a write, at most every WRITTEN_CALL_MS: the worker tells
   * the primary, whose merger polls only while it hears of writes (spool-merger.ts).
   */
  constructor(readonly dir: string, private readonly opts: { sync: QueueSync; segmentLines?: number; onWritten?: () => void }) {
    this.maxLines = opts.segmentLines ?? SEGMENT_LINES;
    this.gate = new BatchGate(opts.sync, () => this.pending.length);
  }

  /** Resolves once the event is durable in the spool; rejects when it could not be written. */
  append(to: string[], eventText: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ to, text: eventText, resolve, reject });
      this.flushing ??= this.flushLoop();
      this.gate.joined();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let appends of the same tick join this batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.pending.length > 0) {
        await this.gate.wait();
        const batch = this.pending.splice(0, this.maxLines);
        try {
          if (!this.file || this.segmentLines + batch.length > this.maxLines) await this.rotate();
          const t = monotonicMicros();
          await this.file!.append(Buffer.from(batch.map((p) => `${linePrefix(t, p.to)}${p.text}}\n`).join('')));
          this.segmentLines += batch.length;
          for (const p of batch) p.resolve();
          const now = performance.now();
          if (now - this.lastWrittenCall >= WRITTEN_CALL_MS) {
            this.lastWrittenCall = now;
            this.opts.onWritten?.();
          }
        } catch (e) {
          for (const p of batch) p.reject(e as Error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Seals the current segment (if any) and starts the next one. */
  private async rotate(): Promise<void> {
    if (this.file) {
      await this.file.seal();
      this.file = undefined;
      this.segmentFirst += this.segmentLines;
      this.segmentLines = 0;
    } else {
      await mkdir(this.dir, { recursive: true });
    }
    this.file = await SegmentFile.create(join(this.dir, segmentName(this.segmentFirst)), this.opts.sync);
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.file?.seal();
    this.file = undefined;
  }
}
