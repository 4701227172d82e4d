/**
 * What the config service knows about a subsystem: its keys in MinIO's default order
 * (as `mc admin config get` prints them), defaults, which keys are required on an
 * enabled target, and help text for help-config-kv. The notify_* specs are built by the
 * event system from the target modules (src/events/notify-subsystems.ts); the config
 * service itself knows no subsystem.
 */

export interface ConfigKeySpec {
  key: string;
  default: string;
  help: string;
  /** madmin help type: string, address, url, path, number, on|off, sentence ... */
  type: string;
  optional: boolean;
  /** Never logged; the admin layer decides about masking. */
  sensitive?: boolean;
  /** Accepted but not part of the default key list: printed only when set. */
  extension?: boolean;
}

export interface SubsystemSpec {
  name: string;
  description: string;
  multipleTargets: boolean;
  /** In default order; includes 'enable' first when the subsystem has it, 'comment' last. */
  keys: ConfigKeySpec[];
}

/** The name of the unnamed target (notify_redis without :id). */
export const DEFAULT_TARGET = '_';

/** A parsed `subsys[:target] k=v ...` line: what the admin text parser produces. */
export interface ConfigKVs {
  subsys: string;
  /** Omitted or '_' for the default target. */
  target?: string;
  kvs: Record<string, string>;
}

/** One target's effective settings. */
export interface ConfigTarget {
  subsys: string;
  target: string;
  /** Every default key (in order) plus any extension keys that are set. */
  kvs: Record<string, string>;
  /** Keys whose value comes from an environment variable: key -> variable name. */
  env: Record<string, string>;
  enabled: boolean;
}

/** Config errors carry the admin error code (madmin JSON error shape). */
export class ConfigError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function isEnabled(value: string | undefined): boolean {
  return ['on', 'true', 'yes', '1'].includes((value ?? '').trim().toLowerCase());
}
