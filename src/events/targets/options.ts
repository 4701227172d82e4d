/**
 * Option specs and option parsing for notification targets.
 *
 * Every target takes the raw `notify_<type>` key=value settings as strings (what env
 * vars, the config file and `mc admin config set` produce) and turns them into typed
 * settings here, failing with an error that names the subsystem, target and key.
 *
 * Spec lists are in MinIO's default-key order (as `mc admin config get` prints them,
 * after `enable`, which the config service owns); keys MinIO/JuiceFS do not print by
 * default are marked `extension` so the config service can leave them out of the
 * default line; `comment` is always last.
 */
import type { ConfigKeySpec } from '../../config/subsystem.js';

/** One notify_* option of a target: the config service's key spec (key, default, help, type, optional, sensitive, extension). */
export type TargetOptionSpec = ConfigKeySpec;

/** A bad notify_* setting; message names subsystem, target and key. */
export class TargetConfigError extends Error {
  constructor(
    readonly subsystem: string,
    readonly targetId: string,
    readonly key: string,
    detail: string,
  ) {
    super(`${subsystem}:${targetId}: '${key}' ${detail}`);
    this.name = 'TargetConfigError';
  }
}

/** Keys every target accepts that the delivery loop, not the target, acts on. */
export const QUEUE_OPTIONS: TargetOptionSpec[] = [
  { key: 'queue_dir', default: '', type: 'path', optional: true, help: "staging dir for undelivered messages e.g. '/home/events'" },
  { key: 'queue_limit', default: '0', type: 'number', optional: true, help: "maximum limit for undelivered messages, 0 means the default '100000'" },
];

export const COMMENT_OPTION: TargetOptionSpec = { key: 'comment', default: '', type: 'sentence', optional: true, help: 'optionally add a comment to this setting' };

/** Keys that may appear in settings without being target options. */
const ALWAYS_ACCEPTED = new Set(['enable', 'comment']);

export const DEFAULT_QUEUE_LIMIT = 100000;

/**
 * The typed reader for one target's raw settings: applies defaults, rejects unknown
 * keys, and converts values with errors naming the key.
 */
export class OptionReader {
  private readonly values = new Map<string, string>();

  constructor(
    readonly subsystem: string,
    readonly targetId: string,
    specs: readonly TargetOptionSpec[],
    raw: Record<string, string>,
  ) {
    const known = new Map(specs.map((s) => [s.key, s]));
    for (const [key, value] of Object.entries(raw)) {
      if (!known.has(key) && !ALWAYS_ACCEPTED.has(key)) {
        throw this.error(key, `is not a valid key for ${subsystem} (valid keys: ${specs.map((s) => s.key).join(', ')})`);
      }
      if (typeof value !== 'string') throw this.error(key, 'must be a string');
    }
    for (const spec of specs) this.values.set(spec.key, (raw[spec.key] ?? spec.default).trim());
  }

  error(key: string, detail: string): TargetConfigError {
    return new TargetConfigError(this.subsystem, this.targetId, key, detail);
  }

  string(key: string): string {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`option ${key} not declared for ${this.subsystem}`);
    return v;
  }

  required(key: string): string {
    const v = this.string(key);
    if (v === '') throw this.error(key, `is not optional for '${this.subsystem}' sub-system, please check '${this.subsystem}' documentation`);
    return v;
  }

  int(key: string, min: number, max: number): number {
    const v = this.string(key);
    if (!/^-?\d+$/.test(v)) throw this.error(key, `must be an integer, got '${v}'`);
    const n = Number(v);
    if (n < min || n > max) throw this.error(key, `must be between ${min} and ${max}, got ${n}`);
    return n;
  }

  /** MinIO's on/off booleans (also true/false, yes/no, 1/0; empty = the default). */
  bool(key: string): boolean {
    const v = this.string(key).toLowerCase();
    if (['on', 'true', 'yes', '1'].includes(v)) return true;
    if (['off', 'false', 'no', '0', ''].includes(v)) return false;
    throw this.error(key, `must be 'on' or 'off', got '${v}'`);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.string(key);
    if (!(allowed as readonly string[]).includes(v)) throw this.error(key, `must be one of ${allowed.join('|')}, got '${v}'`);
    return v as T;
  }

  /** Go-style duration ("10s", "1m30s", "500ms"); a bare number means seconds. Returns ms. */
  duration(key: string): number {
    const v = this.string(key);
    const ms = parseDuration(v);
    if (ms === undefined) throw this.error(key, `must be a duration like '10s' or '500ms', got '${v}'`);
    return ms;
  }
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** Parses a Go duration or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number | undefined {
  if (text === '') return 0;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  return pos === text.length && pos > 0 ? total : undefined;
}

export interface QueueSettings {
  /** '' means the default location inside the system dir (the loop decides). */
  queueDir: string;
  queueLimit: number;
}

/** queue_dir/queue_limit as the delivery loop needs them (0/empty -> default limit). */
export function parseQueueOptions(subsystem: string, targetId: string, raw: Record<string, string>): QueueSettings {
  const r = new OptionReader(subsystem, targetId, QUEUE_OPTIONS, pick(raw, ['queue_dir', 'queue_limit']));
  const queueDir = r.string('queue_dir');
  if (queueDir !== '' && !queueDir.startsWith('/')) throw r.error('queue_dir', `must be an absolute path, got '${queueDir}'`);
  const limit = r.int('queue_limit', 0, 1e9);
  return { queueDir, queueLimit: limit === 0 ? DEFAULT_QUEUE_LIMIT : limit };
}

function pick(raw: Record<string, string>, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (raw[k] !== undefined) out[k] = raw[k];
  return out;
}
