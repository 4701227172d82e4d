/**
 * The targets this process delivers to (the event owner: the cluster primary, or the
 * only process), built from the config service's enabled notify_* targets and kept in
 * step with it: a changed target is stopped (progress saved) and re-created with its
 * new settings, a removed/disabled one is stopped, a new one started, all without a
 * restart. The queue of a target outlives its settings: events queued for
 * notify_redis:1 are delivered by the re-created target, and stay on disk while the
 * target is disabled.
 *
 * Queue location: <queue_dir or <sysDir>/queues>/<instance-id>/journal/, one journal
 * (journal.ts) for all targets with the same queue root, so an event for three targets
 * is one durable write; several instances sharing a data dir (or a queue_dir) never
 * share a journal. The queues of an instance that is gone (restarted on another port,
 * or a container with a new hostname) are taken over by a live one (queue-lease.ts).
 */
import { join } from 'node:path';
import { ADOPT_INTERVAL_MS, adoptOrphanQueues, JOURNAL_DIR, LeaseKeeper, migrateLegacyQueues, type Staleness } from './queue-lease.js';
import type { ConfigService } from '../config/service.js';
import type { ConfigTarget } from '../config/subsystem.js';
import { formatTargetArn, queueName, targetKey } from './arn.js';
import { DeliveryLoop, type DeliveryStatus } from './delivery.js';
import { EventJournal, type QueueConsumer } from './journal.js';
import type { QueuedEvent } from './target.js';
import { loadTargetModule, typeOfSubsystem } from './target-factory.js';
import { SERVICE_KEYS } from './notify-subsystems.js';
import { parseQueueOptions } from './targets/options.js';
import type { QueueSync } from './segment-file.js';

export interface RegistryOptions {
  config: ConfigService;
  sysDir: string;
  instanceId: string;
  region: string;
  fsync?: QueueSync;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Prints the `SQS ARNs: ...` line; default console.log. */
  announce?: (line: string) => void;
  /** When another instance counts as gone, and how often to look (tests shorten them). */
  staleness?: Staleness;
  adoptIntervalMs?: number;
}

interface Entry {
  signature: string;
  arn: string;
  loop?: DeliveryLoop;
  /** Why the target could not be created (bad settings, missing module). */
  error?: string;
  type: string;
  id: string;
}

/** A queue root in use: this instance's journal there and its lease. */
interface Root {
  journal: EventJournal;
  lease: LeaseKeeper;
}

/** Options as the target factory takes them: the event system's own keys removed. */
export function targetOptions(t: ConfigTarget): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.kvs)) if (!SERVICE_KEYS.has(k)) out[k] = v;
  return out;
}

/** Enabled notify_* targets of a known type. */
export function enabledTargets(config: ConfigService): Array<{ config: ConfigTarget; type: string; id: string }> {
  return config.list().flatMap((t) => {
    const type = typeOfSubsystem(t.subsys);
    return type && t.enabled ? [{ config: t, type, id: t.target }] : [];
  });
}

/** Queues live in <root>/<instance-id>/<name>. */
function queueRoot(sysDir: string, queueDir: string): string {
  return queueDir || join(sysDir, 'queues');
}

/** The journal directory in the default queue root, where workers' spools live (spool.ts). */
export function defaultJournalDir(sysDir: string, instanceId: string): string {
  return join(queueRoot(sysDir, ''), instanceId, JOURNAL_DIR);
}

