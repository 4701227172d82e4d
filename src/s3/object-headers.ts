/**
 * Object metadata in and out of HTTP headers: the standard headers and x-amz-meta-*
 * stored on PUT/COPY/CreateMultipartUpload, and the response headers of GET/HEAD
 * (with the response-* query overrides).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../server/errors.js';
import type { NewObjectMeta, ObjectMeta } from '../storage/backend.js';
import { parseTagging } from './tags.js';

/** S3's limit on user-defined metadata (keys + values of x-amz-meta-*). */
export const MAX_USER_META_BYTES = 2048;

const STANDARD: [header: string, field: keyof ObjectMeta][] = [
  ['content-encoding', 'contentEncoding'],
  ['content-disposition', 'contentDisposition'],
  ['content-language', 'contentLanguage'],
  ['cache-control', 'cacheControl'],
  ['expires', 'expires'],
];

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export function userMetaFromHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const k = name.slice('x-amz-meta-'.length);
    const v = one(value) ?? '';
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    meta[k] = v;
  }
  if (bytes > MAX_USER_META_BYTES) throw new S3Error('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${MAX_USER_META_BYTES} bytes).`);
  return meta;
}

/** Metadata from request headers (PUT, COPY with REPLACE, CreateMultipartUpload). */
export function metaFromHeaders(headers: IncomingHttpHeaders): Omit<NewObjectMeta, 'etag'> {
  let contentType = one(headers['content-type']) || 'binary/octet-stream';
  const meta: Omit<NewObjectMeta, 'etag'> = { contentType, userMeta: userMetaFromHeaders(headers), tags: {} };
  for (const [h, f] of STANDARD) {
    let v = one(headers[h]);
    // aws-chunked is transfer framing, not a stored encoding
    if (h === 'content-encoding' && v) v = v.split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked').join(',') || undefined;
    if (v) (meta as any)[f] = v;
  }
  const tagging = one(headers['x-amz-tagging']);
  if (tagging !== undefined) meta.tags = parseTagging(tagging);
  const sc = one(headers['x-amz-storage-class']);
  if (sc) {
    if (!['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'OUTPOSTS', 'SNOW', 'EXPRESS_ONEZONE'].includes(sc)) throw new S3Error('InvalidStorageClass');
    meta.storageClass = sc;
  }
  contentType = meta.contentType;
  return meta;
}

export function httpDate(d: Date): string {
  return d.toUTCString();
}

/** Headers of GET/HEAD for an object. */
export function objectResponseHeaders(meta: ObjectMeta, query: URLSearchParams, withChecksum: boolean): Record<string, string | number | undefined> {
  const h: Record<string, string | number | undefined> = {
    etag: `"${meta.etag}"`,
    'last-modified': httpDate(meta.lastModified),
    'content-type': meta.contentType,
    'accept-ranges': 'bytes',
    'content-encoding': meta.contentEncoding,
    'content-disposition': meta.contentDisposition,
    'content-language': meta.contentLanguage,
    'cache-control': meta.cacheControl,
    expires: meta.expires,
  };
  if (meta.storageClass && meta.storageClass !== 'STANDARD') h['x-amz-storage-class'] = meta.storageClass;
  for (const [k, v] of Object.entries(meta.userMeta)) h[`x-amz-meta-${k}`] = v;
  const tagCount = Object.keys(meta.tags).length;
  if (tagCount) h['x-amz-tagging-count'] = tagCount;
  if (meta.parts?.length) h['x-amz-mp-parts-count'] = meta.parts.length;
  if (withChecksum && meta.checksum) {
    h[`x-amz-checksum-${meta.checksum.algorithm.toLowerCase()}`] = meta.checksum.value;
    h['x-amz-checksum-type'] = meta.checksum.type;
  }
  for (const [param, header] of [
    ['response-content-type', 'content-type'], ['response-content-language', 'content-language'], ['response-expires', 'expires'],
    ['response-cache-control', 'cache-control'], ['response-content-disposition', 'content-disposition'], ['response-content-encoding', 'content-encoding'],
  ] as const) {
    const v = query.get(param);
    if (v !== null) h[header] = v;
  }
  return h;
}
