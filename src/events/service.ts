/**
 * The event service: what the server creates once per process.
 *
 * Every process (cluster primary and each worker) matches published events against the
 * bucket rules (cached per bucket, dropped on the cluster bus topic
 * 'bucket-notification', re-read after RULES_TTL_MS for other instances), builds the
 * records, feeds `mc watch` listeners, and hands matched events to the event owner.
 *
 * Worker design: exactly one process per instance owns the journal and the delivery
 * loops: the cluster primary (or the only process without --workers). A worker makes
 * its matched events durable in a spool of its own (spool.ts) and publish() resolves
 * once they are on disk there, so a handler that awaits publish() before responding
 * guarantees "acknowledged to the S3 client => queued durably", with no round trip to
 * another process. The primary merges the spools into the journal every few ms, in the
 * order of the events' stamps (spool-merger.ts): two requests of one client that follow
 * each other (the second sent after the first was answered) are queued, and delivered,
 * in that order, whichever workers served them. Targets never sit on the response path.
 * The cost is one grouped durable write, only for requests whose event matched a rule.
 * Status requests from workers go to the primary over IPC (ipc.ts).
 *
 * Which target ARNs exist (for PutBucketNotification) is derived from the config
 * service in every process: an enabled notify_* target of a known type exists even
 * while it cannot connect.
 */
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import type { Backend } from '../storage/backend.js';
import type { ConfigService } from '../config/service.js';
import { isEnabled } from '../config/subsystem.js';
import { subscribe } from '../server/cluster-bus.js';
import type { EventPublisher, ObjectEventInfo, RequestInfo } from './publisher.js';
import type { QueuedEvent } from './target.js';
import { formatTargetArn, targetKey, type TargetArn } from './arn.js';
import { CompiledRules } from './rules.js';
import { buildRecords, type RecordContext } from './record.js';
import { isBucketEvent } from './names.js';
import { BUCKET_NOTIFICATION_TOPIC, getBucketNotification, loadBucketNotification, putBucketNotification } from './bucket-notification.js';
import { defaultJournalDir, enabledTargets, targetOptions, TargetRegistry } from './registry.js';
import { parseQueueOptions } from './targets/options.js';
import type { DeliveryStatus } from './delivery.js';
import { notifySpooled, ownerStatus, serveWorkers } from './ipc.js';
import { newSpoolDir, SpoolWriter } from './spool.js';
import { SpoolMerger } from './spool-merger.js';
import { LiveHub } from './live.js';
import { loadTargetModule, typeOfSubsystem } from './target-factory.js';
import type { QueueSync } from './segment-file.js';

const RULES_TTL_MS = 10_000;

export interface EventServiceOptions {
  sysDir: string;
  backend: Backend;
  /** Server region ('' like MinIO by default): awsRegion, and the region part of ARNs. */
  region: string;
  /** Stable id of this instance (hostname-port): names its queue directory. */
  instanceId: string;
  config: ConfigService;
  /** x-minio-origin-endpoint when a request does not carry one, e.g. 'http://127.0.0.1:9000'. */
  endpoint?: string;
  /** 'auto' (default): owner in the cluster primary / single process, forwarder in workers. */
  role?: 'auto' | 'owner' | 'forwarder';
  fsync?: QueueSync;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  announce?: (line: string) => void;
}

export interface EventService extends EventPublisher {
  publish(event: ObjectEventInfo, request: RequestInfo): Promise<void>;
  /** ARNs of the enabled targets, as printed at start-up. */
  listTargetArns(): string[];
  targetExists(target: TargetArn): boolean;
  /** Per-target delivery status (asks the primary when called in a worker). */
  status(): Promise<DeliveryStatus[]>;
  putBucketNotification(bucket: string, xmlBody: Buffer | string): Promise<void>;
  getBucketNotification(bucket: string): Promise<string>;
  /** Drop a bucket's cached rules in this process (the bus does it for puts). */
  invalidateBucket(bucket: string): void;
  /** Live listeners (for listen.ts). */
  readonly live: LiveHub;
  close(): Promise<void>;
}

