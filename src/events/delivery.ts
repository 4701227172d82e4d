/**
 * The delivery loop of one target: takes the oldest queued event, calls target.send(),
 * and only after it resolved marks the event delivered and moves on, so events reach a
 * target in queue order, at least once. A target with sendBatch() gets every event that
 * is ready (up to MAX_BATCH) in one call instead, acknowledged as a whole (or up to the
 * PartialDelivery it names): under load that turns one round trip per event into one
 * per batch; other targets get the ready
 * events one after the other. Batches start at most every BATCH_INTERVAL_MS: an event
 * after a quiet spell goes out at once, a steady stream goes out in bursts (a round
 * trip costs the target server and this process far more CPU than an event in it, and
 * a delivery that wakes both sides from idle costs about twice one made in a burst).
 *
 * A failure (or a send that does not settle within sendTimeoutMs) is retried with
 * exponential back-off (100 ms doubling to 5 s), for as long as it takes, from the first
 * event not yet acknowledged; no event is skipped. init() is retried the same way
 * until it succeeds once; after that, reconnecting is the target's job inside send()
 * (the targets' LazyConnection re-opens broken connections).
 *
 * Going offline and coming back are logged once each (not once per retry); status()
 * gives online/queued/delivered/failed counts and the last error for the admin API.
 */
import { PartialDelivery, type EventTarget } from './target.js';
import type { QueueConsumer } from './journal.js';

export interface DeliveryStatus {
  arn: string;
  type: string;
  id: string;
  online: boolean;
  /** Undelivered events in the queue. */
  queued: number;
  delivered: number;
  /** Events queued for this target since start. */
  accepted: number;
  /** Events in the send (or batch) now in progress. */
  sending: number;
  /** Failed send/init attempts since start. */
  failedAttempts: number;
  lastError?: string;
  lastErrorTime?: string;
  /** Events refused because the queue was full. */
  overflow: number;
  /** Events that could not be written to the queue (I/O errors). */
  writeErrors: number;
  queueDir: string;
  queueLimit: number;
}

export interface DeliveryOptions {
  arn: string;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  sendTimeoutMs?: number;
}

function log(level: string, msg: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields });
  if (level === 'info') console.log(line);
  else console.error(line);
}

/**
 * Most events handed to a target's sendBatch() at once. With one batch per
 * BATCH_INTERVAL_MS this caps what a target receives at 10,000 events/s (a cap of
 * 1,000/s was less than a single s3gate makes of small PUTs: the queue grew for as long
 * as the load lasted). A batch of 2500 records of a few KB is a few MB per round trip.
 */
export const MAX_BATCH = 2500;
/**
 * Shortest time between the starts of two batches to one target: the most a steady
 * stream's events wait (250 ms is 200 events at 800 PUT/s). A round trip costs far more
 * than an event in it: per event, Redis, PostgreSQL and a webhook together, client and
 * server, cost 377 us of CPU in bursts of 10 and 210 us in bursts of 50 (measured here),
 * and each batch wakes the target's server (PostgreSQL commits it with a WAL flush).
 * 250 ms rather than 100 went with the spool merger's 100 ms rounds (spool-merger.ts).
 */
export const BATCH_INTERVAL_MS = 250;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

export class DeliveryLoop {
  private online = false;
  private initialized = false;
  private delivered = 0;
  private sending = 0;
  private failedAttempts = 0;
  private lastError: string | undefined;
  private lastErrorTime: string | undefined;
  private stopping = false;
  private stopSignal!: () => void;
  private readonly stopped: Promise<undefined>;
  private running: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly sendTimeout: number;

  constructor(readonly target: EventTarget, readonly queue: QueueConsumer, readonly opts: DeliveryOptions) {
    this.initialBackoff = opts.initialBackoffMs ?? 100;
    this.maxBackoff = opts.maxBackoffMs ?? 5000;
    this.sendTimeout = opts.sendTimeoutMs ?? 60_000;
    this.stopped = new Promise((r) => { this.stopSignal = () => r(undefined); });
  }

