/**
 * CompleteMultipartUpload: validates the client's part list against the staged parts,
 * computes the multipart ETag and checksum, assembles the object into a temp file and
 * commits it atomically (under If-None-Match / If-Match), then drops the staging.
 *
 * Checks, in S3's order: MalformedXML, InvalidPartOrder (part numbers must strictly
 * ascend), InvalidPart (part missing, ETag or a given part checksum differs),
 * EntityTooSmall (every part but the last at least 5 MiB). A failed completion changes
 * nothing, so the client can fix its list and retry or abort.
 *
 * - ETag: md5 of the concatenated binary part md5s, hex, "-<parts>".
 * - COMPOSITE checksum: checksum of the concatenated raw part checksums, "-<parts>".
 * - FULL_OBJECT checksum: the part CRCs combined into the CRC of the whole object.
 * A part checksum left out of the XML is taken from what the server computed (S3
 * refuses that for COMPOSITE; being lenient costs nothing since the server hashed it).
 * Several uploads completing the same key: each commit is a rename, the last one wins.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { S3Error } from '../server/errors.js';
import type { Handler, RequestContext } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { asArray, parseXml, toXml, type XmlNode } from '../server/xml.js';
import type { ChecksumAlgorithm, NewObjectMeta, StoredChecksum } from '../storage/backend.js';
import { isDirectoryKey } from '../storage/keys.js';
import { multipartStoreOf, type PartRecord, type UploadDoc } from '../storage/posix/multipart-store.js';
import { CHECKSUM_ALGORITHMS, checksumFieldName, checksumHeaderName, combineCrc, compositeChecksum } from './checksums.js';
import { writeConditions } from './conditions.js';
import { MAX_PART_NUMBER, uploadIdOf } from './multipart.js';
import { objectEvent } from './objects.js';
import { etagMatches } from '../storage/posix/backend.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** 10 000 parts with ETags and checksums stay well under this. */
const MAX_COMPLETE_XML = 8 * 1024 * 1024;

interface RequestedPart {
  number: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

function parsePartList(body: Buffer): RequestedPart[] {
  const doc = parseXml(body).CompleteMultipartUpload;
  if (doc === undefined || doc === null || typeof doc !== 'object') throw new S3Error('MalformedXML');
  const parts = asArray<any>(doc.Part);
  if (parts.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema: at least one Part is required.');
  return parts.map((p) => {
    if (!p || typeof p !== 'object' || typeof p.PartNumber !== 'string' || typeof p.ETag !== 'string') throw new S3Error('MalformedXML');
    if (!/^\d{1,5}$/.test(p.PartNumber) || Number(p.PartNumber) < 1 || Number(p.PartNumber) > MAX_PART_NUMBER) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { extra: { ArgumentName: 'partNumber', ArgumentValue: p.PartNumber } });
    }
    const checksums: RequestedPart['checksums'] = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = p[checksumFieldName(alg)];
      if (typeof v === 'string' && v !== '') checksums[alg] = v;
    }
    return { number: Number(p.PartNumber), etag: p.ETag, checksums };
  });
}

function invalidPart(p: RequestedPart, why: string): S3Error {
  return new S3Error('InvalidPart', `One or more of the specified parts could not be found or did not match (part ${p.number}: ${why}).`, { extra: { PartNumber: String(p.number), ETag: p.etag } });
}

async function matchParts(ctx: RequestContext, doc: UploadDoc, wanted: RequestedPart[]): Promise<PartRecord[]> {
  for (let i = 1; i < wanted.length; i++) {
    if (wanted[i].number <= wanted[i - 1].number) throw new S3Error('InvalidPartOrder');
  }
  const store = multipartStoreOf(ctx.services.backend);
  const records: PartRecord[] = [];
  for (const p of wanted) {
    const rec = await store.readPart(doc.bucket, doc.uploadId, p.number);
    if (!rec) throw invalidPart(p, 'not uploaded');
    if (p.etag.trim() === '*' || !etagMatches(p.etag, rec.etag)) throw invalidPart(p, 'ETag does not match');
    for (const [alg, value] of Object.entries(p.checksums) as [ChecksumAlgorithm, string][]) {
      // only the upload's own algorithm is recorded per part; other algorithms are not known here
      if (rec.checksumAlgorithm === alg && rec.checksum !== value) throw invalidPart(p, `${alg} checksum does not match`);
    }
    records.push(rec);
  }
  for (let i = 0; i < records.length - 1; i++) {
    if (records[i].size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, { extra: { PartNumber: String(records[i].number), ProposedSize: String(records[i].size), MinSizeAllowed: String(MIN_PART_SIZE), ETag: records[i].etag } });
    }
  }
  return records;
}

