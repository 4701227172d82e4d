/** Object handlers: PutObject, GetObject, HeadObject, DeleteObject, CopyObject. */
import { S3Error } from '../server/errors.js';
import type { Handler, HandlerResult, RequestContext } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml } from '../server/xml.js';
import type { NewObjectMeta, ObjectMeta } from '../storage/backend.js';
import { checksumHeaderName } from './checksums.js';
import { verifiedBody } from './verified-body.js';
import { checkCopySourceConditions, checkReadConditions, writeConditions } from './conditions.js';
import { parseCopySource } from './copy-source.js';
import { metaFromHeaders, objectResponseHeaders } from './object-headers.js';
import { resolveRange, type ByteRange } from './range.js';
import { parseTagging } from './tags.js';

export const MAX_PUT_SIZE = 5 * 1024 ** 3;

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function objectEvent(name: string, bucket: string, key: string, meta: ObjectMeta) {
  return { name, bucket, key, size: meta.size, etag: meta.etag, contentType: meta.contentType, userMetadata: meta.userMeta };
}

export const putObject: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const length = Number(header(ctx, 'x-amz-decoded-content-length') ?? header(ctx, 'content-length') ?? 0);
  if (length > MAX_PUT_SIZE) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size for a single PUT (5 GiB); use a multipart upload.');
  const meta = metaFromHeaders(ctx.req.headers);
  const conditions = writeConditions(ctx.req.headers);
  const { stream, tap } = verifiedBody(ctx);
  const stored = await ctx.services.backend.putObject(bucket, key, stream, () => {
    const r = tap.result;
    return {
      ...meta,
      etag: r.md5.toString('hex'),
      checksum: r.checksum ? { algorithm: r.checksum.algorithm, value: r.checksum.base64, type: 'FULL_OBJECT' } : undefined,
    };
  }, conditions);
  const headers: HandlerResult['headers'] = { etag: `"${stored.etag}"` };
  if (stored.checksum) {
    headers[checksumHeaderName(stored.checksum.algorithm)] = stored.checksum.value;
    headers['x-amz-checksum-type'] = stored.checksum.type;
  }
  return { headers, events: [objectEvent('s3:ObjectCreated:Put', bucket, key, stored)] };
};

/** partNumber reads: the byte range of one part of a multipart object. */
function partRange(meta: ObjectMeta, partNumber: string): ByteRange | undefined {
  const n = Number(partNumber);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { extra: { ArgumentName: 'partNumber', ArgumentValue: partNumber } });
  if (!meta.parts?.length) {
    if (n === 1) return meta.size > 0 ? { start: 0, end: meta.size - 1 } : undefined;
    throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', { status: 416 });
  }
  if (n > meta.parts.length) throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', { status: 416 });
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += meta.parts[i].size;
  return { start, end: start + meta.parts[n - 1].size - 1 };
}

async function readObject(ctx: RequestContext, head: boolean): Promise<HandlerResult> {
  const { bucket, key } = ctx as Required<RequestContext>;
  const backend = ctx.services.backend;
  const partNumber = ctx.query.get('partNumber');
  const rangeHeader = header(ctx, 'range');
  if (partNumber !== null && rangeHeader) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  /** Conditions, range and response headers, from the metadata of the object served. */
  const prepare = (meta: ObjectMeta) => {
    checkReadConditions(ctx.req.headers, meta);
    const range = partNumber !== null ? partRange(meta, partNumber) : resolveRange(rangeHeader, meta.size);
    const wholeObject = !range || (range.start === 0 && range.end === meta.size - 1 && partNumber === null);
    const withChecksum = header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && wholeObject;
    const headers: HandlerResult['headers'] = objectResponseHeaders(meta, ctx.query, withChecksum);
    if (partNumber !== null && meta.parts?.length) headers['x-amz-mp-parts-count'] = meta.parts.length;
    else if (partNumber === null) delete headers['x-amz-mp-parts-count'];
    const status = range && (rangeHeader || (partNumber !== null && meta.parts?.length)) ? 206 : 200;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${meta.size}`;
    headers['content-length'] = range ? range.end - range.start + 1 : meta.size;
    return { range, headers, status };
  };
  if (head) {
    const meta = await backend.headObject(bucket, key);
    const { status, headers } = prepare(meta);
    return { status, headers, events: [objectEvent('s3:ObjectAccessed:Head', bucket, key, meta)] };
  }
  // one open: the metadata, the conditions and the bytes all belong to the same file
  let prepared!: ReturnType<typeof prepare>;
  const { body, meta } = await backend.getObject(bucket, key, (m) => { prepared = prepare(m); return prepared.range; });
  return { status: prepared.status, headers: prepared.headers, body, events: [objectEvent('s3:ObjectAccessed:Get', bucket, key, meta)] };
}

export const getObject: Handler = (ctx) => readObject(ctx, false);
export const headObject: Handler = (ctx) => readObject(ctx, true);

export const deleteObject: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  await ctx.services.backend.deleteObject(bucket, key);
  return { status: 204, events: [{ name: 's3:ObjectRemoved:Delete', bucket, key }] };
};

export const copyObject: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const backend = ctx.services.backend;
  const src = parseCopySource(header(ctx, 'x-amz-copy-source')!);
  const metaDirective = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  const tagDirective = (header(ctx, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  if (!['COPY', 'REPLACE'].includes(metaDirective)) throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { extra: { ArgumentName: 'x-amz-metadata-directive' } });
  if (!['COPY', 'REPLACE'].includes(tagDirective)) throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { extra: { ArgumentName: 'x-amz-tagging-directive' } });
  const srcMeta = await backend.headObject(src.bucket, src.key);
  checkCopySourceConditions(ctx.req.headers, srcMeta);
  if (srcMeta.size > MAX_PUT_SIZE) throw new S3Error('InvalidRequest', 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120');
  const replacing = metaFromHeaders(ctx.req.headers);
  const build = (m: ObjectMeta): NewObjectMeta => {
    const base: NewObjectMeta = metaDirective === 'REPLACE'
      ? { ...replacing, etag: m.etag, tags: m.tags, checksum: m.checksum, parts: m.parts }
      : { etag: m.etag, contentType: m.contentType, contentEncoding: m.contentEncoding, contentDisposition: m.contentDisposition, contentLanguage: m.contentLanguage, cacheControl: m.cacheControl, expires: m.expires, userMeta: m.userMeta, tags: m.tags, checksum: m.checksum, parts: m.parts, storageClass: replacing.storageClass ?? m.storageClass };
    if (tagDirective === 'REPLACE') base.tags = parseTagging(header(ctx, 'x-amz-tagging') ?? '');
    return base;
  };
  const sameObject = src.bucket === bucket && src.key === key;
  let stored: ObjectMeta;
  if (sameObject) {
    if (metaDirective !== 'REPLACE' && tagDirective !== 'REPLACE' && !ctx.req.headers['x-amz-storage-class']) {
      throw new S3Error('InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
    }
    stored = await backend.updateObjectMeta(bucket, key, build);
  } else {
    stored = await backend.copyObject(src, { bucket, key }, build, writeConditions(ctx.req.headers));
  }
  const result: Record<string, string | Date> = { LastModified: stored.lastModified, ETag: `"${stored.etag}"` };
  if (stored.checksum) { result.ChecksumType = stored.checksum.type; result[`Checksum${stored.checksum.algorithm}`] = stored.checksum.value; }
  return { ...xmlResult(toXml('CopyObjectResult', result)), events: [objectEvent('s3:ObjectCreated:Copy', bucket, key, stored)] };
};
