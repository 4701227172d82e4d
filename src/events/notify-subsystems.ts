/**
 * The notify_* subsystem specs for the config service, built from the target modules'
 * option specs with `enable` in front (MinIO's order) and one s3gate key appended:
 *
 *   bucket_events=on|off (default off)  — server-wide subscription to s3:BucketCreated
 *   and s3:BucketRemoved. A bucket's own rules cannot name a bucket that does not exist
 *   yet, so bucket events go to every enabled target with bucket_events=on (plus any
 *   rule of the removed bucket that names s3:BucketRemoved, and `mc watch` listeners).
 *   e.g. `mc admin config set A notify_webhook:1 endpoint=... bucket_events=on` or
 *   MINIO_NOTIFY_WEBHOOK_BUCKET_EVENTS_1=on.
 *
 * `enable` and `bucket_events` are the event system's keys; they are removed before the
 * options reach a target factory.
 */
import type { SubsystemSpec, ConfigKeySpec } from '../config/subsystem.js';
import { loadTargetModule, NOTIFY_TYPES } from './target-factory.js';

export const ENABLE_KEY: ConfigKeySpec = { key: 'enable', default: 'off', help: 'enable or disable this notification target', type: 'on|off', optional: true };
export const BUCKET_EVENTS_KEY: ConfigKeySpec = { key: 'bucket_events', default: 'off', help: "'on' to send s3:BucketCreated/s3:BucketRemoved of every bucket to this target", type: 'on|off', optional: true, extension: true };

/** Keys that belong to the event system, not to the target. */
export const SERVICE_KEYS = new Set([ENABLE_KEY.key, BUCKET_EVENTS_KEY.key]);

export async function notifySubsystems(): Promise<SubsystemSpec[]> {
  const out: SubsystemSpec[] = [];
  for (const t of NOTIFY_TYPES) {
    const mod = await loadTargetModule(t.type);
    if (!mod) continue;
    const own = mod.options.filter((o) => !SERVICE_KEYS.has(o.key));
    const comment = own.filter((o) => o.key === 'comment');
    const rest = own.filter((o) => o.key !== 'comment');
    out.push({ name: t.subsys, description: t.description, multipleTargets: true, keys: [ENABLE_KEY, ...rest, BUCKET_EVENTS_KEY, ...comment] });
  }
  return out;
}
