/**
 * The targets this process delivers to (the event owner: the cluster primary, or the
 * only process), built from the config service's enabled notify_* targets and kept in
 * step with it: a changed target is stopped (progress saved) and re-created with its
 * new settings, a removed/disabled one is stopped, a new one started, all without a
 * restart. The queue of a target outlives its settings: events queued for
 * notify_redis:1 are delivered by the re-created target, and stay on disk while the
 * target is disabled.
 *
 * Queue location: <queue_dir or <sysDir>/queues>/<instance-id>/<type>-<id>/, so several
 * instances sharing a data dir (or a queue_dir) never share a queue. The queues of an
 * instance that is gone (restarted on another port, or a container with a new
 * hostname) are taken over by a live one running the same target (queue-lease.ts).
 */
import { join } from 'node:path';
import { ADOPT_INTERVAL_MS, adoptOrphanQueues, LeaseKeeper, type Staleness } from './queue-lease.js';
import type { ConfigService } from '../config/service.js';
import type { ConfigTarget } from '../config/subsystem.js';
import { formatTargetArn, targetKey } from './arn.js';
import { DeliveryLoop, type DeliveryStatus } from './delivery.js';
import { DurableQueue } from './queue.js';
import { loadTargetModule, typeOfSubsystem } from './target-factory.js';
import { SERVICE_KEYS } from './notify-subsystems.js';
import { parseQueueOptions } from './targets/options.js';

export interface RegistryOptions {
  config: ConfigService;
  sysDir: string;
  instanceId: string;
  region: string;
  fsync?: 'always' | 'none';
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
  /** Where its queue lives: <root>/<instance-id>/<name>. */
  root?: string;
  name?: string;
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

function queueName(type: string, id: string): string {
  return `${type}-${encodeURIComponent(id)}`;
}

export class TargetRegistry {
  private readonly entries = new Map<string, Entry>();
  /** Targets being (re)started: events for them wait instead of being dropped. */
  private readonly starting = new Map<string, Promise<Entry>>();
  private chain: Promise<void> = Promise.resolve();
  private lastAnnounced = '';
  private closed = false;
  /** This instance's lease in each queue root in use. */
  private readonly leases = new Map<string, Promise<LeaseKeeper>>();
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
      entry.root = queueRoot(this.opts.sysDir, q.queueDir);
      entry.name = queueName(type, id);
      await this.lease(entry.root);
      const queue = await DurableQueue.open({
        dir: join(entry.root, this.opts.instanceId, entry.name),
        limit: q.queueLimit,
        fsync: this.opts.fsync,
        name: arn,
      });
      entry.loop = new DeliveryLoop(target, queue, { arn, initialBackoffMs: this.opts.initialBackoffMs, maxBackoffMs: this.opts.maxBackoffMs });
      entry.loop.start();
      if (queue.size > 0) console.log(JSON.stringify({ level: 'info', msg: 'replaying queued events', target: arn, queued: queue.size }));
    } catch (e) {
      entry.error = String((e as Error)?.message ?? e);
      console.error(JSON.stringify({ level: 'error', msg: 'notification target not started', target: arn, error: entry.error }));
    }
    return entry;
  }

  private lease(root: string): Promise<LeaseKeeper> {
    let keeper = this.leases.get(root);
    if (!keeper) {
      const k = new LeaseKeeper(root, this.opts.instanceId);
      keeper = k.start().then(() => k);
      this.leases.set(root, keeper);
    }
    return keeper;
  }

  private adopt(entry: Entry, into: DurableQueue): Promise<number> {
    return adoptOrphanQueues({ root: entry.root!, instanceId: this.opts.instanceId, name: entry.name!, into, fsync: this.opts.fsync, ...this.opts.staleness });
  }

  private async adoptAll(): Promise<void> {
    if (this.closed) return;
    for (const e of this.entries.values()) if (e.loop) await this.adopt(e, e.loop.queue);
  }

  /** Appends to each target's queue; resolves when all are durable. Unknown keys are skipped. */
  async enqueue(keys: string[], event: Parameters<DurableQueue['append']>[0]): Promise<void> {
    const line = JSON.stringify(event); // once, whatever the number of targets
    await Promise.all(keys.map(async (k) => {
      const e = this.entries.get(k) ?? (await this.starting.get(k));
      if (e?.loop) await e.loop.queue.append(event, line);
    }));
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
    await Promise.all([...this.leases.values()].map(async (k) => (await k).stop()));
  }
}
