/**
 * The `mc admin config` text format (spec §3.6): parser, printer and help formatting.
 *
 *   notify_redis:1 address=127.0.0.1:6379/1 format=namespace key=bucketevents queue_dir=
 *
 * Parsing (what set-config-kv / del-config-kv / a text config file receive):
 * - one target per line: `<subsys>[:<target>]` then `key=value` pairs; `#` lines and
 *   blank lines are skipped;
 * - with the subsystem's key list (the server side), values are cut at the known keys, so
 *   values may contain spaces (mc joins its shell arguments with single spaces, quotes
 *   already gone). We split a little more carefully than MinIO's plain substring search:
 *   a key only counts at the start or after whitespace, and not inside a quoted value;
 *   every example of the spec parses the same either way;
 * - an unknown `foo=` after an unquoted value is part of that value, as in MinIO (so
 *   `connection_string=host=h port=5432 user=u` works unquoted); anywhere else (first in
 *   the line, or after a quoted value) it is an error naming the key;
 * - each value is trimmed, then one leading and one trailing `"` are stripped
 *   independently, then the same for `'` (MinIO's SanitizeValue);
 * - without a key list (the client side, reading printed output) values are tokens
 *   separated by whitespace, `"…"` protecting spaces.
 *
 * Printing (get-config-kv): `<subsys>[:<target>] ` then `key=value ` per key in the
 * order given; `enable=on` and an empty `comment` are left out, `enable=off` printed; values with whitespace
 * are wrapped in `"…"`; several targets are each ended by `\n`, a single one is not.
 */
import type { ConfigKVs, ConfigTarget, SubsystemSpec } from '../config/subsystem.js';

export const DEFAULT_TARGET_NAME = '_';

export class ConfigTextError extends Error {
  readonly code = 'XMinioConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigTextError';
  }
}

/** `notify_redis:1` -> {subsys: 'notify_redis', target: '1'}; no colon -> no target. */
export function parseTargetName(name: string): { subsys: string; target?: string } {
  const i = name.indexOf(':');
  if (i < 0) return { subsys: name };
  const target = name.slice(i + 1);
  return target === '' || target === DEFAULT_TARGET_NAME ? { subsys: name.slice(0, i) } : { subsys: name.slice(0, i), target };
}

export function formatTargetName(subsys: string, target?: string): string {
  return target === undefined || target === '' || target === DEFAULT_TARGET_NAME ? subsys : `${subsys}:${target}`;
}

/** MinIO's SanitizeValue, as the spec's clarification 8 describes it. */
export function sanitizeValue(v: string): string {
  let s = v.trim();
  for (const q of ['"', "'"]) {
    if (s.startsWith(q)) s = s.slice(1);
    if (s.endsWith(q)) s = s.slice(0, -1);
  }
  return s;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const KEY_RE = /^[A-Za-z0-9_]+$/;

/** End (exclusive) of a value quoted with `q` starting at `start` (the opening quote), or -1. */
function quotedEnd(s: string, start: number): number {
  const q = s[start];
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === q && (i + 1 === s.length || isSpace(s[i + 1]))) return i + 1;
  }
  return -1;
}

interface Found { key: string; at: number; valueStart: number; quotedEnd: number }

/** Cuts `rest` (the text after the target name) at the known keys. */
function splitKnown(rest: string, known: Set<string>, where: string): Record<string, string> {
  const found: Found[] = [];
  const invalid = (what: string): ConfigTextError =>
    new ConfigTextError(`found invalid key '${what}' for '${where}' sub-system (known keys: ${[...known].join(', ')})`);
  let i = 0;
  while (i < rest.length) {
    if (isSpace(rest[i])) { i++; continue; }
    // A word starts here (start of text or after whitespace).
    let wordEnd = i;
    while (wordEnd < rest.length && !isSpace(rest[wordEnd])) wordEnd++;
    const eq = rest.indexOf('=', i);
    const key = eq > i ? rest.slice(i, eq) : '';
    if (KEY_RE.test(key) && known.has(key)) {
      const valueStart = eq + 1;
      const q = rest[valueStart] === '"' || rest[valueStart] === "'" ? quotedEnd(rest, valueStart) : -1;
      found.push({ key, at: i, valueStart, quotedEnd: q });
      i = q > 0 ? q : valueStart;
      continue;
    }
    // Anything else continues the previous unquoted value (MinIO joins unknown keys too).
    const prev = found[found.length - 1];
    if (!prev || prev.quotedEnd > 0) throw invalid(eq > i && eq < wordEnd ? key : rest.slice(i, wordEnd));
    i = wordEnd;
  }
  const kvs: Record<string, string> = {};
  for (let k = 0; k < found.length; k++) {
    const f = found[k];
    if (f.quotedEnd > 0) kvs[f.key] = sanitizeValue(rest.slice(f.valueStart, f.quotedEnd));
    else kvs[f.key] = sanitizeValue(rest.slice(f.valueStart, k + 1 < found.length ? found[k + 1].at : rest.length));
  }
  return kvs;
}

