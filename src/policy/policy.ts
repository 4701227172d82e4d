/**
 * Parse, validate and compile a policy document (AWS IAM grammar) into a CompiledPolicy
 * whose statements hold ready matchers, so evaluating a request allocates almost nothing
 * and never re-reads the text.
 *
 * Kinds: 'identity' (users, groups, canned/custom policies), 'session' (STS session
 * policies and service-account embedded policies; same grammar as identity) and
 * 'bucket' (bucket policies: Principal/NotPrincipal required, s3 actions only, every
 * resource inside the bucket). Identity and session policies may not name a Principal.
 *
 * Size limits (bytes of the document text): 20 KiB for identity and bucket policies
 * (MinIO's limit for both), 16 KiB for service-account embedded policies, and 2048 for
 * STS session policies (the STS layer passes MAX_STS_SESSION_POLICY_BYTES).
 */
import { actionPatternProblem, actionService, compileActionMatcher, patternCoversS3 } from './actions.js';
import { isAccountPrincipal, principalValueProblem, resourceProblem, S3_ARN_PREFIX } from './arn.js';
import { compileConditions, type CompiledCondition } from './conditions.js';
import type { ConditionContext } from './context.js';
import { PolicyError } from './errors.js';
import { parseTemplate, templateToPattern, type Template } from './variables.js';
import { compileWildcard, matchCodes, type StringMatcher } from './wildcard.js';

export const MAX_POLICY_BYTES = 20 * 1024;
export const MAX_BUCKET_POLICY_BYTES = 20 * 1024;
export const MAX_SERVICE_ACCOUNT_POLICY_BYTES = 16 * 1024;
export const MAX_STS_SESSION_POLICY_BYTES = 2048;

export type PolicyKind = 'identity' | 'session' | 'bucket';
export type Effect = 'Allow' | 'Deny';

export interface ParseOptions {
  /** Name used in explanations ('readwrite', 'bucket-policy:photos', ...). */
  name?: string;
  kind?: PolicyKind;
  /** Bucket policies: the bucket it is attached to (resources must lie inside it). */
  bucket?: string;
  /** Override the size limit of the kind. */
  maxBytes?: number;
}

export interface ResourceEntry {
  raw: string;
  /** Static entries. */
  match?: StringMatcher;
  /** Entries with variables, resolved per request. */
  template?: Template;
}

export interface PrincipalSpec {
  any: boolean;
  values: ReadonlySet<string>;
  accounts: ReadonlySet<string>;
}

export interface CompiledStatement {
  index: number;
  sid: string;
  effect: Effect;
  /** Matches a lower-cased action name; NotAction already folded in. */
  matchesAction: (actionLower: string) => boolean;
  resources?: { not: boolean; entries: readonly ResourceEntry[] };
  principal?: { not: boolean; spec: PrincipalSpec };
  conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  name: string;
  kind: PolicyKind;
  version: string;
  /** The document as given (text), e.g. to return GetBucketPolicy verbatim. */
  text: string;
  /** The parsed JSON. */
  document: Record<string, unknown>;
  statements: readonly CompiledStatement[];
  /** Lower-cased condition keys the policy reads (conditions and variables). */
  reads: ReadonlySet<string>;
  /** True when some statement reads s3:ExistingObjectTag/<key> (worth loading tags). */
  usesExistingObjectTags: boolean;
  /**
   * Set only on a placeholder for a stored policy that no longer validates: such a
   * policy denies every request it is consulted for (fail closed), with this reason.
   */
  invalid?: string;
}

const TOP_KEYS = new Set(['Version', 'Id', 'ID', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);

function fail(message: string, path?: string, code: 'MalformedPolicy' | 'PolicyTooLarge' = 'MalformedPolicy'): never {
  throw new PolicyError(code, message, path);
}

function defaultLimit(kind: PolicyKind): number {
  return kind === 'session' ? MAX_SERVICE_ACCOUNT_POLICY_BYTES : MAX_POLICY_BYTES;
}

function stringList(v: unknown, path: string, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) fail(`${what} must not be empty`, path);
  return list.map((x, i) => {
    if (typeof x !== 'string') fail(`${what} entries must be strings`, Array.isArray(v) ? `${path}[${i}]` : path);
    return x;
  });
}

