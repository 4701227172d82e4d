/**
 * DeleteObjects (POST ?delete): up to 1000 keys, quiet mode, per-key errors. Each key is
 * authorized as s3:DeleteObject on its own, so one denied key does not fail the rest.
 */
import { S3Error, isS3Error } from '../server/errors.js';
import type { Handler } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { asArray, parseXml, toXml, type XmlNode } from '../server/xml.js';
import { assertObjectKey } from '../storage/keys.js';
import type { ObjectEventInfo } from '../events/publisher.js';
import { createHash } from 'node:crypto';
import { parseContentMd5 } from './checksums.js';

export const MAX_DELETE_KEYS = 1000;

export const deleteObjects: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  const raw = await ctx.readBody(2 * 1024 * 1024);
  const md5 = parseContentMd5(ctx.req.headers['content-md5'] as string | undefined);
  if (md5 && !md5.equals(createHash('md5').update(raw).digest())) throw new S3Error('BadDigest');
  const doc = parseXml(raw).Delete;
  if (!doc || typeof doc !== 'object') throw new S3Error('MalformedXML');
  const objects = asArray<any>(doc.Object);
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML', `The request must name between 1 and ${MAX_DELETE_KEYS} objects.`);
  const quiet = String(doc.Quiet ?? 'false').toLowerCase() === 'true';
  await ctx.services.backend.headBucket(bucket);
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  const events: ObjectEventInfo[] = [];
  for (const o of objects) {
    const key = o?.Key === undefined ? undefined : String(o.Key);
    try {
      if (key === undefined) throw new S3Error('MalformedXML');
      if (o.VersionId !== undefined && o.VersionId !== 'null') throw new S3Error('NoSuchVersion');
      assertObjectKey(key);
      await ctx.authorize({ op: 'DeleteObject', key });
      await ctx.services.backend.deleteObject(bucket, key);
      if (!quiet) deleted.push({ Key: key, VersionId: o.VersionId });
      events.push({ name: 's3:ObjectRemoved:Delete', bucket, key });
    } catch (e) {
      if (!isS3Error(e)) throw e;
      errors.push({ Key: key ?? '', VersionId: o?.VersionId, Code: e.code, Message: e.message });
    }
  }
  return { ...xmlResult(toXml('DeleteResult', { Deleted: deleted, Error: errors })), events };
};
