/**
 * AWS Signature Version 2, for older clients (s3cmd, some backup tools):
 * `Authorization: AWS <AccessKey>:<Signature>` and the presigned query form
 * (`AWSAccessKeyId`, `Expires`, `Signature`).
 *
 * StringToSign = Method \n Content-MD5 \n Content-Type \n Date \n
 *                CanonicalizedAmzHeaders CanonicalizedResource
 * Date is the Date header, empty when x-amz-date is sent (x-amz-date is then among the
 * amz headers), and the Expires value for presigned URLs. Signature =
 * base64(HMAC-SHA1(secret, StringToSign)).
 *
 * CanonicalizedResource is "/bucket" for virtual-host requests (nothing for path style,
 * where the bucket is already in the path) + the path exactly as received (not decoded)
 * + the signed sub-resources, sorted, with decoded values. Which query parameters count as
 * sub-resources is not negotiated: a client signs the ones on its own list. We use the
 * union of the lists S3 documents and the ones botocore/s3cmd/MinIO use, so the common
 * clients match; a client that does not sign one of these would not match if it sends it.
 *
 * Parsing is separate from verification so the caller can look the access key up in
 * between. Duplicate x-amz-* headers must come as arrays (pass `req.headersDistinct`, or
 * headers where repeated x-amz-* values are string[]), since AWS joins them with ",".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from '../server/errors.js';

/** Query parameters that are part of the signed resource. */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'delete', 'encryption', 'inventory', 'legal-hold', 'lifecycle', 'location',
  'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment', 'restore',
  'retention', 'select', 'select-type', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions',
  'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires',
]);

/** How far a header-signed request's Date may be from our clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

export interface SigV2Request {
  accessKey: string;
  /** base64 signature as sent. */
  signature: string;
  stringToSign: string;
  /**
   * With x-amz-date, AWS's own DELETE example signs the x-amz-date value in the Date slot
   * (and not as an amz header) while the text and the clients sign an empty Date plus the
   * header. Both are accepted; this is the example's form.
   */
  alternateStringToSign?: string;
  presigned: boolean;
  /** Presigned: when the URL stops being valid. */
  expires?: Date;
  /** Header form: the Date / x-amz-date the request was signed at. */
  signedAt?: Date;
}

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string {
  const v = headers[name];
  if (v === undefined) return '';
  return (Array.isArray(v) ? v[0] ?? '' : v).trim();
}

/** True when the request uses SigV2 (header or query) rather than SigV4 or anonymous. */
export function isSigV2Request(headers: Headers, query: URLSearchParams): boolean {
  const auth = single(headers, 'authorization');
  return auth.startsWith('AWS ') || (query.has('Signature') && query.has('AWSAccessKeyId'));
}

function canonicalAmzHeaders(headers: Headers, skip?: string): string {
  const byName = new Map<string, string[]>();
  for (const [h, v] of Object.entries(headers)) {
    const name = h.toLowerCase();
    if (v === undefined || !name.startsWith('x-amz-') || name === skip) continue;
    // Unfold folded values and trim around the colon.
    const values = (Array.isArray(v) ? v : [v]).map((x) => x.replace(/\s*\r?\n\s*/g, ' ').trim());
    byName.set(name, [...(byName.get(name) ?? []), ...values]);
  }
  return [...byName.keys()].sort().map((name) => `${name}:${byName.get(name)!.join(',')}\n`).join('');
}

function canonicalResource(rawPath: string, query: URLSearchParams, virtualHostBucket?: string): string {
  const q = rawPath.indexOf('?');
  const path = q === -1 ? rawPath : rawPath.slice(0, q);
  let res = virtualHostBucket ? `/${virtualHostBucket}${path}` : path;
  // "?acl" and "?acl=" both sign as "acl": a value-less sub-resource has no "=".
  const subs: [string, string][] = [];
  for (const [k, v] of query) if (SIGNED_SUBRESOURCES.has(k)) subs.push([k, v]);
  if (subs.length > 0) {
    subs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    res += '?' + subs.map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join('&');
  }
  return res;
}

