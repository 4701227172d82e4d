/**
 * Anonymous access levels as `mc policy set` / `mc anonymous set` write them into the
 * bucket policy: none, download, upload, public — on a whole bucket or on a prefix
 * (minio-go's readonly/writeonly/readwrite/none). Spec: specs/minio-admin-api.md §5.4.
 *
 *   download  bucket: s3:GetBucketLocation + s3:ListBucket (on a prefix, ListBucket only
 *             with StringEquals s3:prefix = <prefix>); objects <prefix>*: s3:GetObject
 *   upload    bucket: s3:GetBucketLocation + s3:ListBucketMultipartUploads; objects:
 *             s3:AbortMultipartUpload, s3:DeleteObject, s3:ListMultipartUploadParts, s3:PutObject
 *   public    both
 * Every statement is `"Effect":"Allow","Principal":{"AWS":["*"]}`, keys in mc's order
 * (Action, Condition, Effect, Principal, Resource, Sid), string sets sorted, "Sid":"".
 *
 * setAnonymousLevel merges into an existing policy the way mc does: it first takes this
 * bucket/prefix's grants out of the anonymous statements (keeping bucket-level actions
 * other prefixes still need, and every statement that is not an anonymous grant as it
 * is), then merges the new statements into ones with equal actions or equal resources.
 * It returns undefined when no statement is left (mc then deletes the bucket policy).
 * anonymousLevel reads a level back for a prefix; anything that is not a whole level
 * reads as 'none', like mc.
 */
import { S3_ARN_PREFIX } from './arn.js';
import { compileWildcard } from './wildcard.js';

export type AnonymousLevel = 'none' | 'download' | 'upload' | 'public';

/** mc's older names for the levels. */
export const ANONYMOUS_LEVEL_ALIASES: Readonly<Record<string, AnonymousLevel>> = {
  none: 'none', private: 'none', download: 'download', readonly: 'download',
  upload: 'upload', writeonly: 'upload', public: 'public', readwrite: 'public',
};

const COMMON_BUCKET = ['s3:GetBucketLocation'];
const READ_BUCKET = ['s3:ListBucket'];
const WRITE_BUCKET = ['s3:ListBucketMultipartUploads'];
const READ_OBJECT = ['s3:GetObject'];
const WRITE_OBJECT = ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:ListMultipartUploadParts', 's3:PutObject'];
const LEVEL_ACTIONS = new Set([...COMMON_BUCKET, ...READ_BUCKET, ...WRITE_BUCKET, ...READ_OBJECT, ...WRITE_OBJECT]);

type Conditions = Record<string, Record<string, string[]>>;

