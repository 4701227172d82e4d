/**
 * POST object (browser form) authentication: who signed the form, whether the signature
 * is right, and whether the form obeys its policy document.
 *
 * - `parsePostAuth(fields)`: SigV4 (x-amz-algorithm, x-amz-credential, x-amz-date,
 *   x-amz-signature = hex HMAC-SHA256(signingKey, policyBase64)), SigV2 (AWSAccessKeyId,
 *   signature = base64 HMAC-SHA1(secret, policyBase64)), or anonymous (no policy, no
 *   signature; the bucket policy decides).
 * - `verifyPostSignature(auth, secret)`: constant-time check.
 * - `checkPostPolicy(policyBase64, fields, {bucket, now, filename})`: expiration and every
 *   condition S3 supports: exact match objects ({"bucket": "b"}, {"acl": "public-read"}),
 *   ["eq", "$f", v], ["starts-with", "$f", prefix] (Content-Type: each comma-separated
 *   value must match), ["content-length-range", min, max]. Every form field except the
 *   exempt ones (x-amz-signature, file, policy, AWSAccessKeyId, signature, x-ignore-*) must
 *   be named by some condition, as S3 requires. The key is checked with ${filename}
 *   with ${filename} substituted (what will be stored is what is checked), or as the
 *   literal template the signer wrote. Field names are
 *   case-insensitive; values are compared case-sensitively.
 * - The content-length-range can only be known once the body has streamed:
 *   `ContentLengthRangeCheck` fails the stream with EntityTooLarge as soon as the body
 *   passes the maximum and with EntityTooSmall at its end; `checkContentLength` does the
 *   same for a known size.
 *
 * Errors use S3's codes and messages: AccessDenied "Invalid according to Policy: Policy
 * expired." / "...: Policy Condition failed: [...]" / "...: Extra input fields: f",
 * InvalidPolicyDocument for a policy that is not valid JSON or has a bad condition,
 * InvalidArgument for missing authentication fields, SignatureDoesNotMatch.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../server/errors.js';
import { deriveSigningKey } from './sigv4.js';

export type PostAuth =
  | { kind: 'anonymous' }
  | {
    kind: 'v4';
    accessKey: string;
    /** Credential scope parts. */
    date: string;
    region: string;
    service: string;
    /** x-amz-date as sent (yyyymmddThhmmssZ). */
    amzDate: string;
    signature: string;
    policy: string;
    securityToken?: string;
  }
  | { kind: 'v2'; accessKey: string; signature: string; policy: string; securityToken?: string };

function missingField(name: string): S3Error {
  return new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, {
    extra: { ArgumentName: name, ArgumentValue: '' },
  });
}

/** Finds the authentication scheme of a POST form (fields with lower-cased names). */
export function parsePostAuth(fields: Readonly<Record<string, string>>): PostAuth {
  const securityToken = fields['x-amz-security-token'] || undefined;
  const v4 = ['x-amz-signature', 'x-amz-algorithm', 'x-amz-credential'].some((f) => f in fields);
  if (v4) {
    for (const f of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature', 'policy']) {
      if (!fields[f]) throw missingField(f);
    }
    if (fields['x-amz-algorithm'] !== 'AWS4-HMAC-SHA256') {
      throw new S3Error('InvalidArgument', 'The x-amz-algorithm form field must be AWS4-HMAC-SHA256.', { extra: { ArgumentName: 'x-amz-algorithm', ArgumentValue: fields['x-amz-algorithm']! } });
    }
    const parts = fields['x-amz-credential']!.split('/');
    if (parts.length < 5 || parts[parts.length - 1] !== 'aws4_request' || !/^\d{8}$/.test(parts[parts.length - 4]!)) {
      throw new S3Error('InvalidArgument', 'The x-amz-credential form field is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".', {
        extra: { ArgumentName: 'x-amz-credential', ArgumentValue: fields['x-amz-credential']! },
      });
    }
    const amzDate = fields['x-amz-date']!;
    if (!/^\d{8}T\d{6}Z$/.test(amzDate)) {
      throw new S3Error('InvalidArgument', 'The x-amz-date form field must be in ISO 8601 basic format (yyyyMMddTHHmmssZ).', { extra: { ArgumentName: 'x-amz-date', ArgumentValue: amzDate } });
    }
    return {
      kind: 'v4',
      accessKey: parts.slice(0, parts.length - 4).join('/'),
      date: parts[parts.length - 4]!,
      region: parts[parts.length - 3]!,
      service: parts[parts.length - 2]!,
      amzDate,
      signature: fields['x-amz-signature']!,
      policy: fields.policy!,
      securityToken,
    };
  }
  if ('awsaccesskeyid' in fields || 'signature' in fields || 'policy' in fields) {
    for (const f of ['awsaccesskeyid', 'policy', 'signature']) {
      if (!fields[f]) throw missingField(f === 'awsaccesskeyid' ? 'AWSAccessKeyId' : f === 'signature' ? 'Signature' : f);
    }
    return { kind: 'v2', accessKey: fields.awsaccesskeyid!, signature: fields.signature!, policy: fields.policy!, securityToken };
  }
  return { kind: 'anonymous' };
}

