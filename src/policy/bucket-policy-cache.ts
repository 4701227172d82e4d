/**
 * Compiled bucket policies, cached per bucket so a decision never touches the disk.
 *
 * - The first request for a bucket loads `policy.json` through Backend.getBucketConfig
 *   (concurrent misses share one read); "no policy" is cached as well.
 * - A cluster-bus message on topic 'bucket-policy' with payload `{ bucket }` (or null for
 *   every bucket) drops the entry in every worker; PutBucketPolicy/DeleteBucketPolicy and
 *   DeleteBucket publish it via `BucketPolicyCache.announce(bucket)`.
 * - Entries older than `refreshIntervalMs` (default 5 minutes, like IAM) are re-read in
 *   the background while the cached value keeps answering, so instances sharing a file
 *   system converge without any request waiting for the disk.
 * - A stored policy that no longer validates is logged and replaced by a fail-closed
 *   placeholder that denies everyone but root (see CompiledPolicy.invalid), so an explicit
 *   Deny is never silently dropped.
 */
import type { Backend } from '../storage/backend.js';
import { isS3Error } from '../server/errors.js';
import { publishAndWait as busPublish, subscribe as busSubscribe } from '../server/cluster-bus.js';
import { invalidPolicy, parsePolicy, type CompiledPolicy } from './policy.js';
import { isPolicyError } from './errors.js';

export const BUCKET_POLICY_TOPIC = 'bucket-policy';
export const BUCKET_POLICY_CONFIG_NAME = 'policy.json';

interface Entry { policy: CompiledPolicy | undefined; loadedAt: number; refreshing?: boolean }

export interface BucketPolicyCacheOptions {
  backend: Pick<Backend, 'getBucketConfig'>;
  refreshIntervalMs?: number;
  now?: () => number;
  /** Injected for tests; defaults to the cluster bus. */
  subscribe?: (topic: string, handler: (payload: unknown) => void) => () => void;
  log?: (line: Record<string, unknown>) => void;
}

export function bucketPolicyName(bucket: string): string {
  return `bucket-policy:${bucket}`;
}

export class BucketPolicyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<CompiledPolicy | undefined>>();
  /** Bumped per bucket on invalidation so a load that raced with it is not cached. */
  private readonly generation = new Map<string, number>();
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;
  private readonly log: (line: Record<string, unknown>) => void;

  constructor(private readonly opts: BucketPolicyCacheOptions) {
    this.refreshMs = opts.refreshIntervalMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? ((line) => console.error(JSON.stringify(line)));
    this.unsubscribe = (opts.subscribe ?? busSubscribe)(BUCKET_POLICY_TOPIC, (payload) => {
      const bucket = (payload as { bucket?: unknown } | null)?.bucket;
      this.invalidate(typeof bucket === 'string' ? bucket : undefined);
    });
  }

  /** Tells every worker that a bucket's policy changed (or the bucket went away). */
  static announce(bucket?: string): Promise<void> {
    return busPublish(BUCKET_POLICY_TOPIC, bucket === undefined ? null : { bucket });
  }

  /** The cached policy synchronously, or a promise when it must be loaded first. */
  get(bucket: string): CompiledPolicy | undefined | Promise<CompiledPolicy | undefined> {
    const e = this.entries.get(bucket);
    if (!e) return this.load(bucket);
    if (this.now() - e.loadedAt >= this.refreshMs && !e.refreshing) {
      e.refreshing = true;
      this.load(bucket).catch((err) => {
        e.refreshing = false;
        this.log({ level: 'error', msg: 'bucket policy refresh failed', bucket, error: String(err) });
      });
    }
    return e.policy;
  }

  /** Only what is cached now (never reads). */
  peek(bucket: string): CompiledPolicy | undefined {
    return this.entries.get(bucket)?.policy;
  }

  /** Reads and compiles the stored policy, caching the result. */
  load(bucket: string): Promise<CompiledPolicy | undefined> {
    const running = this.inflight.get(bucket);
    if (running) return running;
    const gen = this.generation.get(bucket) ?? 0;
    const p = this.read(bucket).then((policy) => {
      if ((this.generation.get(bucket) ?? 0) === gen) this.entries.set(bucket, { policy, loadedAt: this.now() });
      return policy;
    }).finally(() => this.inflight.delete(bucket));
    this.inflight.set(bucket, p);
    return p;
  }

  /** Drops one bucket (or all); the next request re-reads. */
  invalidate(bucket?: string): void {
    const buckets = bucket === undefined ? [...new Set([...this.entries.keys(), ...this.inflight.keys()])] : [bucket];
    for (const b of buckets) {
      this.entries.delete(b);
      this.inflight.delete(b);
      this.generation.set(b, (this.generation.get(b) ?? 0) + 1);
    }
  }

  close(): void {
    this.unsubscribe();
  }

  private async read(bucket: string): Promise<CompiledPolicy | undefined> {
    let data: Buffer | undefined;
    try {
      data = await this.opts.backend.getBucketConfig(bucket, BUCKET_POLICY_CONFIG_NAME);
    } catch (e) {
      if (isS3Error(e) && e.code === 'NoSuchBucket') return undefined;
      throw e;
    }
    if (!data) return undefined;
    const name = bucketPolicyName(bucket);
    try {
      return parsePolicy(data, { name, kind: 'bucket', bucket, maxBytes: Infinity });
    } catch (e) {
      if (!isPolicyError(e)) throw e;
      this.log({ level: 'error', msg: 'stored bucket policy is invalid; denying every non-root request on the bucket', bucket, error: e.message });
      return invalidPolicy(name, 'bucket', data.toString('utf8'), `stored bucket policy of '${bucket}' is invalid: ${e.message}`);
    }
  }
}
