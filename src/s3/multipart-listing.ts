/**
 * ListParts and ListMultipartUploads.
 *
 * ListMultipartUploads orders uploads by key, then by initiation (upload ids sort by
 * creation time). key-marker alone lists keys after it; with upload-id-marker it lists
 * the later uploads of that key too. With a delimiter, keys roll up into CommonPrefixes,
 * which count against max-uploads like uploads do. It reads every upload document of the
 * bucket (staging is per bucket), which is fine for the few in-progress uploads a bucket has.
 */
import { S3Error } from '../server/errors.js';
import type { Handler, RequestContext } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml, type XmlNode } from '../server/xml.js';
import { uriEncode } from '../auth/sigv4.js';
import { multipartStoreOf, type PartRecord, type UploadDoc } from '../storage/posix/multipart-store.js';
import { checksumFieldName } from './checksums.js';
import { uploadIdOf } from './multipart.js';
import { ownerOf } from './owner.js';

const MAX_LIST = 1000;

/** A non-negative integer query/header value; capped at `cap`. */
export function parseCount(v: string | null | undefined, name: string, fallback: number, cap = MAX_LIST): number {
  if (v === null || v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { extra: { ArgumentName: name, ArgumentValue: v } });
  }
  return Math.min(Number(v), cap);
}

function encoder(ctx: RequestContext): (s: string) => string {
  const t = ctx.query.get('encoding-type');
  if (t === null) return (s) => s;
  if (t.toLowerCase() !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { extra: { ArgumentName: 'encoding-type', ArgumentValue: t } });
  return (s) => uriEncode(s, true);
}

export function partXml(p: Pick<PartRecord, 'number' | 'size' | 'checksum' | 'checksumAlgorithm'> & { etag?: string; lastModified?: string }): XmlNode {
  const x: XmlNode = { PartNumber: p.number };
  if (p.lastModified) x.LastModified = new Date(p.lastModified);
  if (p.etag) x.ETag = `"${p.etag}"`;
  x.Size = p.size;
  if (p.checksum && p.checksumAlgorithm) x[checksumFieldName(p.checksumAlgorithm)] = p.checksum;
  return x;
}

function person(doc: UploadDoc): XmlNode {
  return { ID: doc.initiator.id, DisplayName: doc.initiator.displayName };
}

export const listParts: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const uploadId = uploadIdOf(ctx);
  const maxParts = parseCount(ctx.query.get('max-parts'), 'max-parts', MAX_LIST);
  const marker = parseCount(ctx.query.get('part-number-marker'), 'part-number-marker', 0, Number.MAX_SAFE_INTEGER);
  const store = multipartStoreOf(ctx.services.backend);
  const doc = await store.get(bucket, key, uploadId);
  const numbers = (await store.partNumbers(bucket, uploadId)).filter((n) => n > marker);
  const page: PartRecord[] = [];
  for (const n of numbers.slice(0, maxParts)) {
    const rec = await store.readPart(bucket, uploadId, n);
    if (rec) page.push(rec);
  }
  const truncated = numbers.length > maxParts;
  const enc = encoder(ctx);
  const body: XmlNode = {
    Bucket: bucket,
    Key: enc(key),
    UploadId: uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length ? page[page.length - 1].number : marker,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: page.map(partXml),
    Initiator: person(doc),
    Owner: { ...ownerOf(ctx.services.settings.rootUser) },
    StorageClass: doc.meta.storageClass ?? 'STANDARD',
    ChecksumAlgorithm: doc.checksumAlgorithm,
    ChecksumType: doc.checksumType,
    EncodingType: ctx.query.get('encoding-type') ? 'url' : undefined,
  };
  return xmlResult(toXml('ListPartsResult', body));
};

export const listMultipartUploads: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  const enc = encoder(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  // S3 ignores upload-id-marker without key-marker
  const idMarker = keyMarker ? ctx.query.get('upload-id-marker') ?? '' : '';
  const maxUploads = parseCount(ctx.query.get('max-uploads'), 'max-uploads', MAX_LIST);

  const all = await multipartStoreOf(ctx.services.backend).listUploads(bucket);
  const uploads: UploadDoc[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let nextKey: string | undefined;
  let nextId: string | undefined;
  for (const u of all) {
    if (!u.key.startsWith(prefix)) continue;
    if (keyMarker && (u.key < keyMarker || (u.key === keyMarker && (!idMarker || u.uploadId <= idMarker)))) continue;
    let rolled: string | undefined;
    if (delimiter) {
      const i = u.key.indexOf(delimiter, prefix.length);
      if (i >= 0) rolled = u.key.slice(0, i + delimiter.length);
    }
    if (rolled !== undefined && (rolled === prefixes[prefixes.length - 1] || (keyMarker && rolled <= keyMarker))) continue;
    if (uploads.length + prefixes.length >= maxUploads) { truncated = true; break; }
    if (rolled !== undefined) {
      prefixes.push(rolled);
      nextKey = rolled;
      nextId = undefined;
    } else {
      uploads.push(u);
      nextKey = u.key;
      nextId = u.uploadId;
    }
  }
  const owner = ownerOf(ctx.services.settings.rootUser);
  const body: XmlNode = {
    Bucket: bucket,
    KeyMarker: enc(keyMarker),
    UploadIdMarker: idMarker,
    NextKeyMarker: truncated && nextKey !== undefined ? enc(nextKey) : undefined,
    NextUploadIdMarker: truncated && nextId !== undefined ? nextId : undefined,
    Delimiter: delimiter ? enc(delimiter) : undefined,
    Prefix: enc(prefix),
    MaxUploads: maxUploads,
    IsTruncated: truncated,
    EncodingType: ctx.query.get('encoding-type') ? 'url' : undefined,
    Upload: uploads.map((u) => ({
      Key: enc(u.key),
      UploadId: u.uploadId,
      Initiator: person(u),
      Owner: { ...owner },
      StorageClass: u.meta.storageClass ?? 'STANDARD',
      Initiated: new Date(u.initiated),
      ChecksumAlgorithm: u.checksumAlgorithm,
      ChecksumType: u.checksumType,
    })),
    CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
  };
  return xmlResult(toXml('ListMultipartUploadsResult', body));
};
