/**
 * aws-chunked request bodies (Content-Encoding: aws-chunked), decoded as a Transform:
 * framed bytes in, payload bytes out, trailers collected on the side.
 *
 * Modes (the x-amz-content-sha256 value):
 * - STREAMING-AWS4-HMAC-SHA256-PAYLOAD: `hex-size;chunk-signature=<sig>\r\n<data>\r\n`
 *   ... ending with a 0-size chunk. Each signature chains from the previous one (the
 *   first from the seed signature of the Authorization header):
 *   HMAC(signingKey, "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" +
 *   prevSig + "\n" + sha256("") + "\n" + sha256(chunkData)).
 * - STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the same chunks, then trailer lines
 *   `name:value\r\n`, then `x-amz-trailer-signature:<sig>\r\n\r\n`, where the signature is
 *   HMAC(signingKey, "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" +
 *   finalChunkSig + "\n" + sha256(sorted "name:value\n" lines)).
 * - STREAMING-UNSIGNED-PAYLOAD-TRAILER: `hex-size\r\n<data>\r\n` chunks, 0 chunk, trailer
 *   lines, empty line; no signatures.
 *
 * Payload bytes are forwarded as sub-views of the incoming buffers (no copies) as soon
 * as they arrive; a chunk's signature is checked when the chunk ends, so bytes of a bad
 * chunk may already have gone downstream, but the stream then errors before it ends, and
 * consumers (the atomic PUT path) never commit a body whose stream did not end cleanly.
 * Lines (chunk headers, trailers) are bounded so a hostile client cannot make us buffer
 * without limit. Errors are S3Errors: SignatureDoesNotMatch for a bad chunk or trailer
 * signature, IncompleteBody for a truncated body or a payload shorter or longer than
 * x-amz-decoded-content-length, InvalidRequest for malformed framing. Verifying the
 * trailer checksum itself is the consumer's job (see s3/checksums.ts DigestingTap);
 * `trailers` is complete once the stream has ended.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../server/errors.js';

export type ChunkedMode =
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
  | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export function isChunkedMode(v: string | undefined): v is ChunkedMode {
  return v === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || v === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' || v === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
}

export interface AwsChunkedOptions {
  mode: ChunkedMode;
  /** SigV4 signing key (signed modes). */
  signingKey?: Buffer;
  /** The Authorization header's signature (signed modes). */
  seedSignature?: string;
  /** x-amz-date of the request (signed modes). */
  amzDate?: string;
  /** Credential scope "yyyymmdd/region/s3/aws4_request" (signed modes). */
  scope?: string;
  /** x-amz-decoded-content-length: the payload must have exactly this many bytes. */
  decodedLength?: number;
  /** Longest chunk-header or trailer line accepted (default 4 KiB). */
  maxLineLength?: number;
  /** Total bytes of trailer lines accepted (default 16 KiB). */
  maxTrailerBytes?: number;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
const SIZE_LINE = /^([0-9a-fA-F]{1,15})(;.*)?$/;
const HEX_SIG = /^[0-9a-f]{64}$/;

type State =
  | 'size' // reading a chunk header line
  | 'data' // inside chunk data
  | 'data-end' // expecting the CRLF after chunk data
  | 'final' // after the 0 chunk (no trailer mode): expecting the closing empty line
  | 'trailer' // reading trailer lines
  | 'trailer-end' // after the trailer signature: expecting the closing empty line
  | 'done'
  | 'failed';

