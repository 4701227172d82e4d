/**
 * Conditional requests as S3 answers them. GET/HEAD: If-Match / If-Unmodified-Since
 * give 412, If-None-Match / If-Modified-Since give 304, If-Match wins over
 * If-Unmodified-Since and If-None-Match over If-Modified-Since. Copy sources use the
 * x-amz-copy-source-if-* headers and always answer 412.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../server/errors.js';
import type { ObjectMeta } from '../storage/backend.js';
import { etagMatches } from '../storage/posix/backend.js';

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return isNaN(t) ? undefined : t;
}

/** Seconds resolution, as HTTP dates carry. */
const modifiedSec = (m: ObjectMeta) => Math.floor(m.lastModified.getTime() / 1000) * 1000;

function evaluate(meta: ObjectMeta, ifMatch?: string, ifNoneMatch?: string, ifModifiedSince?: string, ifUnmodifiedSince?: string): 'ok' | 'precondition' | 'not-modified' {
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, meta.etag)) return 'precondition';
  } else {
    const t = parseDate(ifUnmodifiedSince);
    if (t !== undefined && modifiedSec(meta) > t) return 'precondition';
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, meta.etag)) return 'not-modified';
  } else {
    const t = parseDate(ifModifiedSince);
    if (t !== undefined && modifiedSec(meta) <= t) return 'not-modified';
  }
  return 'ok';
}

/** GET/HEAD preconditions; throws 412 or a 304 marker (S3Error NotModified). */
export function checkReadConditions(h: IncomingHttpHeaders, meta: ObjectMeta): void {
  const r = evaluate(meta, header(h, 'if-match'), header(h, 'if-none-match'), header(h, 'if-modified-since'), header(h, 'if-unmodified-since'));
  if (r === 'precondition') throw new S3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-Match' } });
  if (r === 'not-modified') throw new S3Error('NotModified', undefined, { headers: { etag: `"${meta.etag}"`, 'last-modified': meta.lastModified.toUTCString() } });
}

/** CopyObject / UploadPartCopy source preconditions: every failure is 412. */
export function checkCopySourceConditions(h: IncomingHttpHeaders, meta: ObjectMeta): void {
  const r = evaluate(meta, header(h, 'x-amz-copy-source-if-match'), header(h, 'x-amz-copy-source-if-none-match'),
    header(h, 'x-amz-copy-source-if-modified-since'), header(h, 'x-amz-copy-source-if-unmodified-since'));
  if (r !== 'ok') throw new S3Error('PreconditionFailed');
}

/** PUT-side conditions: If-None-Match: * (create only) and If-Match. */
export function writeConditions(h: IncomingHttpHeaders): { ifNoneMatchStar?: boolean; ifMatch?: string } {
  const inm = header(h, 'if-none-match');
  if (inm !== undefined && inm.trim() !== '*') throw new S3Error('NotImplemented', 'If-None-Match on writes supports only "*".');
  return { ifNoneMatchStar: inm !== undefined || undefined, ifMatch: header(h, 'if-match') };
}
