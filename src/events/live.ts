/**
 * Live event fan-out for ListenBucketNotification (`mc watch`), across the node:cluster
 * workers of one server. Every process counts its listeners and announces the count on
 * the cluster bus ('event-listeners'); a publisher sends a record over the bus
 * ('event-live') only when some other process has listeners, and delivers locally
 * otherwise, so with nobody watching publishing costs no IPC. Listeners on other
 * instances of a shared data dir are not reached (as MinIO without peers).
 */
import { publish, subscribe } from '../server/cluster-bus.js';
import type { EventRecord } from './target.js';
import { expandEventName } from './names.js';

export interface LiveFilter {
  /** Undefined: every bucket (ListenNotification). */
  bucket?: string;
  prefix: string;
  suffix: string;
  /** Names as given (wildcards allowed). */
  events: string[];
}

interface Listener {
  bucket?: string;
  prefix: string;
  suffix: string;
  events: Set<string>;
  deliver(record: EventRecord): void;
}

const LIVE_TOPIC = 'event-live';
const COUNT_TOPIC = 'event-listeners';
const HELLO_TOPIC = 'event-listeners-hello';

export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private readonly counts = new Map<number, number>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor() {
    this.unsubscribe.push(
      subscribe(LIVE_TOPIC, (p) => this.deliverLocal((p as { record: EventRecord }).record)),
      subscribe(COUNT_TOPIC, (p) => {
        const { pid, count } = p as { pid: number; count: number };
        if (pid !== process.pid) this.counts.set(pid, count);
      }),
      subscribe(HELLO_TOPIC, (p) => {
        if ((p as { pid: number }).pid !== process.pid && this.listeners.size > 0) this.announce();
      }),
    );
    publish(HELLO_TOPIC, { pid: process.pid });
  }

  private announce(): void {
    publish(COUNT_TOPIC, { pid: process.pid, count: this.listeners.size });
  }

  private othersListening(): boolean {
    for (const c of this.counts.values()) if (c > 0) return true;
    return false;
  }

  /** Is anyone, in any process, listening? (Cheap check before building records.) */
  get active(): boolean {
    return this.listeners.size > 0 || this.othersListening();
  }

  /** Adds a listener; returns its removal. */
  add(filter: LiveFilter, deliver: (record: EventRecord) => void): () => void {
    const l: Listener = { bucket: filter.bucket, prefix: filter.prefix, suffix: filter.suffix, events: new Set(filter.events.flatMap(expandEventName)), deliver };
    this.listeners.add(l);
    this.announce();
    return () => {
      if (this.listeners.delete(l)) this.announce();
    };
  }

  publish(record: EventRecord): void {
    if (this.othersListening()) publish(LIVE_TOPIC, { record });
    else this.deliverLocal(record);
  }

  private deliverLocal(record: EventRecord): void {
    const bucket = record.s3.bucket.name;
    const key = record.s3.object.key;
    for (const l of this.listeners) {
      if (l.bucket !== undefined && l.bucket !== bucket) continue;
      if (!l.events.has(record.eventName)) continue;
      if (!key.startsWith(l.prefix) || !key.endsWith(l.suffix)) continue;
      try { l.deliver(record); } catch { /* a broken listener must not affect the others */ }
    }
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
    this.announce();
  }
}