/** Whitespace-separated `k=v` tokens, `"…"`/`'…'` protecting whitespace (printed output). */
function splitTokens(rest: string, where: string): Record<string, string> {
  const kvs: Record<string, string> = {};
  let i = 0;
  while (i < rest.length) {
    if (isSpace(rest[i])) { i++; continue; }
    const eq = rest.indexOf('=', i);
    const nextSpace = rest.slice(i).search(/\s/);
    if (eq < 0 || (nextSpace >= 0 && i + nextSpace < eq)) {
      throw new ConfigTextError(`'${rest.slice(i).split(/\s/)[0]}' is not a key=value pair in '${where}'`);
    }
    const key = rest.slice(i, eq);
    let j = eq + 1;
    let value: string;
    const qEnd = rest[j] === '"' || rest[j] === "'" ? quotedEnd(rest, j) : -1;
    if (qEnd > 0) {
      value = sanitizeValue(rest.slice(j, qEnd));
      j = qEnd;
    } else {
      while (j < rest.length && !isSpace(rest[j])) j++;
      value = sanitizeValue(rest.slice(eq + 1, j));
    }
    kvs[key] = value;
    i = j;
  }
  return kvs;
}

export function knownKeys(spec: Pick<SubsystemSpec, 'keys'>): Set<string> {
  return new Set([...spec.keys.map((k) => k.key), 'comment']);
}

/**
 * Parses one line. With `specs`, the subsystem must be known and values are cut at its
 * keys; without, values are whitespace-separated tokens. Returns undefined for blank
 * and comment lines.
 */
export function parseConfigLine(line: string, specs?: readonly SubsystemSpec[]): ConfigKVs | undefined {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(text)!;
  const name = m[1];
  if (name.includes('=')) throw new ConfigTextError(`'${name}' is not a sub-system name (expected <sub-system>[:<target>] key=value ...)`);
  const { subsys, target } = parseTargetName(name);
  const rest = m[2] ?? '';
  let kvs: Record<string, string>;
  if (specs) {
    const spec = specs.find((s) => s.name === subsys);
    if (!spec) throw new ConfigTextError(`unknown sub-system ${subsys}`);
    if (target !== undefined && !spec.multipleTargets) throw new ConfigTextError(`sub-system '${subsys}' does not support multiple targets`);
    kvs = splitKnown(rest, knownKeys(spec), subsys);
  } else {
    kvs = splitTokens(rest, subsys);
  }
  return target === undefined ? { subsys, kvs } : { subsys, target, kvs };
}

/** Parses every line of a config text (set-config-kv bodies, config files, get output). */
export function parseConfigText(text: string, specs?: readonly SubsystemSpec[]): ConfigKVs[] {
  const out: ConfigKVs[] = [];
  for (const line of text.split('\n')) {
    const parsed = parseConfigLine(line, specs);
    if (parsed) out.push(parsed);
  }
  return out;
}

/** Parses a bare `k=v k=v` list for one known subsystem (e.g. a line shown without its name). */
export function parseKvs(text: string, spec: SubsystemSpec): Record<string, string> {
  return splitKnown(text, knownKeys(spec), spec.name);
}

/** The `subsys[:target]` names of a del-config-kv body (one per line). */
export function parseTargetNames(text: string): Array<{ subsys: string; target?: string }> {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => parseTargetName(l.split(/\s+/)[0]));
}

function formatValue(v: string): string {
  return /\s/.test(v) ? `"${v}"` : v;
}

