/**
 * Tag sets: the x-amz-tagging header (URL-encoded query form) and the Tagging XML, with
 * S3's limits (10 object tags / 50 bucket tags, key <= 128, value <= 256 characters,
 * unique keys, no aws: prefix).
 */
import { S3Error } from '../server/errors.js';
import { asArray, parseXml, toXml } from '../server/xml.js';

export function validateTags(tags: [string, string][], max: number): Record<string, string> {
  if (tags.length > max) throw new S3Error('InvalidTag', `Object tags cannot be greater than ${max}`);
  const out: Record<string, string> = {};
  for (const [k, v] of tags) {
    if (!k || [...k].length > 128) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if ([...v].length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
    if (k.toLowerCase().startsWith('aws:')) throw new S3Error('InvalidTag', 'System tags cannot be added/updated by requester');
    if (k in out) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    out[k] = v;
  }
  return out;
}

export function parseTagging(header: string): Record<string, string> {
  const params = new URLSearchParams(header);
  return validateTags([...params.entries()], 10);
}

export function parseTaggingXml(body: Buffer, max: number): Record<string, string> {
  const doc = parseXml(body);
  const tagging = doc.Tagging;
  if (!tagging || typeof tagging !== 'object') throw new S3Error('MalformedXML');
  const set = tagging.TagSet ?? {};
  const tags = asArray(set === '' ? undefined : set.Tag).map((t: any) => {
    if (!t || typeof t !== 'object' || t.Key === undefined) throw new S3Error('MalformedXML');
    return [String(t.Key), t.Value === undefined ? '' : String(t.Value)] as [string, string];
  });
  return validateTags(tags, max);
}

export function taggingXml(tags: Record<string, string>): string {
  return toXml('Tagging', { TagSet: { Tag: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } });
}
