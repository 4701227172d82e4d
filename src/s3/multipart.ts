/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy and
 * AbortMultipartUpload (CompleteMultipartUpload is in multipart-complete.ts, the
 * listings in multipart-listing.ts; staging in storage/posix/multipart-store.ts).
 *
 * Checksums: an upload created with x-amz-checksum-algorithm gets that checksum
 * computed on every part by the server (and verified when the client sends it, in a
 * header or an aws-chunked trailer); a part carrying a different algorithm is refused
 * as S3 does. An upload created without one still verifies whatever checksum a part
 * carries, but the object gets no checksum.
 */
import { Readable } from 'node:stream';
import { S3Error } from '../server/errors.js';
import type { Handler, HandlerResult, RequestContext } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml, type XmlNode } from '../server/xml.js';
import type { ChecksumAlgorithm } from '../storage/backend.js';
import { multipartStoreOf, type ChecksumType, type PartRecord } from '../storage/posix/multipart-store.js';
import {
  DigestingTap, checksumFieldName, checksumHeaderName, defaultChecksumType, parseChecksumAlgorithm, parseChecksumHeaders,
  supportsChecksumType,
} from './checksums.js';
import { checkCopySourceConditions } from './conditions.js';
import { tapInto, verifiedBody } from './verified-body.js';
import { parseCopySource } from './copy-source.js';
import { metaFromHeaders } from './object-headers.js';
import { resolveCopyRange } from './range.js';

/** S3's largest part (and largest UploadPartCopy source range). */
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MAX_PART_NUMBER = 10000;

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function uploadIdOf(ctx: RequestContext): string {
  const id = ctx.query.get('uploadId');
  if (!id) throw new S3Error('InvalidArgument', 'This operation needs an uploadId.', { extra: { ArgumentName: 'uploadId' } });
  return id;
}

function partNumberOf(ctx: RequestContext): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { extra: { ArgumentName: 'partNumber', ArgumentValue: raw } });
  }
  return n;
}

/** x-amz-checksum-algorithm / x-amz-checksum-type of CreateMultipartUpload. */
function checksumChoice(ctx: RequestContext): { algorithm?: ChecksumAlgorithm; type?: ChecksumType } {
  const algHeader = header(ctx, 'x-amz-checksum-algorithm');
  const typeHeader = header(ctx, 'x-amz-checksum-type');
  if (algHeader === undefined) {
    if (typeHeader !== undefined) throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return {};
  }
  const algorithm = parseChecksumAlgorithm(algHeader);
  if (!algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  let type = defaultChecksumType(algorithm);
  if (typeHeader !== undefined) {
    const t = typeHeader.trim().toUpperCase();
    if (t !== 'FULL_OBJECT' && t !== 'COMPOSITE') throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
    type = t;
  }
  if (!supportsChecksumType(algorithm, type)) throw new S3Error('InvalidRequest', `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  return { algorithm, type };
}

export const createMultipartUpload: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const meta = metaFromHeaders(ctx.req.headers);
  const { algorithm, type } = checksumChoice(ctx);
  await ctx.services.backend.headBucket(bucket);
  const who = ctx.principal.username || ctx.principal.accessKey || 'anonymous';
  const doc = await multipartStoreOf(ctx.services.backend).create({
    bucket, key, meta, checksumAlgorithm: algorithm, checksumType: type, initiator: { id: ctx.principal.userId || who, displayName: who },
  });
  const headers: HandlerResult['headers'] = {};
  if (algorithm) { headers['x-amz-checksum-algorithm'] = algorithm; headers['x-amz-checksum-type'] = type; }
  return xmlResult(toXml('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: doc.uploadId }), 200, headers);
};

/** The algorithm a part of this upload is hashed with; refuses a mismatching request checksum. */
function partAlgorithm(uploadAlg: ChecksumAlgorithm | undefined, requested: ChecksumAlgorithm | undefined): ChecksumAlgorithm | undefined {
  if (uploadAlg && requested && requested !== uploadAlg) {
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${uploadAlg.toLowerCase()}, actual checksum Type: ${requested.toLowerCase()}`);
  }
  return uploadAlg ?? requested;
}

function recordFrom(tap: DigestingTap): Pick<PartRecord, 'etag' | 'checksum' | 'checksumAlgorithm'> {
  const r = tap.result;
  return { etag: r.md5.toString('hex'), checksum: r.checksum?.base64, checksumAlgorithm: r.checksum?.algorithm };
}

export const uploadPart: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const uploadId = uploadIdOf(ctx);
  const number = partNumberOf(ctx);
  const length = Number(header(ctx, 'x-amz-decoded-content-length') ?? header(ctx, 'content-length') ?? 0);
  if (length > MAX_PART_SIZE) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed part size (5 GiB).');
  const store = multipartStoreOf(ctx.services.backend);
  const doc = await store.get(bucket, key, uploadId);
  const alg = partAlgorithm(doc.checksumAlgorithm, parseChecksumHeaders(ctx.req.headers)?.algorithm);
  const { stream, tap } = verifiedBody(ctx, alg);
  const part = await store.putPart(bucket, uploadId, number, stream, () => recordFrom(tap));
  const headers: HandlerResult['headers'] = { etag: `"${part.etag}"` };
  if (part.checksum && part.checksumAlgorithm) headers[checksumHeaderName(part.checksumAlgorithm)] = part.checksum;
  return { headers };
};

export const uploadPartCopy: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const backend = ctx.services.backend;
  const uploadId = uploadIdOf(ctx);
  const number = partNumberOf(ctx);
  const src = parseCopySource(header(ctx, 'x-amz-copy-source')!);
  const store = multipartStoreOf(backend);
  const doc = await store.get(bucket, key, uploadId);
  const srcMeta = await backend.headObject(src.bucket, src.key);
  checkCopySourceConditions(ctx.req.headers, srcMeta);
  const range = resolveCopyRange(header(ctx, 'x-amz-copy-source-range'), srcMeta.size);
  const length = range ? range.end - range.start + 1 : srcMeta.size;
  if (length > MAX_PART_SIZE) throw new S3Error('InvalidRequest', 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120');
  const source = await backend.getObject(src.bucket, src.key, range);
  const body = Buffer.isBuffer(source.body) ? Readable.from([source.body]) : source.body;
  const opened = source.meta;
  if (opened.etag !== srcMeta.etag) {
    body.destroy();
    throw new S3Error('PreconditionFailed', 'The copy source changed while it was being read; retry.');
  }
  const tap = new DigestingTap({ checksum: doc.checksumAlgorithm });
  tapInto(body, tap);
  const part = await store.putPart(bucket, uploadId, number, tap, () => recordFrom(tap));
  const result: XmlNode = { ETag: `"${part.etag}"`, LastModified: new Date(part.lastModified) };
  if (part.checksum && part.checksumAlgorithm) result[checksumFieldName(part.checksumAlgorithm)] = part.checksum;
  return xmlResult(toXml('CopyPartResult', result));
};

export const abortMultipartUpload: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const uploadId = uploadIdOf(ctx);
  const store = multipartStoreOf(ctx.services.backend);
  await store.get(bucket, key, uploadId);
  await store.remove(bucket, uploadId);
  return { status: 204 };
};