/** One printed target line (with its trailing space, without newline). */
export function formatConfigLine(subsys: string, target: string | undefined, kvs: Record<string, string>): string {
  let out = `${formatTargetName(subsys, target)} `;
  for (const [k, v] of Object.entries(kvs)) {
    if (k === 'enable' && v === 'on') continue;
    // MinIO keeps `comment` out of the default keys: shown only when set.
    if (k === 'comment' && v === '') continue;
    out += `${k}=${formatValue(v)} `;
  }
  return out;
}

/** get-config-kv output for the targets, in the order given. */
export function formatConfigTargets(targets: ReadonlyArray<Pick<ConfigTarget, 'subsys' | 'target' | 'kvs'>>): string {
  const lines = targets.map((t) => formatConfigLine(t.subsys, t.target, t.kvs));
  if (lines.length === 1) return lines[0];
  return lines.map((l) => `${l}\n`).join('');
}

// ---------------------------------------------------------------- help (help-config-kv)

/** One entry of the madmin Help JSON (exactly these five keys: the 2021 mc is strict). */
export interface HelpKey {
  key: string;
  description: string;
  optional: boolean;
  type: string;
  multipleTargets: boolean;
}

/** The madmin Help JSON (exactly these four keys). */
export interface Help {
  subSys: string;
  description: string;
  multipleTargets: boolean;
  keysHelp: HelpKey[];
}

/**
 * help-config-kv: with subSys '' one entry per subsystem; otherwise the subsystem's keys
 * (not `enable`, comment last), or only `key` when given. With `env`, keys become the
 * environment variable names (MINIO_<SUBSYS>_<KEY>, plus _ENABLE for multi-target).
 */
export function buildHelp(specs: readonly SubsystemSpec[], subSys: string, key: string, env: boolean): Help {
  if (subSys === '') {
    return {
      subSys: '', description: '', multipleTargets: false,
      keysHelp: specs.map((s) => ({ key: s.name, description: s.description, optional: false, type: '', multipleTargets: s.multipleTargets })),
    };
  }
  const spec = specs.find((s) => s.name === subSys);
  if (!spec) throw new ConfigTextError(`unknown sub-system ${subSys}`);
  let keys = spec.keys.filter((k) => k.key !== 'enable' && k.key !== 'comment');
  const comment = spec.keys.find((k) => k.key === 'comment') ?? { key: 'comment', help: 'optionally add a comment to this setting', type: 'sentence', optional: true };
  let entries: HelpKey[] = [...keys, comment].map((k) => ({ key: k.key, description: k.help, optional: k.optional, type: k.type, multipleTargets: false }));
  if (key !== '') {
    keys = keys.filter((k) => k.key === key);
    entries = entries.filter((e) => e.key === key);
    if (entries.length === 0) throw new ConfigTextError(`unknown key '${key}' for sub-system '${subSys}'`);
  }
  if (env) {
    const prefix = `MINIO_${spec.name.toUpperCase()}_`;
    entries = entries.map((e) => ({ ...e, key: `${prefix}${e.key.toUpperCase()}` }));
    if (spec.multipleTargets && key === '') {
      entries.unshift({ key: `${prefix}ENABLE`, description: `enable ${spec.name} target, default is 'off'`, optional: false, type: 'on|off', multipleTargets: false });
    }
  }
  return { subSys: spec.name, description: spec.description, multipleTargets: spec.multipleTargets, keysHelp: entries };
}

/**
 * How mc prints a Help reply. The subsystem list pads names to a common column (at least
 * 22 wide, the width mc shows in the JuiceFS docs); a subsystem's help prints KEY: and
 * ARGS: blocks with `*` on required keys.
 */
export function formatHelp(help: Help): string {
  if (help.subSys === '') {
    const width = Math.max(22, ...help.keysHelp.map((k) => k.key.length + 2));
    return help.keysHelp.map((k) => `${k.key.padEnd(width)}${k.description}\n`).join('');
  }
  const name = help.multipleTargets ? `${help.subSys}[:name]` : help.subSys;
  const keyCol = Math.max(...help.keysHelp.map((k) => k.key.length + (k.optional ? 0 : 1))) + 2;
  const typeCol = Math.max(...help.keysHelp.map((k) => k.type.length + 2)) + 2;
  let out = `KEY:\n${name}  ${help.description}\n\nARGS:\n`;
  for (const k of help.keysHelp) {
    out += `${(k.key + (k.optional ? '' : '*')).padEnd(keyCol)}${`(${k.type})`.padEnd(typeCol)}${k.description}\n`;
  }
  return out;
}
