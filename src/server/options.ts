/** Server options as the CLI parses them (flags + env), and address parsing. */
import { availableParallelism } from 'node:os';
import type { QueueSync } from '../events/segment-file.js';

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  region: string;
  domains: string[];
  workers: number;
  fsync: boolean;
  /** When queued events reach stable storage (with fsync; without, they never wait for it). */
  eventsSync?: Exclude<QueueSync, 'none'>;
  metaStore?: 'xattr' | 'sidecar';
  refreshIamIntervalMs: number;
  /** Optional config file with notify_* settings. */
  configFile?: string;
  /** Shutdown grace period for in-flight requests. */
  shutdownTimeoutMs: number;
}

export function parseAddress(addr: string): { host: string; port: number } {
  let m = /^\[([^\]]+)\]:(\d+)$/.exec(addr);
  if (m) return { host: m[1], port: Number(m[2]) };
  if (/^\d+$/.test(addr)) return { host: '127.0.0.1', port: Number(addr) };
  m = /^([^:]*):(\d+)$/.exec(addr);
  if (m) return { host: m[1] || '0.0.0.0', port: Number(m[2]) };
  throw new Error(`invalid address "${addr}": expected HOST:PORT, :PORT or [IPv6]:PORT`);
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/** "5m", "30s", "1h", "250ms" or plain seconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new Error(`invalid duration "${v}" (use e.g. 30s, 5m, 1h)`);
  const n = Number(m[1]);
  return Math.round(n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000));
}
