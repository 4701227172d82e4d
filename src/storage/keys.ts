/**
 * Validation of bucket names and object keys before they reach a path. A key is
 * accepted only if it maps to exactly one path inside its bucket: no '.', '..' or empty
 * segments (a trailing '/' marks a directory object), no NUL, no segment over 255 bytes,
 * at most 1024 bytes in all. Everything runs before authorization, so a request is
 * always authorized against the object it touches.
 */
import { S3Error } from '../server/errors.js';

export const SYS_DIR_NAME = '.s3gate.sys';
export const MAX_KEY_BYTES = 1024;

/** S3 bucket naming rules (the general-purpose bucket rules). */
export function bucketNameError(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'Bucket name must be between 3 and 63 characters long.';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return 'Bucket name can consist only of lowercase letters, numbers, dots (.) and hyphens (-), and must begin and end with a letter or number.';
  if (name.includes('..')) return 'Bucket name must not contain two adjacent periods.';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'Bucket name must not be formatted as an IP address.';
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) return 'Bucket name uses a reserved prefix or suffix.';
  return undefined;
}

export function assertBucketName(name: string): void {
  const err = bucketNameError(name);
  if (err) throw new S3Error('InvalidBucketName', err, { extra: { BucketName: name } });
}

/** Throws a clear S3 error if the key cannot be stored as a path. */
export function assertObjectKey(key: string): void {
  if (key.length === 0) throw new S3Error('InvalidArgument', 'Object key must not be empty.');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
  if (key.includes('\0')) throw new S3Error('InvalidArgument', 'Object key must not contain a NUL character.');
  const body = key.endsWith('/') ? key.slice(0, -1) : key;
  const segments = body.split('/');
  for (const seg of segments) {
    if (seg === '' || seg === '.' || seg === '..') {
      throw new S3Error('InvalidArgument', `Object key "${key}" has an empty, "." or ".." path segment, which cannot be stored as a file.`);
    }
    if (Buffer.byteLength(seg) > 255) throw new S3Error('KeyTooLongError', 'Each "/"-separated part of the object key must be at most 255 bytes.');
  }
  if (segments[0] === SYS_DIR_NAME) throw new S3Error('InvalidArgument', 'Object key uses a reserved name.');
}

export function isDirectoryKey(key: string): boolean {
  return key.endsWith('/');
}
