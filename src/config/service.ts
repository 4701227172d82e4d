/**
 * The config service: one place that holds notify_* (and any other registered
 * subsystem's) settings for the admin API, the CLI and the event system.
 *
 * Layers, lowest first: key defaults < config file < values set at run time (persisted
 * in <sysDir>/config/config.json) < environment variables. So env always wins, as in
 * MinIO; `get` reports which keys come from env.
 *
 * Config file (optional, read at start and on refresh): JSON, one member per target,
 *   {"notify_redis:1": {"address": "127.0.0.1:6379", "key": "bucketevents"}, ...}
 * or, when a `parseText` function is supplied (the admin's mc text parser), the mc
 * text format (`notify_redis:1 address=... key=...` lines). A target in the file is
 * enabled unless it says enable=off (like `config set`).
 *
 * Propagation: a set/reset writes the document atomically and publishes the cluster bus
 * topic 'config'; every process of this server re-reads the document and notifies its
 * onChange listeners. Other instances on a shared data dir see the change on the next
 * refresh (refreshIntervalMs, default 30 s). Concurrent sets are serialized within a
 * process; across processes the last writer wins (the document is re-read right before
 * each change, so the window is one read-modify-write).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publishAndWait, subscribe } from '../server/cluster-bus.js';
import { parseEnvSettings, type EnvSetting } from './env.js';
import { ConfigStore, type StoredSettings } from './store.js';
import { ConfigError, DEFAULT_TARGET, isEnabled, type ConfigKVs, type ConfigTarget, type SubsystemSpec } from './subsystem.js';

export const CONFIG_TOPIC = 'config';

/** Checks a target's would-be settings before they are stored (connection test etc.). Throw to refuse. */
export type ConfigValidator = (target: ConfigTarget) => Promise<void> | void;

export interface ConfigServiceOptions {
  sysDir: string;
  subsystems: SubsystemSpec[];
  env?: Record<string, string | undefined>;
  configFile?: string;
  /** Parser for a text config file (mc format), producing parsed lines. */
  parseText?: (text: string) => ConfigKVs[];
  refreshIntervalMs?: number;
}

export interface ConfigService {
  /** Subsystem specs (for help-config-kv). */
  readonly subsystems: readonly SubsystemSpec[];
  /**
   * Targets of a subsystem (or of every subsystem whose name starts with `subsys`): the
   * default target first, then named ones. With `target`, only that one.
   * Throws ConfigError for an unknown subsystem or a missing target.
   */
  get(subsys: string, target?: string): ConfigTarget[];
  /** Every target of every subsystem. */
  list(): ConfigTarget[];
  /** Merges settings into targets (all lines validated before any is stored). */
  set(lines: ConfigKVs[] | ConfigKVs): Promise<void>;
  /** Removes a named target, or resets the default target to its defaults. */
  reset(subsys: string, target?: string): Promise<void>;
  /** Called with 'subsys:target' names whose effective settings changed. */
  onChange(listener: (changed: string[]) => void): () => void;
  /** Registers a validator for subsystems whose name starts with `prefix`. */
  addValidator(prefix: string, validator: ConfigValidator): void;
  /** Re-reads the stored document and the config file now. */
  refresh(): Promise<void>;
  close(): void;
}

const unknownSubsys = (name: string) => new ConfigError('XMinioConfigError', `unknown sub-system ${name}`);
const missingTarget = (name: string) => new ConfigError('XMinioConfigError', `sub-system target '${name}' doesn't exist`);

function targetName(t: { subsys: string; target: string }): string {
  return t.target === DEFAULT_TARGET ? t.subsys : `${t.subsys}:${t.target}`;
}

