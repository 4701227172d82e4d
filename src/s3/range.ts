/** The Range header (bytes=a-b, a-, -n) resolved against an object size, as S3 does. */
import { S3Error } from '../server/errors.js';

export interface ByteRange { start: number; end: number }

/** undefined: serve the whole object (no header, or a form S3 ignores such as multiple ranges). */
export function resolveRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw unsatisfiable(size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined; // syntactically invalid: ignored
  }
  if (start >= size || size === 0) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): S3Error {
  return new S3Error('InvalidRange', undefined, { extra: { ActualObjectSize: String(size) }, headers: { 'content-range': `bytes */${size}` } });
}

/** x-amz-copy-source-range: bytes=first-last, both required, within the source. */
export function resolveCopyRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  if (!m) throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy');
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || end >= size) throw new S3Error('InvalidRange', `The requested range is not satisfiable: bytes=${start}-${end} of ${size}.`);
  return { start, end };
}