function framing(msg: string): S3Error {
  return new S3Error('InvalidRequest', `Invalid aws-chunked encoding: ${msg}.`);
}

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (names lower-cased), without x-amz-trailer-signature. Complete after 'end'. */
  readonly trailers: Record<string, string> = {};

  private state: State = 'size';
  private readonly signed: boolean;
  private readonly hasTrailer: boolean;
  private readonly maxLine: number;
  private readonly maxTrailer: number;
  private prevSig: string;
  private chunkSig = '';
  private chunkHash?: Hash;
  private remaining = 0;
  private decoded = 0;
  private trailerBytes = 0;
  private lineParts: Buffer[] = [];
  private lineLen = 0;

  constructor(private readonly opts: AwsChunkedOptions) {
    super();
    this.signed = opts.mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
    this.hasTrailer = opts.mode !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
    if (this.signed && (!opts.signingKey || !opts.seedSignature || !opts.amzDate || !opts.scope)) {
      throw new Error('AwsChunkedDecoder: signed modes need signingKey, seedSignature, amzDate and scope');
    }
    this.prevSig = opts.seedSignature ?? '';
    this.maxLine = opts.maxLineLength ?? 4096;
    this.maxTrailer = opts.maxTrailerBytes ?? 16384;
  }

  /** Payload bytes emitted so far. */
  get decodedBytes(): number {
    return this.decoded;
  }

  /** The last verified signature (the final chunk's, once the stream has ended). */
  get lastSignature(): string {
    return this.prevSig;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.state === 'failed') return cb();
    try {
      this.consume(chunk);
      cb();
    } catch (e) {
      this.state = 'failed';
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.state === 'failed') return cb();
    try {
      this.finishAtEof();
      cb();
    } catch (e) {
      this.state = 'failed';
      cb(e as Error);
    }
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    const n = buf.length;
    while (pos < n) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, n - pos);
        const piece = buf.subarray(pos, pos + take);
        this.chunkHash?.update(piece);
        this.decoded += take;
        this.remaining -= take;
        pos += take;
        this.push(piece);
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      if (this.state === 'done') {
        // Only stray line ends may follow the end of the body.
        for (; pos < n; pos++) if (buf[pos] !== 0x0d && buf[pos] !== 0x0a) throw framing('data after the final chunk');
        return;
      }
      const nl = buf.indexOf(0x0a, pos);
      const end = nl === -1 ? n : nl;
      if (this.lineLen + (end - pos) > this.maxLine) throw framing('line too long');
      if (nl === -1) {
        this.lineParts.push(buf.subarray(pos));
        this.lineLen += n - pos;
        return;
      }
      let line: string;
      if (this.lineParts.length === 0) {
        line = buf.toString('latin1', pos, end);
      } else {
        this.lineParts.push(buf.subarray(pos, end));
        line = Buffer.concat(this.lineParts).toString('latin1');
        this.lineParts = [];
      }
      this.lineLen = 0;
      pos = nl + 1;
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
  }

  private onLine(line: string): void {
    switch (this.state) {
      case 'size':
        return this.onSizeLine(line);
      case 'data-end':
        if (line !== '') throw framing('chunk data longer than its declared size');
        this.endChunk();
        this.state = 'size';
        return;
      case 'final':
        if (line !== '') throw framing('data after the final chunk');
        this.state = 'done';
        return;
      case 'trailer':
        return this.onTrailerLine(line);
      case 'trailer-end':
        if (line !== '') throw framing('data after the trailer signature');
        this.state = 'done';
        return;
      default:
        throw new Error(`AwsChunkedDecoder: line in state ${this.state}`);
    }
  }

  private onSizeLine(line: string): void {
    const m = SIZE_LINE.exec(line);
    if (!m) throw framing('bad chunk header');
    const size = parseInt(m[1]!, 16);
    if (this.signed) {
      let sig: string | undefined;
      for (const ext of (m[2] ?? '').split(';')) {
        if (ext.startsWith('chunk-signature=')) sig = ext.slice('chunk-signature='.length).trim();
      }
      if (sig === undefined) throw framing('chunk without chunk-signature');
      if (!HEX_SIG.test(sig)) throw new S3Error('SignatureDoesNotMatch');
      this.chunkSig = sig;
      this.chunkHash = createHash('sha256');
    }
    if (this.opts.decodedLength !== undefined && this.decoded + size > this.opts.decodedLength) {
      throw new S3Error('IncompleteBody', 'The decoded body is longer than x-amz-decoded-content-length.');
    }
    if (size > 0) {
      this.remaining = size;
      this.state = 'data';
      return;
    }
    this.endChunk();
    this.state = this.hasTrailer ? 'trailer' : 'final';
  }

  /** Verifies the chunk just read (signed modes) and advances the signature chain. */
  private endChunk(): void {
    if (!this.signed) return;
    const hash = this.chunkHash ? this.chunkHash.digest('hex') : EMPTY_SHA256;
    this.chunkHash = undefined;
    const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${this.opts.amzDate}\n${this.opts.scope}\n${this.prevSig}\n${EMPTY_SHA256}\n${hash}`;
    this.checkSignature(sts, this.chunkSig);
    this.prevSig = this.chunkSig;
  }

  private checkSignature(stringToSign: string, given: string): void {
    const expected = createHmac('sha256', this.opts.signingKey!).update(stringToSign).digest();
    const got = Buffer.from(given, 'hex');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new S3Error('SignatureDoesNotMatch');
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      // Unsigned: the empty line closes the trailer. Signed: the signature line must
      // still come (some clients put a blank line between the checksum and it).
      if (!this.signed) this.state = 'done';
      return;
    }
    this.trailerBytes += line.length + 2;
    if (this.trailerBytes > this.maxTrailer) throw framing('trailers too large');
    const colon = line.indexOf(':');
    if (colon <= 0) throw framing('bad trailer line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name !== TRAILER_SIGNATURE) {
      this.trailers[name] = value;
      return;
    }
    if (!this.signed) throw framing('trailer signature in an unsigned body');
    if (!HEX_SIG.test(value)) throw new S3Error('SignatureDoesNotMatch');
    const canonical = Object.keys(this.trailers).sort().map((k) => `${k}:${this.trailers[k]}\n`).join('');
    const sts = `AWS4-HMAC-SHA256-TRAILER\n${this.opts.amzDate}\n${this.opts.scope}\n${this.prevSig}\n${createHash('sha256').update(canonical).digest('hex')}`;
    this.checkSignature(sts, value);
    this.state = 'trailer-end';
  }

  private finishAtEof(): void {
    // A partial last line without its line end: accept it only where it completes the body.
    if (this.lineLen > 0) {
      const line = Buffer.concat(this.lineParts).toString('latin1');
      this.lineParts = [];
      this.lineLen = 0;
      if (this.state === 'trailer' || this.state === 'trailer-end' || this.state === 'final' || this.state === 'data-end') this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      else throw new S3Error('IncompleteBody');
    }
    const complete = this.state === 'done' || this.state === 'final' || this.state === 'trailer-end' || (this.state === 'trailer' && !this.signed);
    if (!complete) throw new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.');
    this.state = 'done';
    if (this.opts.decodedLength !== undefined && this.decoded !== this.opts.decodedLength) {
      throw new S3Error('IncompleteBody', 'The decoded body is shorter than x-amz-decoded-content-length.');
    }
  }
}

/** Factory form of `new AwsChunkedDecoder(options)`. */
export function createChunkedDecoder(options: AwsChunkedOptions): AwsChunkedDecoder {
  return new AwsChunkedDecoder(options);
}