/** Checks the form's signature over the base64 policy; SignatureDoesNotMatch otherwise. */
export function verifyPostSignature(auth: Exclude<PostAuth, { kind: 'anonymous' }>, secret: string): void {
  let expected: Buffer;
  let given: Buffer;
  if (auth.kind === 'v4') {
    const key = deriveSigningKey(secret, auth.date, auth.region, auth.service);
    expected = createHmac('sha256', key).update(auth.policy, 'utf8').digest();
    given = /^[0-9a-f]{64}$/i.test(auth.signature) ? Buffer.from(auth.signature, 'hex') : Buffer.alloc(0);
  } else {
    expected = createHmac('sha1', secret).update(auth.policy, 'utf8').digest();
    given = Buffer.from(auth.signature, 'base64');
  }
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new S3Error('SignatureDoesNotMatch');
}

/** The object key of a POST upload: the key field with ${filename} replaced. */
export function resolvePostKey(fields: Readonly<Record<string, string>>, filename: string): string {
  const key = fields.key;
  if (key === undefined || key === '') throw missingField('key');
  return key.split('${filename}').join(filename);
}

export interface ContentLengthRange {
  min: number;
  max: number;
}

export interface PostPolicyResult {
  expiration: Date;
  /** From content-length-range (intersected if given more than once). */
  contentLengthRange?: ContentLengthRange;
}

export interface PostPolicyContext {
  /** The bucket the form is posted to (for "bucket" conditions). */
  bucket: string;
  now?: Date;
  /** The file part's filename, for ${filename} in the key. */
  filename?: string;
}

/** Field names that need no condition. */
function isExempt(name: string): boolean {
  return name === 'x-amz-signature' || name === 'file' || name === 'policy' || name === 'awsaccesskeyid' || name === 'signature' || name.startsWith('x-ignore-');
}

function invalidPolicy(why: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${why}`);
}

function conditionFailed(cond: unknown[]): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: [${cond.map((c) => JSON.stringify(c)).join(', ')}]`);
}

function decodePolicy(policyB64: string): { expiration?: unknown; conditions?: unknown } {
  const text = Buffer.from(policyB64.replace(/\s+/g, ''), 'base64').toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  return doc as { expiration?: unknown; conditions?: unknown };
}

function parseExpiration(v: unknown): Date {
  // S3 wants ISO 8601 in UTC, e.g. 2007-12-01T12:00:00.000Z.
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v)) {
    throw invalidPolicy(`Invalid 'expiration' value: '${String(v)}'`);
  }
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw invalidPolicy(`Invalid 'expiration' value: '${v}'`);
  return d;
}

function lengthBound(v: unknown, cond: unknown[]): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalidPolicy(`Invalid content-length-range condition: ${JSON.stringify(cond)}`);
  return n;
}

/**
 * Checks a policy against the form fields (lower-cased names, before the file). Does not
 * check the signature (see verifyPostSignature) or the length (see ContentLengthRangeCheck).
 */
