/**
 * Settings from environment variables, MinIO's names with our prefix as an alternative:
 *   MINIO_NOTIFY_REDIS_ENABLE_1=on  MINIO_NOTIFY_REDIS_ADDRESS_1=127.0.0.1:6379
 *   S3GATE_NOTIFY_REDIS_KEY_1=bucketevents
 *   MINIO_NOTIFY_WEBHOOK_ENDPOINT=...        (no suffix: the default target '_')
 * i.e. <PREFIX>_<SUBSYS>_<KEY>[_<TARGET>] with SUBSYS and KEY upper-cased. Keys are
 * matched longest first so QUEUE_DIR is not read as key QUEUE of target DIR_...; the
 * target id is taken as written. S3GATE_ wins over MINIO_ for the same setting.
 */
import { DEFAULT_TARGET, type SubsystemSpec } from './subsystem.js';

export interface EnvSetting {
  subsys: string;
  target: string;
  key: string;
  value: string;
  variable: string;
}

const PREFIXES = ['MINIO_', 'S3GATE_'];

export function parseEnvSettings(env: Record<string, string | undefined>, specs: SubsystemSpec[]): EnvSetting[] {
  const found = new Map<string, EnvSetting>();
  for (const prefix of PREFIXES) {
    for (const spec of specs) {
      const base = `${prefix}${spec.name.toUpperCase()}_`;
      const keys = spec.keys.map((k) => k.key).sort((a, b) => b.length - a.length);
      for (const [variable, value] of Object.entries(env)) {
        if (value === undefined || !variable.startsWith(base)) continue;
        const rest = variable.slice(base.length);
        for (const key of keys) {
          const k = key.toUpperCase();
          let target: string | undefined;
          if (rest === k) target = DEFAULT_TARGET;
          else if (spec.multipleTargets && rest.startsWith(`${k}_`) && rest.length > k.length + 1) target = rest.slice(k.length + 1);
          if (target === undefined) continue;
          // Later prefixes (S3GATE_) replace earlier ones (MINIO_).
          found.set(`${spec.name}\0${target}\0${key}`, { subsys: spec.name, target, key, value, variable });
          break;
        }
      }
    }
  }
  return [...found.values()];
}