export async function createConfigService(opts: ConfigServiceOptions): Promise<ConfigService> {
  const specs = new Map(opts.subsystems.map((s) => [s.name, s]));
  const store = new ConfigStore(join(opts.sysDir, 'config'));
  const envSettings: EnvSetting[] = parseEnvSettings(opts.env ?? process.env, opts.subsystems);
  const validators: Array<{ prefix: string; fn: ConfigValidator }> = [];
  const listeners = new Set<(changed: string[]) => void>();

  let stored: StoredSettings = {};
  let fileSettings: StoredSettings = {};
  let effective = new Map<string, ConfigTarget>();
  let storeVersion = '';
  let chain: Promise<unknown> = Promise.resolve();

  async function readConfigFile(): Promise<StoredSettings> {
    if (!opts.configFile) return {};
    const text = await readFile(opts.configFile, 'utf8');
    const out: StoredSettings = {};
    const add = (subsys: string, target: string | undefined, kvs: Record<string, string>) => {
      const spec = specs.get(subsys);
      if (!spec) throw unknownSubsys(subsys);
      const t = target || DEFAULT_TARGET;
      ((out[subsys] ??= {})[t] ??= {});
      Object.assign(out[subsys][t], { enable: 'on', ...kvs });
    };
    if (text.trimStart().startsWith('{')) {
      const doc = JSON.parse(text) as Record<string, Record<string, unknown>>;
      for (const [name, kvs] of Object.entries(doc)) {
        const [subsys, target] = name.split(/:(.*)/s);
        add(subsys, target, Object.fromEntries(Object.entries(kvs).map(([k, v]) => [k, String(v)])));
      }
    } else if (opts.parseText) {
      for (const line of opts.parseText(text)) add(line.subsys, line.target, line.kvs);
    } else {
      throw new ConfigError('XMinioConfigError', `config file ${opts.configFile}: only JSON is supported here`);
    }
    return out;
  }

  function compute(): Map<string, ConfigTarget> {
    const out = new Map<string, ConfigTarget>();
    for (const spec of opts.subsystems) {
      const names = new Set<string>([DEFAULT_TARGET]);
      for (const layer of [fileSettings, stored]) for (const t of Object.keys(layer[spec.name] ?? {})) names.add(t);
      for (const e of envSettings) if (e.subsys === spec.name) names.add(e.target);
      for (const target of names) {
        if (!spec.multipleTargets && target !== DEFAULT_TARGET) continue;
        const kvs: Record<string, string> = {};
        for (const k of spec.keys) if (!k.extension) kvs[k.key] = k.default;
        for (const layer of [fileSettings, stored]) Object.assign(kvs, layer[spec.name]?.[target] ?? {});
        const env: Record<string, string> = {};
        for (const e of envSettings) {
          if (e.subsys === spec.name && e.target === target) { kvs[e.key] = e.value; env[e.key] = e.variable; }
        }
        // Keep default-key order, extension keys after, comment last.
        const ordered: Record<string, string> = {};
        for (const k of spec.keys) if (k.key !== 'comment' && kvs[k.key] !== undefined) ordered[k.key] = kvs[k.key];
        if (kvs.comment !== undefined) ordered.comment = kvs.comment;
        out.set(`${spec.name}\0${target}`, { subsys: spec.name, target, kvs: ordered, env, enabled: isEnabled(ordered.enable) || !spec.keys.some((k) => k.key === 'enable') });
      }
    }
    return out;
  }

  async function reload(): Promise<void> {
    const version = await store.version();
    const nextStored = version === storeVersion ? stored : await store.read();
    const nextFile = await readConfigFile().catch((e) => {
      console.error(JSON.stringify({ level: 'error', msg: 'config file unreadable; keeping the previous settings', file: opts.configFile, error: String(e?.message ?? e) }));
      return fileSettings;
    });
    stored = nextStored;
    storeVersion = version;
    fileSettings = nextFile;
    const before = effective;
    effective = compute();
    const changed: string[] = [];
    for (const [k, t] of effective) if (JSON.stringify(before.get(k)) !== JSON.stringify(t)) changed.push(targetName(t));
    for (const [k, t] of before) if (!effective.has(k)) changed.push(targetName(t));
    if (changed.length && before.size) for (const l of listeners) {
      try { l(changed); } catch (e) { console.error(JSON.stringify({ level: 'error', msg: 'config listener failed', error: String(e) })); }
    }
  }

  function subsystemsMatching(subsys: string): SubsystemSpec[] {
    const exact = specs.get(subsys);
    if (exact) return [exact];
    const matching = opts.subsystems.filter((s) => subsys !== '' && s.name.startsWith(subsys));
    if (matching.length === 0) throw unknownSubsys(subsys);
    return matching;
  }

  function get(subsys: string, target?: string): ConfigTarget[] {
    if (target !== undefined && target !== '') {
      const spec = specs.get(subsys);
      if (!spec) throw unknownSubsys(subsys);
      if (!spec.multipleTargets && target !== DEFAULT_TARGET) throw new ConfigError('XMinioConfigError', `sub-system '${subsys}' does not support multiple targets`);
      const t = effective.get(`${subsys}\0${target}`);
      if (!t) throw missingTarget(`${subsys}:${target}`);
      return [t];
    }
    return subsystemsMatching(subsys).flatMap((spec) => {
      const all = [...effective.values()].filter((t) => t.subsys === spec.name);
      return all.sort((a, b) => (a.target === DEFAULT_TARGET ? -1 : b.target === DEFAULT_TARGET ? 1 : a.target.localeCompare(b.target)));
    });
  }

  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = chain.then(work, work);
    chain = run.catch(() => {});
    return run;
  }

  async function validate(subsys: string, target: string, kvs: Record<string, string>): Promise<void> {
    const spec = specs.get(subsys)!;
    const known = new Set(spec.keys.map((k) => k.key));
    const bad = Object.keys(kvs).filter((k) => !known.has(k));
    if (bad.length) {
      throw new ConfigError('XMinioConfigError', `found invalid keys (${bad.map((k) => `${k}=${kvs[k]}`).join(' ')}) for '${subsys}' sub-system, use 'mc admin config reset myminio ${subsys}' to fix invalid keys`);
    }
    const enabled = isEnabled(kvs.enable) || !known.has('enable');
    if (!enabled) return;
    for (const k of spec.keys) {
      if (!k.optional && (kvs[k.key] ?? '').trim() === '') {
        throw new ConfigError('XMinioConfigError', `'${k.key}' is not optional for '${subsys}' sub-system, please check '${subsys}' documentation`);
      }
    }
    const candidate: ConfigTarget = { subsys, target, kvs, env: {}, enabled };
    for (const v of validators) {
      if (!subsys.startsWith(v.prefix)) continue;
      try {
        await v.fn(candidate);
      } catch (e: any) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError('XMinioConfigError', String(e?.message ?? e));
      }
    }
  }

  async function set(input: ConfigKVs[] | ConfigKVs): Promise<void> {
    const lines = Array.isArray(input) ? input : [input];
    await serialized(async () => {
      const current = await store.read();
      const next: StoredSettings = JSON.parse(JSON.stringify(current));
      for (const line of lines) {
        const spec = specs.get(line.subsys);
        if (!spec) throw unknownSubsys(line.subsys);
        const target = line.target || DEFAULT_TARGET;
        if (!spec.multipleTargets && target !== DEFAULT_TARGET) throw new ConfigError('XMinioConfigError', `sub-system '${line.subsys}' does not support multiple targets`);
        const kvs = { ...line.kvs };
        // MinIO: a set line without enable= turns the target on.
        if (spec.keys.some((k) => k.key === 'enable') && kvs.enable === undefined) kvs.enable = 'on';
        ((next[line.subsys] ??= {})[target] ??= {});
        Object.assign(next[line.subsys][target], kvs);
      }
      // Validate what each touched target would become (file and env layers included).
      for (const line of lines) {
        const target = line.target || DEFAULT_TARGET;
        const spec = specs.get(line.subsys)!;
        const merged: Record<string, string> = {};
        for (const k of spec.keys) if (!k.extension) merged[k.key] = k.default;
        Object.assign(merged, fileSettings[line.subsys]?.[target] ?? {}, next[line.subsys][target]);
        for (const e of envSettings) if (e.subsys === line.subsys && e.target === target) merged[e.key] = e.value;
        await validate(line.subsys, target, merged);
      }
      await store.write(next);
      await reload();
    });
    await publishAndWait(CONFIG_TOPIC, { pid: process.pid });
  }

  async function reset(subsys: string, target?: string): Promise<void> {
    const spec = specs.get(subsys);
    if (!spec) throw unknownSubsys(subsys);
    const t = target || DEFAULT_TARGET;
    await serialized(async () => {
      const next = await store.read();
      if (t !== DEFAULT_TARGET && !effective.has(`${subsys}\0${t}`) && !next[subsys]?.[t]) throw missingTarget(`${subsys}:${t}`);
      if (next[subsys]) {
        delete next[subsys][t];
        if (Object.keys(next[subsys]).length === 0) delete next[subsys];
      }
      await store.write(next);
      await reload();
    });
    await publishAndWait(CONFIG_TOPIC, { pid: process.pid });
  }

  await reload();
  // The process that made the change has reloaded already; the others re-read the store.
  const unsubscribe = subscribe(CONFIG_TOPIC, (p) => ((p as { pid?: number } | null)?.pid === process.pid ? undefined : serialized(reload).catch(() => {})));
  const timer = setInterval(() => { void serialized(reload).catch((e) => console.error(JSON.stringify({ level: 'warn', msg: 'config refresh failed', error: String(e) }))); }, opts.refreshIntervalMs ?? 30_000);
  timer.unref();

  return {
    subsystems: opts.subsystems,
    get,
    list: () => opts.subsystems.flatMap((s) => get(s.name)),
    set,
    reset,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    addValidator(prefix, fn) {
      validators.push({ prefix, fn });
    },
    refresh: () => serialized(reload),
    close() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