/** A statement in mc's shape; `raw` keeps a statement we do not touch. */
interface McStatement {
  Action: string[];
  Condition?: Conditions;
  Effect: string;
  Principal: { AWS: string[] };
  Resource: string[];
  Sid: string;
  raw?: unknown;
  /** The statement as read, while nothing changed it (written back verbatim). */
  original?: unknown;
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
const subset = (a: string[], b: string[]) => a.every((x) => b.includes(x));
const without = (a: string[], drop: string[]) => a.filter((x) => !drop.includes(x));
const sameConditions = (a?: Conditions, b?: Conditions) => JSON.stringify(normalizeConditions(a)) === JSON.stringify(normalizeConditions(b));

function normalizeConditions(c?: Conditions): Conditions | undefined {
  if (!c || Object.keys(c).length === 0) return undefined;
  const out: Conditions = {};
  for (const op of Object.keys(c).sort()) {
    out[op] = {};
    for (const k of Object.keys(c[op]).sort()) out[op][k] = sorted(c[op][k]);
  }
  return out;
}

function allow(actions: string[], resource: string, condition?: Conditions): McStatement {
  return { Action: sorted(actions), Condition: condition, Effect: 'Allow', Principal: { AWS: ['*'] }, Resource: [resource], Sid: '' };
}

/** The statements mc writes for a level on an otherwise empty policy, before merging. */
function newStatements(level: AnonymousLevel, bucket: string, prefix: string): McStatement[] {
  if (level === 'none') return [];
  const b = S3_ARN_PREFIX + bucket;
  const obj = `${b}/${prefix}*`;
  const read = level === 'download' || level === 'public';
  const write = level === 'upload' || level === 'public';
  const out = [allow(COMMON_BUCKET, b)];
  if (read) out.push(allow(READ_BUCKET, b, prefix ? { StringEquals: { 's3:prefix': [prefix] } } : undefined));
  if (write) out.push(allow(WRITE_BUCKET, b));
  out.push(allow([...(read ? READ_OBJECT : []), ...(write ? WRITE_OBJECT : [])], obj));
  return out;
}

function asList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

function toMc(raw: unknown): McStatement {
  const opaque: McStatement = { Action: [], Effect: '', Principal: { AWS: [] }, Resource: [], Sid: '', raw };
  if (raw === null || typeof raw !== 'object') return opaque;
  const s = raw as Record<string, unknown>;
  const extra = Object.keys(s).filter((k) => !['Action', 'Condition', 'Effect', 'Principal', 'Resource', 'Sid'].includes(k));
  const actions = asList(s.Action);
  const resources = asList(s.Resource);
  const principal = s.Principal === '*' ? ['*'] : asList((s.Principal as { AWS?: unknown } | undefined)?.AWS);
  if (extra.length || !actions || !resources || !principal || typeof s.Effect !== 'string') return opaque;
  let cond: Conditions | undefined;
  if (s.Condition !== undefined) {
    if (s.Condition === null || typeof s.Condition !== 'object') return opaque;
    cond = {};
    for (const [op, keys] of Object.entries(s.Condition as Record<string, unknown>)) {
      if (keys === null || typeof keys !== 'object') return opaque;
      cond[op] = {};
      for (const [k, v] of Object.entries(keys as Record<string, unknown>)) {
        const l = asList(v);
        if (!l) return opaque;
        cond[op][k] = l;
      }
    }
  }
  return { Action: sorted(actions), Condition: normalizeConditions(cond), Effect: s.Effect, Principal: { AWS: sorted(principal) }, Resource: sorted(resources), Sid: typeof s.Sid === 'string' ? s.Sid : '', original: raw };
}

function isAnonymousGrant(s: McStatement, bucket: string): boolean {
  if (s.raw !== undefined || s.Effect !== 'Allow' || !s.Principal.AWS.includes('*')) return false;
  if (!s.Action.some((a) => LEVEL_ACTIONS.has(a))) return false;
  const b = S3_ARN_PREFIX + bucket;
  return s.Resource.some((r) => r === b || r.startsWith(`${b}/`));
}

function prefixValues(s: McStatement): string[] | undefined {
  return s.Condition?.StringEquals?.['s3:prefix'] ?? s.Condition?.StringLike?.['s3:prefix'];
}

function removeGrants(statements: McStatement[], bucket: string, prefix: string): McStatement[] {
  const b = S3_ARN_PREFIX + bucket;
  const obj = `${b}/${prefix}*`;
  // Bucket-level read/write actions stay while another prefix's object grant needs them.
  const others = statements.filter((s) => isAnonymousGrant(s, bucket) && !s.Condition && !s.Resource.includes(obj) && s.Resource.some((r) => r.startsWith(`${b}/`)));
  const readInUse = others.some((s) => subset(READ_OBJECT, s.Action));
  const writeInUse = others.some((s) => subset(WRITE_OBJECT, s.Action));
  const out: McStatement[] = [];
  for (const s0 of statements) {
    if (!isAnonymousGrant(s0, bucket)) { out.push(s0); continue; }
    const s: McStatement = { ...s0, Action: [...s0.Action], Resource: [...s0.Resource], original: undefined };
    if (s.Resource.includes(b)) {
      if (s.Resource.length > 1) s.Resource = without(s.Resource, [b]);
      else if (s.Condition) {
        const values = prefixValues(s);
        if (prefix && values?.includes(prefix) && subset(READ_BUCKET, s.Action)) {
          const left = without(values, [prefix]);
          if (left.length) s.Condition = normalizeConditions({ ...s.Condition, ...(s.Condition.StringEquals?.['s3:prefix'] ? { StringEquals: { ...s.Condition.StringEquals, 's3:prefix': left } } : { StringLike: { ...s.Condition.StringLike, 's3:prefix': left } }) });
          else { s.Condition = undefined; s.Action = without(s.Action, READ_BUCKET); }
        }
      } else {
        if (!readInUse) s.Action = without(s.Action, READ_BUCKET);
        if (!writeInUse) s.Action = without(s.Action, WRITE_BUCKET);
      }
    } else if (s.Resource.includes(obj) && !s.Condition) {
      if (s.Resource.length > 1) s.Resource = without(s.Resource, [obj]);
      else s.Action = without(s.Action, [...READ_OBJECT, ...WRITE_OBJECT]);
    }
    if (s.Action.length) out.push(s);
  }
  // GetBucketLocation alone is only there for the other grants: drop it with the last one.
  const grantsLeft = out.some((s) => isAnonymousGrant(s, bucket) && (s.Resource.some((r) => r.startsWith(`${b}/`)) || s.Action.some((a) => a !== 's3:GetBucketLocation')));
  if (!grantsLeft) {
    return out.flatMap((s) => {
      if (!isAnonymousGrant(s, bucket) || s.Condition || !sameSet(s.Resource, [b])) return [s];
      const left = without(s.Action, COMMON_BUCKET);
      return left.length ? [{ ...s, Action: left, original: undefined }] : [];
    });
  }
  return out;
}

function appendStatement(list: McStatement[], s: McStatement): void {
  for (const t of list) {
    if (t.raw !== undefined || t.Effect !== s.Effect || !sameSet(t.Principal.AWS, s.Principal.AWS) || !sameConditions(t.Condition, s.Condition)) continue;
    if (sameSet(t.Action, s.Action)) { t.Resource = sorted([...t.Resource, ...s.Resource]); t.original = undefined; return; }
    if (sameSet(t.Resource, s.Resource)) { t.Action = sorted([...t.Action, ...s.Action]); t.original = undefined; return; }
    if (subset(s.Resource, t.Resource) && subset(s.Action, t.Action)) return;
  }
  list.push({ ...s, Action: [...s.Action], Resource: [...s.Resource] });
}

function serialize(s: McStatement): unknown {
  if (s.raw !== undefined) return s.raw;
  if (s.original !== undefined) return s.original;
  const out: Record<string, unknown> = { Action: sorted(s.Action) };
  const c = normalizeConditions(s.Condition);
  if (c) out.Condition = c;
  out.Effect = s.Effect;
  out.Principal = { AWS: sorted(s.Principal.AWS) };
  out.Resource = sorted(s.Resource);
  out.Sid = s.Sid;
  return out;
}

function statementsOf(policy: string | Record<string, unknown> | undefined): { version: string; statements: McStatement[] } {
  if (policy === undefined) return { version: '2012-10-17', statements: [] };
  const doc = (typeof policy === 'string' ? JSON.parse(policy) : policy) as Record<string, unknown>;
  const raw = doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return { version: typeof doc.Version === 'string' && doc.Version ? doc.Version : '2012-10-17', statements: raw.map(toMc) };
}

/** The bucket policy JSON after setting `level` on bucket/prefix, or undefined = delete the policy. */
export function setAnonymousLevel(existing: string | Record<string, unknown> | undefined, level: AnonymousLevel, bucket: string, prefix = ''): string | undefined {
  const { version, statements } = statementsOf(existing);
  const out = removeGrants(statements, bucket, prefix);
  for (const s of newStatements(level, bucket, prefix)) appendStatement(out, s);
  if (out.length === 0) return undefined;
  return JSON.stringify({ Version: version, Statement: out.map(serialize) });
}

/** The level a policy gives anonymous users on bucket/prefix ('none' when not a whole level). */
export function anonymousLevel(policy: string | Record<string, unknown> | undefined, bucket: string, prefix = ''): AnonymousLevel {
  const { statements } = statementsOf(policy);
  const b = S3_ARN_PREFIX + bucket;
  const obj = `${b}/${prefix}*`;
  let common = false, bucketRead = false, bucketWrite = false, objRead = false, objWrite = false;
  for (const s of statements) {
    if (s.raw !== undefined || s.Effect !== 'Allow' || !s.Principal.AWS.includes('*')) continue;
    if (s.Resource.includes(b)) {
      if (!s.Condition) {
        common ||= subset(COMMON_BUCKET, s.Action);
        bucketWrite ||= subset(WRITE_BUCKET, s.Action);
        bucketRead ||= subset(READ_BUCKET, s.Action);
      } else if (prefix && subset(READ_BUCKET, s.Action) && Object.keys(s.Condition).every((op) => op === 'StringEquals' || op === 'StringLike')) {
        bucketRead ||= prefixValues(s)?.includes(prefix) ?? false;
      }
    }
    if (!s.Condition && s.Resource.some((r) => r.startsWith(`${b}/`) && compileWildcard(r)(obj))) {
      objRead ||= subset(READ_OBJECT, s.Action);
      objWrite ||= subset(WRITE_OBJECT, s.Action);
    }
  }
  if (!common) return 'none';
  if (bucketRead && objRead && bucketWrite && objWrite) return 'public';
  if (bucketRead && objRead) return 'download';
  if (bucketWrite && objWrite) return 'upload';
  return 'none';
}

/** Every bucket/prefix the policy mentions with its level, keyed like mc ("b/prefix*"). */
export function anonymousLevels(policy: string | Record<string, unknown> | undefined, bucket: string): Record<string, AnonymousLevel> {
  const { statements } = statementsOf(policy);
  const base = `${S3_ARN_PREFIX}${bucket}/`;
  const out: Record<string, AnonymousLevel> = {};
  for (const s of statements) {
    for (const r of s.Resource) {
      if (!r.startsWith(base)) continue;
      const prefix = r.slice(base.length).replace(/\*$/, '');
      out[`${bucket}/${prefix}*`] = anonymousLevel(policy, bucket, prefix);
    }
  }
  return out;
}