function compileResources(raws: string[], path: string, opts: Required<Pick<ParseOptions, 'kind'>> & ParseOptions, expand: boolean): ResourceEntry[] {
  return raws.map((raw, i) => {
    const p = raws.length > 1 ? `${path}[${i}]` : path;
    const problem = resourceProblem(raw);
    if (problem) fail(problem, p);
    if (opts.kind === 'bucket' && opts.bucket !== undefined) {
      if (raw === '*') fail(`resource '*' is not allowed in a bucket policy; name arn:aws:s3:::${opts.bucket} or arn:aws:s3:::${opts.bucket}/...`, p);
      const rest = raw.slice(S3_ARN_PREFIX.length);
      const bucketPart = rest.split('/')[0];
      if (!bucketPart.includes('${') && !compileWildcard(bucketPart)(opts.bucket)) {
        fail(`resource '${raw}' is outside bucket '${opts.bucket}'`, p);
      }
    }
    const t = parseTemplate(raw, expand);
    if (t.parts.some((x) => x.kind === 'var')) return { raw, template: t };
    const codes = templateToPattern(t, { get: () => undefined, keys: () => [] })!;
    return { raw, match: (s: string) => matchCodes(codes, s) };
  });
}

function compilePrincipal(v: unknown, path: string): PrincipalSpec {
  let list: string[];
  if (v === '*') list = ['*'];
  else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) fail('Principal must name at least one principal', path);
    list = [];
    for (const [k, val] of entries) {
      if (k !== 'AWS') fail(`principal type '${k}' is not supported (only "AWS")`, `${path}.${k}`);
      list.push(...stringList(val, `${path}.AWS`, 'Principal'));
    }
  } else fail('Principal must be "*" or {"AWS": ...}', path);
  const values = new Set<string>();
  const accounts = new Set<string>();
  let any = false;
  list.forEach((p, i) => {
    const problem = principalValueProblem(p);
    if (problem) fail(problem, `${path}[${i}]`);
    if (p === '*') any = true;
    const acct = isAccountPrincipal(p);
    if (acct) accounts.add(acct);
    else values.add(p);
  });
  return { any, values, accounts };
}

function compileStatement(s: unknown, index: number, path: string, opts: Required<Pick<ParseOptions, 'kind'>> & ParseOptions, expand: boolean): CompiledStatement {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) fail('a statement must be an object', path);
  const st = s as Record<string, unknown>;
  for (const k of Object.keys(st)) if (!STATEMENT_KEYS.has(k)) fail(`unknown statement element '${k}'`, path);
  const sid = st.Sid === undefined ? '' : typeof st.Sid === 'string' ? st.Sid : fail('Sid must be a string', `${path}.Sid`);
  if (st.Effect !== 'Allow' && st.Effect !== 'Deny') fail(`Effect must be "Allow" or "Deny"${st.Effect === undefined ? '' : `, not ${JSON.stringify(st.Effect)}`}`, `${path}.Effect`);
  const effect = st.Effect;

  const hasAction = st.Action !== undefined;
  if (hasAction === (st.NotAction !== undefined)) fail('a statement needs exactly one of Action or NotAction', path);
  const actionKey = hasAction ? 'Action' : 'NotAction';
  const actions = stringList(st[actionKey], `${path}.${actionKey}`, actionKey);
  actions.forEach((a, i) => {
    const problem = actionPatternProblem(a);
    const p = actions.length > 1 ? `${path}.${actionKey}[${i}]` : `${path}.${actionKey}`;
    if (problem) fail(problem, p);
    if (opts.kind === 'bucket' && a !== '*' && actionService(a) !== 's3') fail(`bucket policies only take s3 actions, not '${a}'`, p);
  });
  const actionMatcher = compileActionMatcher(actions);
  const matchesAction = hasAction ? actionMatcher : (a: string) => !actionMatcher(a);

  const hasResource = st.Resource !== undefined;
  if (hasResource && st.NotResource !== undefined) fail('a statement takes Resource or NotResource, not both', path);
  let resources: CompiledStatement['resources'];
  if (hasResource || st.NotResource !== undefined) {
    const key = hasResource ? 'Resource' : 'NotResource';
    resources = { not: !hasResource, entries: compileResources(stringList(st[key], `${path}.${key}`, key), `${path}.${key}`, opts, expand) };
  } else if (!hasAction || actions.some(patternCoversS3)) {
    fail('a statement with s3 actions needs a Resource or NotResource', path);
  }

  const hasPrincipal = st.Principal !== undefined;
  const hasNotPrincipal = st.NotPrincipal !== undefined;
  let principal: CompiledStatement['principal'];
  if (opts.kind === 'bucket') {
    if (hasPrincipal === hasNotPrincipal) fail('a bucket policy statement needs exactly one of Principal or NotPrincipal', path);
    const key = hasPrincipal ? 'Principal' : 'NotPrincipal';
    principal = { not: !hasPrincipal, spec: compilePrincipal(st[key], `${path}.${key}`) };
  } else if (hasPrincipal || hasNotPrincipal) {
    fail(`${hasPrincipal ? 'Principal' : 'NotPrincipal'} is only allowed in bucket policies`, path);
  }

  const conditions = compileConditions(st.Condition, `${path}.Condition`, expand);
  return { index, sid, effect, matchesAction, resources, principal, conditions };
}

