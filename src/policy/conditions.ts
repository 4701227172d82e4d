/**
 * The Condition element: operators, qualifiers and AWS's evaluation rules.
 *
 * `{"<Operator>": {"<key>": value | [values]}}` — operators AND together, keys of one
 * operator AND together, the values of one key OR together. Operator families:
 *   String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike},
 *   Numeric{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals},
 *   Date{...same...} (ISO 8601 or epoch seconds), Bool, BinaryEquals (base64),
 *   IpAddress/NotIpAddress (IPv4/IPv6, CIDR), Arn{Equals,Like,NotEquals,NotLike}
 *   (component-wise, wildcards allowed in both as AWS does), Null.
 * Every operator but Null takes the `IfExists` suffix and a `ForAnyValue:` /
 * `ForAllValues:` qualifier. Rules (AWS "Condition operators" / "multivalued keys"):
 *   - key absent: positive operator -> false, negated operator (…Not…) -> true,
 *     …IfExists -> true;
 *   - plain operator on a multi-valued key: positive = some value matches, negated = none;
 *   - ForAnyValue: some context value satisfies the operator; absent/empty key -> false
 *     (true with IfExists when absent);
 *   - ForAllValues: every context value satisfies it; absent/empty key -> true;
 *   - negated operators are the negation of their positive form per context value;
 *   - Null: "true" holds when the key is absent, "false" when it is present.
 * Condition keys are case-insensitive. Values may hold policy variables; a value whose
 * variable is unresolvable matches nothing (see variables.ts). Static values are parsed
 * and validated at compile time, so a bad number/date/CIDR/boolean is a policy error.
 */
import type { ConditionContext } from './context.js';
import { PolicyError } from './errors.js';
import { parseCidr, parseIp, cidrContains, type Cidr } from './ip.js';
import { splitArn } from './arn.js';
import { expandTemplate, parseTemplate, templateToPattern, type Template } from './variables.js';
import { compileWildcard, matchCodes, type StringMatcher } from './wildcard.js';

export interface CompiledCondition {
  /** The operator as written, e.g. ForAllValues:StringLikeIfExists. */
  operator: string;
  /** The condition key as written. */
  key: string;
  /** Lower-cased keys this condition reads (its key and any variables). */
  reads: readonly string[];
  test(ctx: ConditionContext): boolean;
}

type Qualifier = 'none' | 'any' | 'all';

interface Family<T> {
  /** Parse one (expanded) policy value; undefined = invalid. */
  parse?: (value: string) => T | undefined;
  /** Build the value from a template directly (StringLike keeps wildcards apart from variables). */
  fromTemplate?: (t: Template, ctx: ConditionContext) => T | undefined;
  /** Does the context value satisfy the (positive) comparison with the policy value? */
  match: (contextValue: string, policyValue: T) => boolean;
  expected: string;
}

const EMPTY_CONTEXT: ConditionContext = { get: () => undefined, keys: () => [] };

const str: Family<string> = { parse: (s) => s, match: (c, p) => c === p, expected: 'a string' };
const strIgnoreCase: Family<string> = { parse: (s) => s.toLowerCase(), match: (c, p) => c.toLowerCase() === p, expected: 'a string' };
const strLike: Family<readonly number[]> = {
  fromTemplate: (t, ctx) => templateToPattern(t, ctx),
  match: (c, p) => matchCodes(p, c),
  expected: 'a string',
};

