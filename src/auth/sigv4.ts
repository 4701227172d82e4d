/**
 * AWS Signature Version 4: the Authorization header form and the presigned query form.
 * Parsing is separate from verification so the request path can look the access key up
 * in between. Comparison is constant time. The canonical URI is rebuilt from the decoded
 * path with AWS's encoding rules, so clients that escape a little differently still match.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../server/errors.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const MAX_SKEW_MS = 15 * 60 * 1000;
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export type PayloadMode =
  | 'UNSIGNED-PAYLOAD'
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
  | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
  | 'SIGNED';

export interface SigV4Request {
  accessKey: string;
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** x-amz-date value (yyyymmddThhmmssZ) */
  amzDate: string;
  signedAt: Date;
  presigned: boolean;
  /** Presigned: seconds of validity. */
  expires?: number;
  /** What x-amz-content-sha256 said (or the hex hash for SIGNED). */
  payloadMode: PayloadMode;
  payloadHash: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

const signingKeyCache = new Map<string, Buffer>();
/** The derived signing key; cached because it only changes daily per secret. */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\0${date}\0${region}\0${service}`;
  let key = signingKeyCache.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
    if (signingKeyCache.size > 1000) signingKeyCache.clear();
    signingKeyCache.set(id, key);
  }
  return key;
}

/** AWS URI encoding: everything but unreserved characters (and '/' when asked). */
export function uriEncode(s: string, keepSlash: boolean): string {
  let out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  if (keepSlash) out = out.replace(/%2F/g, '/');
  return out;
}

export function canonicalQuery(query: URLSearchParams, skip?: string): string {
  const pairs: [string, string][] = [];
  for (const [k, v] of query) if (k !== skip) pairs.push([uriEncode(k, false), uriEncode(v, false)]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  if (v === undefined) return '';
  return (Array.isArray(v) ? v.join(',') : String(v)).trim().replace(/\s+/g, ' ');
}

export function canonicalRequest(method: string, decodedPath: string, query: URLSearchParams, headers: IncomingHttpHeaders, signedHeaders: string[], payloadHash: string, skipQuery?: string): string {
  const canonHeaders = signedHeaders.map((h) => `${h}:${headerValue(headers, h)}\n`).join('');
  return [method, uriEncode(decodedPath, true), canonicalQuery(query, skipQuery), canonHeaders, signedHeaders.join(';'), payloadHash].join('\n');
}

export function scopeOf(r: Pick<SigV4Request, 'date' | 'region' | 'service'>): string {
  return `${r.date}/${r.region}/${r.service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

/** Constant-time comparison of two hex signatures. */
export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return isNaN(d.getTime()) ? undefined : d;
}

