/** The x-amz-copy-source header: "/bucket/key" or "bucket/key", URL-encoded, optional ?versionId=. */
import { S3Error } from '../server/errors.js';
import { assertBucketName, assertObjectKey } from '../storage/keys.js';

export interface CopySource { bucket: string; key: string; versionId?: string }

export function parseCopySource(header: string): CopySource {
  let raw = header.trim();
  let versionId: string | undefined;
  const q = raw.indexOf('?');
  if (q >= 0) {
    versionId = new URLSearchParams(raw.slice(q + 1)).get('versionId') ?? undefined;
    raw = raw.slice(0, q);
  }
  let decoded: string;
  try { decoded = decodeURIComponent(raw); } catch { throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey.'); }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey.', { extra: { ArgumentName: 'x-amz-copy-source' } });
  const bucket = decoded.slice(0, slash);
  const key = decoded.slice(slash + 1);
  assertBucketName(bucket);
  assertObjectKey(key);
  if (versionId !== undefined && versionId !== 'null') throw new S3Error('NoSuchVersion', 'The specified version does not exist (this server keeps no versions).');
  return { bucket, key, versionId };
}
