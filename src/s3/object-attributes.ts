/**
 * GetObjectAttributes: the attributes named in x-amz-object-attributes (ETag, Checksum,
 * ObjectParts, StorageClass, ObjectSize), in a GetObjectAttributesResponse document
 * with Last-Modified. ObjectParts is only present for multipart objects, paged with
 * x-amz-max-parts / x-amz-part-number-marker; part checksums appear when the upload
 * had a checksum algorithm.
 */
import { S3Error } from '../server/errors.js';
import type { Handler, RequestContext } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml, type XmlNode } from '../server/xml.js';
import { checksumFieldName } from './checksums.js';
import { checkReadConditions } from './conditions.js';
import { parseCount, partXml } from './multipart-listing.js';
import { httpDate } from './object-headers.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

function requestedAttributes(ctx: RequestContext): Set<Attribute> {
  const raw = ctx.req.headers['x-amz-object-attributes'];
  const names = (Array.isArray(raw) ? raw.join(',') : raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new S3Error('InvalidArgument', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty', { extra: { ArgumentName: 'x-amz-object-attributes' } });
  const out = new Set<Attribute>();
  for (const n of names) {
    const a = ATTRIBUTES.find((x) => x.toLowerCase() === n.toLowerCase());
    if (!a) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { extra: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: n } });
    out.add(a);
  }
  return out;
}

export const getObjectAttributes: Handler = async (ctx) => {
  const { bucket, key } = ctx as Required<RequestContext>;
  const want = requestedAttributes(ctx);
  const h = ctx.req.headers;
  const maxParts = parseCount(h['x-amz-max-parts'] as string | undefined, 'x-amz-max-parts', 1000);
  const marker = parseCount(h['x-amz-part-number-marker'] as string | undefined, 'x-amz-part-number-marker', 0, Number.MAX_SAFE_INTEGER);
  const meta = await ctx.services.backend.headObject(bucket, key);
  checkReadConditions(h, meta);
  const body: XmlNode = {};
  if (want.has('ETag')) body.ETag = meta.etag;
  if (want.has('Checksum') && meta.checksum) {
    body.Checksum = { [checksumFieldName(meta.checksum.algorithm)]: meta.checksum.value, ChecksumType: meta.checksum.type };
  }
  if (want.has('ObjectParts') && meta.parts?.length) {
    const after = meta.parts.filter((p) => p.number > marker);
    const page = after.slice(0, maxParts);
    const alg = meta.checksum?.algorithm;
    body.ObjectParts = {
      PartsCount: meta.parts.length, // the XML name of TotalPartsCount
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length ? page[page.length - 1].number : marker,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: page.map((p) => partXml({ number: p.number, size: p.size, checksum: p.checksum, checksumAlgorithm: alg })),
    };
  }
  if (want.has('StorageClass')) body.StorageClass = meta.storageClass ?? 'STANDARD';
  if (want.has('ObjectSize')) body.ObjectSize = meta.size;
  return xmlResult(toXml('GetObjectAttributesResponse', body), 200, { 'last-modified': httpDate(meta.lastModified) });
};