/** Parses, validates and compiles a policy; throws PolicyError with a clear message. */
export function parsePolicy(input: string | Buffer | Record<string, unknown>, options: ParseOptions = {}): CompiledPolicy {
  const kind = options.kind ?? 'identity';
  const opts = { ...options, kind };
  const limit = options.maxBytes ?? defaultLimit(kind);
  let text: string;
  let doc: unknown;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    text = typeof input === 'string' ? input : input.toString('utf8');
    const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
    if (size > limit) fail(`policy is ${size} bytes, larger than the ${limit}-byte limit`, undefined, 'PolicyTooLarge');
    if (text.trim() === '') fail('policy is empty');
    try { doc = JSON.parse(text); } catch (e) { fail(`policy is not valid JSON: ${(e as Error).message}`); }
  } else {
    doc = input;
    text = JSON.stringify(input);
    if (Buffer.byteLength(text) > limit) fail(`policy is ${Buffer.byteLength(text)} bytes, larger than the ${limit}-byte limit`, undefined, 'PolicyTooLarge');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('policy must be a JSON object');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!TOP_KEYS.has(k)) fail(`unknown policy element '${k}'`);
  if (d.Version === undefined || d.Version === '') fail('missing Version (use "2012-10-17")', 'Version');
  if (typeof d.Version !== 'string' || !VERSIONS.has(d.Version)) fail(`unsupported Version ${JSON.stringify(d.Version)} (use "2012-10-17")`, 'Version');
  const version = d.Version;
  // AWS expands policy variables only from the 2012-10-17 grammar on.
  const expand = version === '2012-10-17';
  if (d.Statement === undefined) fail('missing Statement', 'Statement');
  const rawStatements = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (rawStatements.length === 0 && kind === 'bucket') fail('a bucket policy needs at least one statement', 'Statement');
  const statements = rawStatements.map((s, i) => compileStatement(s, i, Array.isArray(d.Statement) ? `Statement[${i}]` : 'Statement', opts, expand));

  const reads = new Set<string>();
  for (const s of statements) {
    for (const c of s.conditions) for (const k of c.reads) reads.add(k);
    for (const r of s.resources?.entries ?? []) for (const k of r.template?.keys ?? []) reads.add(k);
  }
  const usesExistingObjectTags = [...reads].some((k) => k.startsWith('s3:existingobjecttag/'));
  return { name: options.name ?? '', kind, version, text, document: d, statements, reads, usesExistingObjectTags };
}

/** A stand-in for a stored policy that fails validation: it denies everything (fail closed). */
export function invalidPolicy(name: string, kind: PolicyKind, text: string, reason: string): CompiledPolicy {
  return { name, kind, version: '', text, document: {}, statements: [], reads: new Set(), usesExistingObjectTags: false, invalid: reason };
}

/** Matches a resource ARN against a statement's entries (variables resolved from ctx). */
export function resourceEntryMatches(e: ResourceEntry, resource: string, ctx: ConditionContext): boolean | undefined {
  if (e.match) return e.match(resource);
  const codes = templateToPattern(e.template!, ctx);
  return codes === undefined ? undefined : matchCodes(codes, resource);
}