  start(): void {
    this.running ??= this.run();
  }

  private async run(): Promise<void> {
    let backoff = this.initialBackoff;
    // Connect at start so a target that is down is reported now, not at its first event.
    while (!this.stopping && !this.initialized) {
      try {
        await withTimeout(this.target.init(), this.sendTimeout, 'init');
        this.initialized = true;
        this.markOnline();
      } catch (e) {
        this.markFailure(e, 'event target not reachable; its events are queued until it is');
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.maxBackoff);
      }
    }
    backoff = this.initialBackoff;
    const batched = typeof this.target.sendBatch === 'function';
    let lastBatchAt = -Infinity;
    while (!this.stopping) {
      if (!(await Promise.race([this.queue.ready().then(() => true, () => false), this.stopped]))) break;
      const wait = lastBatchAt + BATCH_INTERVAL_MS - performance.now();
      if (wait > 0) await this.sleep(wait);
      lastBatchAt = performance.now();
      const items = await Promise.race([this.queue.nextBatch(MAX_BATCH).catch(() => undefined), this.stopped]);
      if (!items) break;
      // One sendBatch for the lot, or (targets without it) one send after the other.
      let from = 0;
      const acknowledge = (n: number) => {
        if (n === 0) return;
        from += n;
        this.queue.ack(items[from - 1].seq);
        this.delivered += n;
      };
      while (!this.stopping && from < items.length) {
        const take = batched && items.length - from > 1 ? items.length - from : 1;
        const events = items.slice(from, from + take).map((i) => i.event);
        this.sending = take;
        try {
          await withTimeout(take > 1 ? this.target.sendBatch!(events) : this.target.send(events[0]), this.sendTimeout, 'send');
          this.sending = 0;
          acknowledge(take);
          this.markOnline();
          backoff = this.initialBackoff;
        } catch (e) {
          acknowledge(e instanceof PartialDelivery ? e.delivered : 0);
          this.sending = 0;
          this.markFailure(e, 'event delivery failed; retrying (events stay queued, in order)');
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, this.maxBackoff);
        }
      }
    }
  }

  private markOnline(): void {
    // Logged only as a recovery: a target that never failed needs no line.
    if (!this.online && this.failedAttempts > 0) log('info', 'event target online', { target: this.opts.arn, queued: this.queue.size });
    this.online = true;
  }

  private markFailure(e: unknown, msg: string): void {
    this.failedAttempts++;
    const text = String((e as Error)?.message ?? e);
    const changed = this.online || this.lastError !== text || this.failedAttempts === 1;
    this.online = false;
    this.lastError = text;
    this.lastErrorTime = new Date().toISOString();
    if (changed) log('warn', msg, { target: this.opts.arn, error: text, queued: this.queue.size });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wakeSleep = undefined; resolve(); }, ms);
      this.wakeSleep = () => { clearTimeout(t); this.wakeSleep = undefined; resolve(); };
    });
  }

  status(): DeliveryStatus {
    return {
      arn: this.opts.arn,
      type: this.target.type,
      id: this.target.id,
      online: this.online,
      queued: this.queue.size,
      delivered: this.delivered,
      accepted: this.queue.acceptedCount,
      sending: this.sending,
      failedAttempts: this.failedAttempts,
      lastError: this.lastError,
      lastErrorTime: this.lastErrorTime,
      overflow: this.queue.overflowCount,
      writeErrors: this.queue.writeErrors,
      queueDir: this.queue.dir,
      queueLimit: this.queue.limit,
    };
  }

  /** Stops after the send in progress (bounded by its timeout), persists progress, closes target and queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal();
    this.wakeSleep?.();
    await this.running;
    await this.queue.close();
    await this.target.close().catch((e) => log('warn', 'event target close failed', { target: this.opts.arn, error: String(e) }));
  }
}