function parseNumber(s: string): number | undefined {
  if (s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function numeric(cmp: (a: number, b: number) => boolean): Family<number> {
  return { parse: parseNumber, match: (c, p) => { const n = parseNumber(c); return n !== undefined && cmp(n, p); }, expected: 'a number' };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
export function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  if (!ISO_DATE.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

function date(cmp: (a: number, b: number) => boolean): Family<number> {
  return { parse: parseDate, match: (c, p) => { const n = parseDate(c); return n !== undefined && cmp(n, p); }, expected: 'a date (ISO 8601 or epoch seconds)' };
}

const bool: Family<string> = {
  parse: (s) => { const l = s.toLowerCase(); return l === 'true' || l === 'false' ? l : undefined; },
  match: (c, p) => c.toLowerCase() === p,
  expected: '"true" or "false"',
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const binary: Family<Buffer> = {
  parse: (s) => (BASE64.test(s) ? Buffer.from(s, 'base64') : undefined),
  match: (c, p) => BASE64.test(c) && Buffer.from(c, 'base64').equals(p),
  expected: 'base64 data',
};

const ip: Family<Cidr> = {
  parse: parseCidr,
  match: (c, p) => { const a = parseIp(c); return a !== undefined && cidrContains(p, a); },
  expected: 'an IP address or CIDR block',
};

function compileArnPattern(value: string): ((arn: string) => boolean) | undefined {
  if (value === '*') return () => true;
  const parts = splitArn(value);
  if (!parts) return undefined;
  const ms: StringMatcher[] = parts.map((p) => compileWildcard(p));
  return (arn) => {
    const a = splitArn(arn);
    return a !== undefined && ms.every((m, i) => m(a[i]));
  };
}
const arn: Family<(arn: string) => boolean> = { parse: compileArnPattern, match: (c, p) => p(c), expected: 'an ARN' };

interface OperatorDef { family: Family<any>; negated: boolean }

const OPERATORS: ReadonlyMap<string, OperatorDef> = new Map(Object.entries({
  StringEquals: { family: str, negated: false },
  StringNotEquals: { family: str, negated: true },
  StringEqualsIgnoreCase: { family: strIgnoreCase, negated: false },
  StringNotEqualsIgnoreCase: { family: strIgnoreCase, negated: true },
  StringLike: { family: strLike, negated: false },
  StringNotLike: { family: strLike, negated: true },
  NumericEquals: { family: numeric((a, b) => a === b), negated: false },
  NumericNotEquals: { family: numeric((a, b) => a === b), negated: true },
  NumericLessThan: { family: numeric((a, b) => a < b), negated: false },
  NumericLessThanEquals: { family: numeric((a, b) => a <= b), negated: false },
  NumericGreaterThan: { family: numeric((a, b) => a > b), negated: false },
  NumericGreaterThanEquals: { family: numeric((a, b) => a >= b), negated: false },
  DateEquals: { family: date((a, b) => a === b), negated: false },
  DateNotEquals: { family: date((a, b) => a === b), negated: true },
  DateLessThan: { family: date((a, b) => a < b), negated: false },
  DateLessThanEquals: { family: date((a, b) => a <= b), negated: false },
  DateGreaterThan: { family: date((a, b) => a > b), negated: false },
  DateGreaterThanEquals: { family: date((a, b) => a >= b), negated: false },
  Bool: { family: bool, negated: false },
  BinaryEquals: { family: binary, negated: false },
  IpAddress: { family: ip, negated: false },
  NotIpAddress: { family: ip, negated: true },
  ArnEquals: { family: arn, negated: false },
  ArnLike: { family: arn, negated: false },
  ArnNotEquals: { family: arn, negated: true },
  ArnNotLike: { family: arn, negated: true },
}).map(([k, v]) => [k.toLowerCase(), v]));

/** Every base operator name (without IfExists / qualifiers), for docs and tests. */
export const CONDITION_OPERATORS: readonly string[] = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
];

function parseOperator(op: string, path: string): { def?: OperatorDef; isNull: boolean; qualifier: Qualifier; ifExists: boolean } {
  let rest = op;
  let qualifier: Qualifier = 'none';
  const lower = op.toLowerCase();
  if (lower.startsWith('foranyvalue:')) { qualifier = 'any'; rest = op.slice(12); }
  else if (lower.startsWith('forallvalues:')) { qualifier = 'all'; rest = op.slice(13); }
  let ifExists = false;
  if (rest.toLowerCase().endsWith('ifexists')) { ifExists = true; rest = rest.slice(0, -8); }
  const base = rest.toLowerCase();
  if (base === 'null') {
    if (ifExists || qualifier !== 'none') throw new PolicyError('MalformedPolicy', `condition operator '${op}' is invalid: Null takes neither IfExists nor ForAnyValue/ForAllValues`, path);
    return { isNull: true, qualifier, ifExists };
  }
  const def = OPERATORS.get(base);
  if (!def) throw new PolicyError('MalformedPolicy', `unknown condition operator '${op}'`, path);
  return { def, isNull: false, qualifier, ifExists };
}

function valueList(v: unknown, path: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x, i) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' || typeof x === 'boolean') return String(x);
    throw new PolicyError('MalformedPolicy', 'condition values must be strings, numbers or booleans', Array.isArray(v) ? `${path}[${i}]` : path);
  });
}

/** Policy values of one key, prepared: static ones parsed now, templated ones per request. */
function prepareValues<T>(raws: string[], family: Family<T>, expandVariables: boolean, path: string): (ctx: ConditionContext) => T[] {
  const statics: T[] = [];
  const dynamic: Template[] = [];
  const build = (t: Template, ctx: ConditionContext): T | undefined => {
    if (family.fromTemplate) return family.fromTemplate(t, ctx);
    const s = expandTemplate(t, ctx);
    return s === undefined ? undefined : family.parse!(s);
  };
  raws.forEach((raw, i) => {
    const t = parseTemplate(raw, expandVariables);
    if (t.parts.some((p) => p.kind === 'var')) { dynamic.push(t); return; }
    const v = build(t, EMPTY_CONTEXT);
    if (v === undefined) throw new PolicyError('MalformedPolicy', `invalid value '${raw}': expected ${family.expected}`, raws.length > 1 ? `${path}[${i}]` : path);
    statics.push(v);
  });
  if (dynamic.length === 0) return () => statics;
  return (ctx) => {
    const out = statics.slice();
    for (const t of dynamic) { const v = build(t, ctx); if (v !== undefined) out.push(v); }
    return out;
  };
}

function variableKeys(raws: string[], expandVariables: boolean): string[] {
  return raws.flatMap((r) => parseTemplate(r, expandVariables).keys);
}

/** Compiles a whole Condition element. */
export function compileConditions(block: unknown, path: string, expandVariables: boolean): CompiledCondition[] {
  if (block === undefined) return [];
  if (block === null || typeof block !== 'object' || Array.isArray(block)) throw new PolicyError('MalformedPolicy', 'Condition must be an object of operators', path);
  const out: CompiledCondition[] = [];
  for (const [operator, keys] of Object.entries(block as Record<string, unknown>)) {
    const opPath = `${path}.${operator}`;
    const op = parseOperator(operator, opPath);
    if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) throw new PolicyError('MalformedPolicy', 'an operator must map condition keys to values', opPath);
    for (const [key, value] of Object.entries(keys as Record<string, unknown>)) {
      const keyPath = `${opPath}.${key}`;
      if (key.trim() === '') throw new PolicyError('MalformedPolicy', 'empty condition key', keyPath);
      const raws = valueList(value, keyPath);
      const lowerKey = key.toLowerCase();
      if (op.isNull) {
        const wanted = raws.map((r, i) => {
          const l = r.toLowerCase();
          if (l !== 'true' && l !== 'false') throw new PolicyError('MalformedPolicy', `invalid value '${r}': Null takes "true" or "false"`, raws.length > 1 ? `${keyPath}[${i}]` : keyPath);
          return l === 'true';
        });
        out.push({
          operator, key, reads: [lowerKey],
          test(ctx) {
            const v = ctx.get(lowerKey);
            const absent = v === undefined || v.length === 0;
            return wanted.some((w) => w === absent);
          },
        });
        continue;
      }
      const def = op.def!;
      const values = prepareValues(raws, def.family, expandVariables, keyPath);
      const match = def.family.match;
      const { negated, } = def;
      const { qualifier, ifExists } = op;
      const satisfies = (cv: string, vals: unknown[]): boolean => {
        const hit = vals.some((p) => match(cv, p));
        return negated ? !hit : hit;
      };
      out.push({
        operator, key, reads: [lowerKey, ...variableKeys(raws, expandVariables)],
        test(ctx) {
          const cvs = ctx.get(lowerKey);
          const absent = cvs === undefined || cvs.length === 0;
          if (qualifier === 'all') {
            if (absent) return true;
            const vals = values(ctx);
            return cvs.every((cv) => satisfies(cv, vals));
          }
          if (qualifier === 'any') {
            if (absent) return ifExists && cvs === undefined;
            const vals = values(ctx);
            return cvs.some((cv) => satisfies(cv, vals));
          }
          if (absent) return ifExists || negated;
          const vals = values(ctx);
          const hit = cvs.some((cv) => vals.some((p) => match(cv, p)));
          return negated ? !hit : hit;
        },
      });
    }
  }
  return out;
}