export class TargetRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Targets being (re)started: events for them wait instead of being dropped. */
  private readonly starting = new Map<string, Promise<Entry>>();
  private chain: Promise<void> = Promise.resolve();
  private lastAnnounced = '';
  private closed = false;
  private readonly roots = new Map<string, Promise<Root>>();
  private readonly adoptTimer: NodeJS.Timeout;

  constructor(private readonly opts: RegistryOptions) {
    // Queues of instances that went away (see queue-lease.ts): looked for on a timer,
    // never in start(), so a large take-over does not hold up events waiting for it.
    this.adoptTimer = setInterval(() => { this.chain = this.chain.then(() => this.adoptAll()).catch(() => {}); }, opts.adoptIntervalMs ?? ADOPT_INTERVAL_MS);
    this.adoptTimer.unref();
  }

  /** Brings the running targets in line with the config (serialized). */
  reconcile(): Promise<void> {
    const run = this.chain.then(() => this.doReconcile());
    this.chain = run.catch((e) => console.error(JSON.stringify({ level: 'error', msg: 'event target reconcile failed', error: String(e) })));
    return run;
  }

  private async doReconcile(): Promise<void> {
    if (this.closed) return;
    const wanted = new Map(enabledTargets(this.opts.config).map((t) => [targetKey(t), t]));
    const work: Promise<unknown>[] = [];
    for (const [key, entry] of this.entries) {
      const w = wanted.get(key);
      if (w && JSON.stringify(w.config.kvs) === entry.signature) continue;
      this.entries.delete(key);
      if (!w) { work.push(entry.loop?.stop() ?? Promise.resolve()); continue; }
      // Replace: the old loop must release the queue before the new one opens it.
      work.push(this.track(key, entry.loop?.stop().then(() => this.start(w.config, w.type, w.id)) ?? this.start(w.config, w.type, w.id)));
    }
    for (const [key, w] of wanted) {
      if (!this.entries.has(key) && !this.starting.has(key)) work.push(this.track(key, this.start(w.config, w.type, w.id)));
    }
    await Promise.all(work);
    const line = `SQS ARNs: ${[...this.entries.values()].map((e) => e.arn).join(' ')}`;
    if (line !== this.lastAnnounced && this.entries.size > 0) (this.opts.announce ?? console.log)(line);
    this.lastAnnounced = line;
  }

  private track(key: string, p: Promise<Entry>): Promise<Entry> {
    this.starting.set(key, p);
    return p.then((e) => {
      this.entries.set(key, e);
      this.starting.delete(key);
      return e;
    });
  }

  private async start(config: ConfigTarget, type: string, id: string): Promise<Entry> {
    const arn = formatTargetArn({ id, type }, this.opts.region);
    const entry: Entry = { signature: JSON.stringify(config.kvs), arn, type, id };
    try {
      const mod = await loadTargetModule(type as never);
      if (!mod) throw new Error(`target type ${type} is not available in this build`);
      const options = targetOptions(config);
      const q = parseQueueOptions(config.subsys, id, options);
      const target = mod.create(id, options);
      const { journal } = await this.root(queueRoot(this.opts.sysDir, q.queueDir));
      const queue = journal.attach(queueName({ type, id }), { limit: q.queueLimit, label: arn });
      entry.loop = new DeliveryLoop(target, queue, { arn, initialBackoffMs: this.opts.initialBackoffMs, maxBackoffMs: this.opts.maxBackoffMs });
      entry.loop.start();
      if (queue.size > 0) console.log(JSON.stringify({ level: 'info', msg: 'replaying queued events', target: arn, queued: queue.size }));
    } catch (e) {
      entry.error = String((e as Error)?.message ?? e);
      console.error(JSON.stringify({ level: 'error', msg: 'notification target not started', target: arn, error: entry.error }));
    }
    return entry;
  }

  /**
   * The journal of a queue root, opened on first use: the lease is written first (so the
   * instance is not taken for gone), and queues of an older s3gate are moved in before
   * any new event.
   */
  private root(dir: string): Promise<Root> {
    let root = this.roots.get(dir);
    if (!root) {
      root = (async () => {
        const lease = new LeaseKeeper(dir, this.opts.instanceId);
        await lease.start();
        const journal = await EventJournal.open({ dir: join(dir, this.opts.instanceId, JOURNAL_DIR), fsync: this.opts.fsync, name: dir });
        await migrateLegacyQueues(dir, this.opts.instanceId, journal, this.opts.fsync);
        return { journal, lease };
      })();
      this.roots.set(dir, root);
      root.catch(() => this.roots.delete(dir)); // tried again at the next start of a target
    }
    return root;
  }

  private async adoptAll(): Promise<void> {
    for (const [dir, root] of this.roots) {
      if (this.closed) return;
      const { journal } = await root;
      await adoptOrphanQueues({ root: dir, instanceId: this.opts.instanceId, into: journal, fsync: this.opts.fsync, ...this.opts.staleness });
    }
  }

  /**
   * Queues the event for these targets (one write per journal, whatever their number);
   * resolves when it is durable. Unknown keys are skipped.
   */
  async enqueue(keys: string[], event: QueuedEvent): Promise<void> {
    for (const k of keys) if (!this.entries.has(k)) await this.starting.get(k);
    await this.appendNow(keys, event);
  }

  /**
   * Queues events merged from the workers' spools, in this order (appended in one turn,
   * so each journal writes the lot in one group commit); resolves when they are durable.
   */
  async enqueueInOrder(items: Array<{ keys: string[]; event: QueuedEvent; line?: string }>): Promise<void> {
    await Promise.all([...this.starting.values()].map((p) => p.catch(() => undefined)));
    await Promise.all(items.map((i) => this.appendNow(i.keys, i.event, i.line)));
  }

  /** The spool directory's journal root, opened (and its lease kept) before workers write there. */
  async openDefaultRoot(): Promise<void> {
    await this.root(queueRoot(this.opts.sysDir, ''));
  }

  private async appendNow(keys: string[], event: QueuedEvent, line?: string): Promise<void> {
    const byJournal = new Map<EventJournal, QueueConsumer[]>();
    for (const k of keys) {
      const loop = this.entries.get(k)?.loop;
      if (!loop) continue;
      const consumers = byJournal.get(loop.queue.journal);
      if (consumers) consumers.push(loop.queue);
      else byJournal.set(loop.queue.journal, [loop.queue]);
    }
    if (byJournal.size === 0) return;
    line ??= JSON.stringify(event); // once, whatever the number of targets
    await Promise.all([...byJournal].map(([journal, consumers]) => journal.append(event, consumers, { line })));
  }

  status(): DeliveryStatus[] {
    return [...this.entries.values()].map((e) => e.loop?.status() ?? {
      arn: e.arn, type: e.type, id: e.id, online: false, queued: 0, delivered: 0, accepted: 0, sending: 0, failedAttempts: 0,
      lastError: e.error, overflow: 0, writeErrors: 0, queueDir: '', queueLimit: 0,
    });
  }

  async close(): Promise<void> {
    await this.chain;
    this.closed = true;
    clearInterval(this.adoptTimer);
    const loops = [...this.entries.values()].map((e) => e.loop?.stop());
    this.entries.clear();
    await Promise.all(loops);
    await Promise.all([...this.roots.values()].map(async (r) => {
      const { journal, lease } = await r.catch(() => ({ journal: undefined, lease: undefined }));
      await journal?.close();
      await lease?.stop();
    }));
  }
}