export function checkPostPolicy(policyB64: string, fields: Readonly<Record<string, string>>, ctx: PostPolicyContext): PostPolicyResult {
  const doc = decodePolicy(policyB64);
  if (doc.expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  const expiration = parseExpiration(doc.expiration);
  if (!Array.isArray(doc.conditions)) throw invalidPolicy('Policy missing conditions.');
  if ((ctx.now ?? new Date()).getTime() > expiration.getTime()) {
    throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.');
  }

  // The key is matched as stored (${filename} substituted) or as the signer wrote the
  // template; both are what the signer authorised.
  const valuesOf = (name: string): string[] => {
    if (name === 'bucket') return [ctx.bucket];
    if (name === 'key' && fields.key !== undefined) return [fields.key.split('${filename}').join(ctx.filename ?? ''), fields.key];
    return [fields[name] ?? ''];
  };
  const covered = new Set<string>();
  let range: ContentLengthRange | undefined;

  const match = (op: 'eq' | 'starts-with', field: string, expected: string, cond: unknown[]): void => {
    covered.add(field);
    const ok = valuesOf(field).some((actual) => {
      if (op === 'eq') return actual === expected;
      if (field === 'content-type' && actual.includes(',')) return actual.split(',').every((v) => v.trim().startsWith(expected));
      return actual.startsWith(expected);
    });
    if (!ok) throw conditionFailed(cond);
  };

  for (const cond of doc.conditions as unknown[]) {
    if (cond && typeof cond === 'object' && !Array.isArray(cond)) {
      const entries = Object.entries(cond as Record<string, unknown>);
      if (entries.length === 0) throw invalidPolicy(`Invalid Condition: ${JSON.stringify(cond)}`);
      for (const [k, v] of entries) {
        if (typeof v !== 'string') throw invalidPolicy(`Invalid Condition: ${JSON.stringify(cond)}`);
        const field = k.toLowerCase().replace(/^\$/, '');
        match('eq', field, v, ['eq', `$${k.replace(/^\$/, '')}`, v]);
      }
      continue;
    }
    if (!Array.isArray(cond) || cond.length !== 3 || typeof cond[0] !== 'string') throw invalidPolicy(`Invalid Condition: ${JSON.stringify(cond)}`);
    const op = cond[0].toLowerCase();
    if (op === 'content-length-range') {
      const min = lengthBound(cond[1], cond);
      const max = lengthBound(cond[2], cond);
      if (min > max) throw invalidPolicy(`Invalid content-length-range condition: ${JSON.stringify(cond)}`);
      range = range ? { min: Math.max(range.min, min), max: Math.min(range.max, max) } : { min, max };
      continue;
    }
    if (op !== 'eq' && op !== 'starts-with') throw invalidPolicy(`Invalid Condition: unknown operation ${JSON.stringify(cond[0])}`);
    if (typeof cond[1] !== 'string' || !cond[1].startsWith('$') || cond[1].length < 2 || typeof cond[2] !== 'string') {
      throw invalidPolicy(`Invalid Condition: ${JSON.stringify(cond)}`);
    }
    match(op, cond[1].slice(1).toLowerCase(), cond[2], cond);
  }

  const extra = Object.keys(fields).filter((f) => !isExempt(f) && !covered.has(f));
  if (extra.length > 0) throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  return { expiration, contentLengthRange: range };
}

/** Checks a known body size against the policy's content-length-range. */
export function checkContentLength(size: number, range: ContentLengthRange | undefined): void {
  if (!range) return;
  if (size > range.max) {
    throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { extra: { ProposedSize: String(size), MaxSizeAllowed: String(range.max) } });
  }
  if (size < range.min) {
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { extra: { ProposedSize: String(size), MinSizeAllowed: String(range.min) } });
  }
}

/**
 * Pass-through that enforces a content-length-range while the file streams: errors with
 * EntityTooLarge as soon as more than `max` bytes went by, EntityTooSmall at the end.
 */
export class ContentLengthRangeCheck extends Transform {
  private seen = 0;
  constructor(private readonly range: ContentLengthRange) {
    super();
  }
  get bytes(): number {
    return this.seen;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.range.max) {
      cb(new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { extra: { MaxSizeAllowed: String(this.range.max) } }));
      return;
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    try {
      checkContentLength(this.seen, this.range);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}