function multipartEtag(parts: PartRecord[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(Buffer.from(p.etag, 'hex'));
  return `${h.digest('hex')}-${parts.length}`;
}

function objectChecksum(ctx: RequestContext, doc: UploadDoc, parts: PartRecord[]): StoredChecksum | undefined {
  const alg = doc.checksumAlgorithm;
  const typeHeader = ctx.req.headers['x-amz-checksum-type'];
  if (!alg) return undefined;
  const type = doc.checksumType ?? 'COMPOSITE';
  if (typeof typeHeader === 'string' && typeHeader.toUpperCase() !== type) {
    throw new S3Error('InvalidRequest', `The upload was created using the ${type} checksum mode. The complete request must use the same checksum mode.`);
  }
  for (const p of parts) {
    if (p.checksumAlgorithm !== alg || !p.checksum) throw new S3Error('InvalidPart', `Part ${p.number} has no ${alg} checksum.`, { extra: { PartNumber: String(p.number) } });
  }
  const value = type === 'COMPOSITE'
    ? compositeChecksum(alg, parts.map((p) => p.checksum!))
    : combineCrc(alg, parts.map((p) => ({ checksum: p.checksum!, size: p.size }))).toString('base64');
  // a full-object checksum the client computed itself must match
  const claimed = ctx.req.headers[checksumHeaderName(alg)];
  if (typeof claimed === 'string' && claimed.trim() !== value && claimed.trim() !== value.replace(/-\d+$/, '')) {
    throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
  }
  return { algorithm: alg, value, type };
}

function locationOf(ctx: RequestContext, bucket: string, key: string): string {
  const host = String(ctx.req.headers.host ?? 'localhost');
  return `${ctx.secure ? 'https' : 'http'}://${host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export const completeMultipartUpload: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const backend = ctx.services.backend;
  const uploadId = uploadIdOf(ctx);
  const conditions = writeConditions(ctx.req.headers);
  const store = multipartStoreOf(backend);
  const doc = await store.get(bucket, key, uploadId);
  const wanted = parsePartList(await ctx.readBody(MAX_COMPLETE_XML));
  const parts = await matchParts(ctx, doc, wanted);
  const etag = multipartEtag(parts);
  const checksum = objectChecksum(ctx, doc, parts);
  const total = parts.reduce((n, p) => n + p.size, 0);
  if (isDirectoryKey(key) && total > 0) throw new S3Error('InvalidArgument', 'A directory object (a key ending in "/") cannot have content.');

  // fail fast before copying gigabytes; commit() checks again atomically
  if (conditions.ifNoneMatchStar || conditions.ifMatch) {
    const current = await backend.headObject(bucket, key).catch((e) => { if (e instanceof S3Error && e.code === 'NoSuchKey') return undefined; throw e; });
    if (conditions.ifNoneMatchStar && current) throw new S3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-None-Match' } });
    if (conditions.ifMatch && !current) throw new S3Error('NoSuchKey');
    if (conditions.ifMatch && current && !etagMatches(conditions.ifMatch, current.etag)) throw new S3Error('PreconditionFailed', undefined, { extra: { Condition: 'If-Match' } });
  }

  const meta: NewObjectMeta = {
    ...doc.meta,
    etag,
    checksum,
    parts: parts.map((p) => ({ number: p.number, size: p.size, etag: p.etag, checksum: checksum ? p.checksum : undefined })),
  };
  const tmp = await store.assemble(bucket, uploadId, parts);
  let stored;
  try {
    stored = await backend.commit(tmp, bucket, key, meta, conditions);
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await store.remove(bucket, uploadId);

  const result: XmlNode = { Location: locationOf(ctx, bucket, key), Bucket: bucket, Key: key, ETag: `"${etag}"` };
  if (checksum) { result[checksumFieldName(checksum.algorithm)] = checksum.value; result.ChecksumType = checksum.type; }
  return { ...xmlResult(toXml('CompleteMultipartUploadResult', result)), events: [objectEvent('s3:ObjectCreated:CompleteMultipartUpload', bucket, key, stored)] };
};