function parseHttpDate(s: string): Date | undefined {
  if (!s) return undefined;
  // RFC 1123 (what V2 clients send), or ISO 8601 basic as some send in x-amz-date.
  const iso = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  const t = iso ? Date.UTC(+iso[1]!, +iso[2]! - 1, +iso[3]!, +iso[4]!, +iso[5]!, +iso[6]!) : Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * Parses a SigV2 request. `rawPath` is the request target as received (undecoded; a query
 * part is ignored), `query` its decoded parameters, `headers` lower-case names.
 * `virtualHostBucket` is the bucket taken from the Host header, if any.
 */
export function parseSigV2(method: string, rawPath: string, query: URLSearchParams, headers: Headers, virtualHostBucket?: string, now: Date = new Date()): SigV2Request {
  const auth = single(headers, 'authorization');
  const resource = canonicalResource(rawPath, query, virtualHostBucket);
  const amz = canonicalAmzHeaders(headers);
  const head = `${method.toUpperCase()}\n${single(headers, 'content-md5')}\n${single(headers, 'content-type')}\n`;

  if (auth.startsWith('AWS ')) {
    const cred = auth.slice(4).trim();
    const colon = cred.lastIndexOf(':');
    if (colon <= 0 || colon === cred.length - 1) {
      throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', { extra: { ArgumentName: 'Authorization', ArgumentValue: auth } });
    }
    const amzDate = single(headers, 'x-amz-date');
    const date = single(headers, 'date');
    const signedAt = parseHttpDate(amzDate || date);
    if (!signedAt) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_SKEW_MS) {
      throw new S3Error('RequestTimeTooSkewed', undefined, { extra: { RequestTime: amzDate || date, ServerTime: now.toISOString(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) } });
    }
    return {
      accessKey: cred.slice(0, colon),
      signature: cred.slice(colon + 1),
      stringToSign: `${head}${amzDate ? '' : date}\n${amz}${resource}`,
      alternateStringToSign: amzDate ? `${head}${amzDate}\n${canonicalAmzHeaders(headers, 'x-amz-date')}${resource}` : undefined,
      presigned: false,
      signedAt,
    };
  }

  const accessKey = query.get('AWSAccessKeyId');
  const signature = query.get('Signature');
  const expiresRaw = query.get('Expires');
  if (accessKey === null && signature === null) throw new Error('parseSigV2: request is not SigV2-signed');
  if (!accessKey || !signature || !expiresRaw) {
    throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^\d{1,12}$/.test(expiresRaw)) {
    throw new S3Error('AccessDenied', 'Invalid date (should be seconds since epoch): ' + expiresRaw);
  }
  const expires = new Date(Number(expiresRaw) * 1000);
  if (now.getTime() > expires.getTime()) {
    throw new S3Error('AccessDenied', 'Request has expired', { extra: { Expires: expires.toISOString(), ServerTime: now.toISOString() } });
  }
  return {
    accessKey,
    signature,
    stringToSign: `${head}${expiresRaw}\n${amz}${resource}`,
    presigned: true,
    expires,
  };
}

/** base64(HMAC-SHA1(secret, stringToSign)). */
export function signV2(stringToSign: string, secret: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/** Checks the signature in constant time; throws SignatureDoesNotMatch otherwise. */
export function verifySigV2(parsed: SigV2Request, secret: string): void {
  const given = Buffer.from(parsed.signature, 'base64');
  const candidates = [parsed.stringToSign, ...(parsed.alternateStringToSign ? [parsed.alternateStringToSign] : [])];
  let ok = false;
  for (const sts of candidates) {
    const expected = createHmac('sha1', secret).update(sts, 'utf8').digest();
    // Both candidates are always compared, so timing does not tell which form matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  if (!ok) {
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      extra: { AWSAccessKeyId: parsed.accessKey, StringToSign: parsed.stringToSign, SignatureProvided: parsed.signature },
    });
  }
}
