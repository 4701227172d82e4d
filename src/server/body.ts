/**
 * The request body as handlers see it: aws-chunked framing removed (chunk signatures
 * checked), and for signed payloads the SHA-256 checked at the end of the stream, so a
 * handler that consumed the whole stream without error got exactly what was signed.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createHash } from 'node:crypto';
import { S3Error } from './errors.js';
import type { AuthInfo } from './context.js';
import { createChunkedDecoder } from '../auth/chunked.js';
import { scopeOf } from '../auth/sigv4.js';

/** Verifies the x-amz-content-sha256 of a signed payload at end of stream. */
class Sha256Check extends Transform {
  private readonly hash = createHash('sha256');
  constructor(private readonly expected: string) { super(); }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const got = this.hash.digest('hex');
    if (got !== this.expected) cb(new S3Error('XAmzContentSHA256Mismatch', undefined, { extra: { ClientComputedContentSHA256: this.expected, S3ComputedContentSHA256: got } }));
    else cb();
  }
}

export interface DecodedBody {
  stream: Readable;
  trailers: () => Record<string, string>;
  /** The decoded length when the client announced it (x-amz-decoded-content-length). */
  declaredLength?: number;
}

export function decodeBody(req: IncomingMessage, auth: AuthInfo): DecodedBody {
  const sig = auth.sigv4;
  const mode = sig?.payloadMode ?? (req.headers['x-amz-content-sha256'] as string | undefined);
  const decoded = req.headers['x-amz-decoded-content-length'];
  const declaredLength = decoded !== undefined ? Number(decoded) : undefined;
  const contentEncoding = String(req.headers['content-encoding'] ?? '');
  if (mode?.startsWith('STREAMING-') || (!sig && contentEncoding.includes('aws-chunked') && mode === undefined)) {
    if (mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') {
      if (!sig || !auth.signingKey) throw new S3Error('AccessDenied', 'Signed aws-chunked payloads need a SigV4 Authorization header.');
    }
    const decoder = createChunkedDecoder({
      mode: mode as 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      signingKey: auth.signingKey,
      seedSignature: sig?.signature,
      amzDate: sig?.amzDate,
      scope: sig ? scopeOf(sig) : undefined,
      decodedLength: declaredLength,
    });
    req.pipe(decoder);
    req.on('error', (e) => decoder.destroy(e));
    return { stream: decoder, trailers: () => decoder.trailers, declaredLength };
  }
  if (mode && /^[0-9a-f]{64}$/.test(mode)) {
    const check = new Sha256Check(mode);
    req.pipe(check);
    req.on('error', (e) => check.destroy(e));
    return { stream: check, trailers: () => ({}) };
  }
  return { stream: req, trailers: () => ({}) };
}

/** Reads a whole (small) body, failing with MaxMessageLengthExceeded past the limit. */
export async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += c.length;
    if (size > limit) {
      stream.destroy();
      throw new S3Error('MaxMessageLengthExceeded', `Your request was too big (over ${limit} bytes).`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export const emptyStream = (): Readable => { const p = new PassThrough(); p.end(); return p; };