export async function createEventService(opts: EventServiceOptions): Promise<EventService> {
  const role = opts.role && opts.role !== 'auto' ? opts.role : cluster.isPrimary ? 'owner' : 'forwarder';
  const ctx: RecordContext = {
    region: opts.region,
    nodeId: createHash('sha256').update(opts.instanceId).digest('hex'),
    endpoint: opts.endpoint ?? '',
  };
  const live = new LiveHub();
  const rules = new Map<string, { at: number; rules?: CompiledRules; loading?: Promise<CompiledRules | undefined> }>();
  const unsubscribe = subscribe(BUCKET_NOTIFICATION_TOPIC, (p) => rules.delete((p as { bucket: string }).bucket));

  // Options are checked by the target module before they are stored.
  opts.config.addValidator('notify_', async (t) => {
    const type = typeOfSubsystem(t.subsys);
    if (!type) return;
    const mod = await loadTargetModule(type);
    if (!mod) throw new Error(`target type ${type} is not available in this build`);
    parseQueueOptions(t.subsys, t.target, targetOptions(t));
    const target = mod.create(t.target, targetOptions(t));
    await target.close().catch(() => {});
  });

  let registry: TargetRegistry | undefined;
  let merger: SpoolMerger | undefined;
  let spool: SpoolWriter | undefined;
  let stopServing: (() => void) | undefined;
  let stopConfig: (() => void) | undefined;
  const journalDir = defaultJournalDir(opts.sysDir, opts.instanceId);
  if (role === 'owner') {
    const owner = registry = new TargetRegistry({ config: opts.config, sysDir: opts.sysDir, instanceId: opts.instanceId, region: opts.region, fsync: opts.fsync, initialBackoffMs: opts.initialBackoffMs, maxBackoffMs: opts.maxBackoffMs, announce: opts.announce });
    await owner.reconcile();
    stopConfig = opts.config.onChange((changed) => {
      if (changed.some((c) => c.startsWith('notify_'))) void owner.reconcile();
    });
    // Spools of an earlier run's workers first; then, once workers exist, theirs.
    merger = new SpoolMerger(journalDir, (items) => owner.enqueueInOrder(items), liveWorkerPids);
    await merger.recover();
    if (cluster.isPrimary) {
      const stopStatus = serveWorkers({ status: () => owner.status(), spooled: () => merger!.spooled() });
      // Workers spool from their start: merge from the first fork on.
      const onFork = () => { void owner.openDefaultRoot().catch(() => {}).then(() => merger!.start()); };
      cluster.once('fork', onFork);
      stopServing = () => { stopStatus(); cluster.off('fork', onFork); };
    }
  }

  const enqueue = (keys: string[], event: QueuedEvent): Promise<void> => {
    if (registry) return registry.enqueue(keys, event);
    spool ??= new SpoolWriter(newSpoolDir(journalDir), { sync: opts.fsync ?? 'always', onWritten: notifySpooled });
    return spool.append(keys, JSON.stringify(event));
  };

  function targetExists(t: TargetArn): boolean {
    return enabledTargets(opts.config).some((e) => e.type === t.type && e.id === t.id);
  }

  async function rulesFor(bucket: string): Promise<CompiledRules | undefined> {
    const now = Date.now();
    const cached = rules.get(bucket);
    if (cached && !cached.loading && now - cached.at < RULES_TTL_MS) return cached.rules;
    if (cached?.loading) return cached.loading;
    const loading = loadBucketNotification(opts.backend, bucket).then(
      (c) => (c && c.queues.length ? new CompiledRules(c) : undefined),
      (e) => {
        console.error(JSON.stringify({ level: 'error', msg: 'bucket notification rules unreadable; no events for this bucket until fixed', bucket, error: String(e) }));
        return undefined;
      },
    );
    rules.set(bucket, { at: now, loading });
    const compiled = await loading;
    if (rules.get(bucket)?.loading === loading) rules.set(bucket, { at: now, rules: compiled });
    return compiled;
  }

  /** Targets subscribed to bucket created/removed server-wide (bucket_events=on). */
  function bucketEventTargets(): string[] {
    return enabledTargets(opts.config).filter((t) => isEnabled(t.config.kvs.bucket_events)).map((t) => targetKey(t));
  }

  async function publish(event: ObjectEventInfo, request: RequestInfo): Promise<void> {
    try {
      const compiled = await rulesFor(event.bucket);
      const keys = new Set(compiled?.match(event.name, event.key ?? '') ?? []);
      if (isBucketEvent(event.name)) for (const k of bucketEventTargets()) keys.add(k);
      if (keys.size === 0 && !live.active) return;
      const watching = live.active;
      const { queued, live: liveRecord } = buildRecords(event, request, ctx, watching);
      if (liveRecord) live.publish(liveRecord);
      if (keys.size) await enqueue([...keys], queued);
    } catch (e) {
      // Never fail or hang the S3 request because of events; say so loudly.
      console.error(JSON.stringify({ level: 'error', msg: 'event not queued', event: event.name, bucket: event.bucket, key: event.key, requestId: request.requestId, error: String((e as Error)?.message ?? e) }));
    }
  }

  const deps = { backend: opts.backend, region: opts.region, targetExists };
  return {
    publish,
    live,
    listTargetArns: () => enabledTargets(opts.config).map((t) => formatTargetArn(t, opts.region)),
    targetExists,
    status: async () => (registry ? registry.status() : ownerStatus()),
    putBucketNotification: (bucket, body) => putBucketNotification(deps, bucket, body),
    getBucketNotification: (bucket) => getBucketNotification(deps, bucket),
    invalidateBucket: (bucket) => { rules.delete(bucket); },
    async close() {
      unsubscribe();
      stopConfig?.();
      stopServing?.();
      live.close();
      await spool?.close();
      await merger?.close();
      await registry?.close();
    },
  };
}

/** Pids of this primary's running workers (none in a single process). */
function liveWorkerPids(): Set<number> {
  const pids = new Set<number>();
  for (const w of Object.values(cluster.workers ?? {})) if (w && w.process.pid !== undefined) pids.add(w.process.pid);
  return pids;
}