function parseCredential(value: string, errorCode: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError') {
  // access keys may contain '/', so split from the right
  const parts = value.split('/');
  if (parts.length < 5 || parts[parts.length - 1] !== 'aws4_request') {
    throw new S3Error(errorCode, `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  const service = parts[parts.length - 2];
  const region = parts[parts.length - 3];
  const date = parts[parts.length - 4];
  const accessKey = parts.slice(0, parts.length - 4).join('/');
  if (!/^\d{8}$/.test(date)) throw new S3Error(errorCode, 'Error parsing the X-Amz-Credential parameter; incorrect date format. This date in the credential must be in the format "yyyyMMdd".');
  return { accessKey, date, region, service };
}

function payloadModeOf(value: string | undefined): { payloadMode: PayloadMode; payloadHash: string } | undefined {
  if (value === undefined) return undefined;
  switch (value) {
    case 'UNSIGNED-PAYLOAD':
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { payloadMode: value, payloadHash: value };
  }
  if (/^[0-9a-f]{64}$/.test(value)) return { payloadMode: 'SIGNED', payloadHash: value };
  throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a lower-case hex SHA-256 digest.');
}

/** Parses `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export function parseAuthorizationHeader(auth: string, headers: IncomingHttpHeaders, now: Date): SigV4Request {
  const rest = auth.slice(ALGORITHM.length).trim();
  const fields: Record<string, string> = {};
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) {
    throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.');
  }
  const cred = parseCredential(fields.Credential, 'AuthorizationHeaderMalformed');
  const amzDate = headerValue(headers, 'x-amz-date');
  let signedAt = parseAmzDate(amzDate);
  if (!signedAt && !amzDate && headers.date) {
    const d = new Date(String(headers.date));
    if (!isNaN(d.getTime())) signedAt = d;
  }
  if (!signedAt) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_SKEW_MS) throw new S3Error('RequestTimeTooSkewed');
  const signedHeaders = fields.SignedHeaders.split(';');
  if (!signedHeaders.includes('host')) throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; SignedHeaders must include host.');
  const payload = payloadModeOf(headers['x-amz-content-sha256'] as string | undefined) ?? { payloadMode: 'SIGNED' as const, payloadHash: '' };
  return {
    ...cred,
    signedHeaders,
    signature: fields.Signature,
    amzDate: amzDate || toAmzDate(signedAt),
    signedAt,
    presigned: false,
    ...payload,
  };
}

/** Parses the X-Amz-* query parameters of a presigned URL and checks expiry. */
export function parsePresignedQuery(query: URLSearchParams, headers: IncomingHttpHeaders, now: Date): SigV4Request {
  const algorithm = query.get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date') ?? '';
  const expiresRaw = query.get('X-Amz-Expires');
  const signedHeadersRaw = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (!credential || !amzDate || !expiresRaw || !signedHeadersRaw || !signature) {
    throw new S3Error('AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  const cred = parseCredential(credential, 'AuthorizationQueryParametersError');
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (!/^\d+$/.test(expiresRaw)) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  const expires = Number(expiresRaw);
  if (expires < 1) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be non-negative');
  if (expires > MAX_PRESIGN_SECONDS) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  if (signedAt.getTime() - now.getTime() > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  if (now.getTime() > signedAt.getTime() + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  const signedHeaders = signedHeadersRaw.split(';');
  const payload = payloadModeOf(query.get('X-Amz-Content-Sha256') ?? (headers['x-amz-content-sha256'] as string | undefined)) ?? { payloadMode: 'UNSIGNED-PAYLOAD' as const, payloadHash: 'UNSIGNED-PAYLOAD' };
  return { ...cred, signedHeaders, signature, amzDate, signedAt, presigned: true, expires, ...payload };
}

export function toAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * Verifies the signature. `payloadHash` overrides the parsed one when the caller hashed
 * the body itself (requests without x-amz-content-sha256, e.g. STS and IAM form posts).
 * Returns the signing key (needed to check streaming chunk signatures).
 */
export function verifySigV4(r: SigV4Request, secret: string, method: string, decodedPath: string, query: URLSearchParams, headers: IncomingHttpHeaders, payloadHash?: string): Buffer {
  const hash = payloadHash ?? r.payloadHash;
  const canonical = canonicalRequest(method, decodedPath, query, headers, r.signedHeaders, hash, r.presigned ? 'X-Amz-Signature' : undefined);
  const key = deriveSigningKey(secret, r.date, r.region, r.service);
  const expected = createHmac('sha256', key).update(stringToSign(r.amzDate, scopeOf(r), canonical)).digest('hex');
  if (!signaturesEqual(expected, r.signature)) throw new S3Error('SignatureDoesNotMatch');
  return key;
}

/** Client side: signs a request (used by the admin CLI, the bench tool and tests). */
export function signRequest(opts: { method: string; url: URL; /** path as sent, when URL would normalise it */ rawPath?: string; headers: Record<string, string>; body?: Buffer | string; accessKey: string; secretKey: string; region: string; service: string; now?: Date; payloadHash?: string }): Record<string, string> {
  const now = opts.now ?? new Date();
  const amzDate = toAmzDate(now);
  const payloadHash = opts.payloadHash ?? sha256Hex(opts.body ?? '');
  const headers: Record<string, string> = { ...opts.headers, host: opts.url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  const lower: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const signedHeaders = Object.keys(lower).sort();
  const date = amzDate.slice(0, 8);
  const canonical = canonicalRequest(opts.method, decodeURIComponent(opts.rawPath ?? opts.url.pathname), opts.url.searchParams, lower, signedHeaders, payloadHash);
  const scope = `${date}/${opts.region}/${opts.service}/aws4_request`;
  const sig = createHmac('sha256', deriveSigningKey(opts.secretKey, date, opts.region, opts.service)).update(stringToSign(amzDate, scope, canonical)).digest('hex');
  headers.authorization = `${ALGORITHM} Credential=${opts.accessKey}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
  return headers;
}
