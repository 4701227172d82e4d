/**
 * Policy variables in Resource, NotResource and Condition values:
 *   ${aws:username}, ${s3:prefix}, ${jwt:sub}, ... any condition key (case-insensitive);
 *   ${key, 'default'}  the default when the key is absent (AWS syntax);
 *   ${*} ${?} ${$}     a literal `*`, `?`, `$` (never a wildcard).
 * A variable whose key is absent (or multi-valued) and has no default makes the whole
 * value unresolvable: it matches nothing and never expands to "". Policies with
 * Version 2008-10-17 do not expand variables (AWS treats the text literally).
 * A `${` without a closing `}` or with an unparseable inside stays literal text.
 */
import type { ConditionContext } from './context.js';
import { pushLiteral, pushWildcardText } from './wildcard.js';

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'literal'; text: string }
  | { kind: 'var'; key: string; fallback?: string };

export interface Template {
  raw: string;
  parts: readonly TemplatePart[];
  hasVariables: boolean;
  /** Lower-cased keys the variables read. */
  keys: readonly string[];
}

const VAR_INNER = /^\s*([^\s,'}]+)\s*(?:,\s*'([^']*)'\s*)?$/;

export function parseTemplate(raw: string, expandVariables = true): Template {
  if (!expandVariables || !raw.includes('${')) return { raw, parts: [{ kind: 'text', text: raw }], hasVariables: false, keys: [] };
  const parts: TemplatePart[] = [];
  const keys: string[] = [];
  let text = '';
  let i = 0;
  while (i < raw.length) {
    const start = raw.indexOf('${', i);
    if (start < 0) { text += raw.slice(i); break; }
    const end = raw.indexOf('}', start + 2);
    if (end < 0) { text += raw.slice(i); break; }
    text += raw.slice(i, start);
    const inner = raw.slice(start + 2, end);
    let part: TemplatePart | undefined;
    if (inner === '*' || inner === '?' || inner === '$') part = { kind: 'literal', text: inner };
    else {
      const m = VAR_INNER.exec(inner);
      if (m) { part = { kind: 'var', key: m[1].toLowerCase(), fallback: m[2] }; keys.push(part.key); }
    }
    if (!part) { text += raw.slice(start, end + 1); i = end + 1; continue; }
    if (text) { parts.push({ kind: 'text', text }); text = ''; }
    parts.push(part);
    i = end + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  const hasVariables = parts.some((p) => p.kind !== 'text');
  return { raw, parts, hasVariables, keys };
}

function resolve(part: { key: string; fallback?: string }, ctx: ConditionContext): string | undefined {
  const v = ctx.get(part.key);
  if (v && v.length === 1) return v[0];
  return part.fallback;
}

/** The value with variables substituted, or undefined when one cannot be resolved. */
export function expandTemplate(t: Template, ctx: ConditionContext): string | undefined {
  if (!t.hasVariables) return t.raw;
  let out = '';
  for (const p of t.parts) {
    if (p.kind === 'var') {
      const v = resolve(p, ctx);
      if (v === undefined) return undefined;
      out += v;
    } else out += p.text;
  }
  return out;
}

/**
 * Wildcard pattern codes for the value: `*`/`?` in the policy text are wildcards, while
 * substituted values and escapes are literal. Undefined when unresolvable.
 */
export function templateToPattern(t: Template, ctx: ConditionContext, lowerCase = false): number[] | undefined {
  const out: number[] = [];
  for (const p of t.parts) {
    if (p.kind === 'text') pushWildcardText(out, lowerCase ? p.text.toLowerCase() : p.text);
    else if (p.kind === 'literal') pushLiteral(out, p.text);
    else {
      const v = resolve(p, ctx);
      if (v === undefined) return undefined;
      pushLiteral(out, lowerCase ? v.toLowerCase() : v);
    }
  }
  return out;
}
