/**
 * Checksums for S3: the flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256),
 * MD5 for ETags and Content-MD5, and SHA256 for x-amz-content-sha256.
 *
 * - `createChecksum(alg)` gives an incremental hasher with a synchronous digest, so the
 *   PUT path can check digests in a stream's flush without awaiting anything.
 * - `parseChecksumHeaders(headers)` reads x-amz-checksum-<alg>, x-amz-sdk-checksum-algorithm
 *   and x-amz-trailer the way S3 does (one checksum per request, well-formed base64 of the
 *   right length), and `parseContentMd5` reads Content-MD5.
 * - `DigestingTap` is a pass-through Transform that hashes bytes as they flow (the chunk
 *   objects are forwarded as-is, no copies) and can verify the expected digests in its flush,
 *   i.e. before the consumer sees end-of-stream, so a bad body never gets committed.
 * - Multipart: `compositeChecksum` (checksum of the concatenated raw part checksums, "-N")
 *   and `combineCrc` (the CRC of the whole object from the part CRCs and lengths, which
 *   is what S3 calls a FULL_OBJECT checksum for multipart uploads).
 *
 * CRC32 uses zlib's native crc32 (Node >= 20.15), CRC32C the @node-rs/crc32 binding.
 * CRC64NVME is implemented here (slice-by-16 on 32-bit halves) because the SDK's
 * implementation only has an async digest.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import type { ChecksumAlgorithm } from '../storage/backend.js';
import { S3Error } from '../server/errors.js';

export type { ChecksumAlgorithm };

/** Every flexible-checksum algorithm S3 accepts, in the order S3 documents them. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** Anything we hash: the flexible checksums plus MD5 (ETag, Content-MD5). */
export type HashAlgorithm = ChecksumAlgorithm | 'MD5';

export interface Checksum {
  readonly algorithm: HashAlgorithm;
  update(data: Uint8Array): void;
  /** Raw digest (big-endian for CRCs, as S3 encodes them). May be called repeatedly. */
  digest(): Buffer;
  /** The digest in base64, the form S3 headers carry. */
  base64(): string;
}

const DIGEST_LENGTH: Record<HashAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32, MD5: 16 };

/** Length in bytes of the raw digest. */
export function digestLength(alg: HashAlgorithm): number {
  return DIGEST_LENGTH[alg];
}

/** Case-insensitive algorithm name ("crc32c", "SHA256") to the S3 spelling, or undefined. */
export function parseChecksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const up = name.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(up) ? (up as ChecksumAlgorithm) : undefined;
}

/** "x-amz-checksum-crc32" etc. */
export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

/** The response/XML field name: ChecksumCRC32, ChecksumCRC64NVME ... */
export function checksumFieldName(alg: ChecksumAlgorithm): string {
  return `Checksum${alg}`;
}

class Crc32Checksum implements Checksum {
  private value = 0;
  constructor(readonly algorithm: 'CRC32' | 'CRC32C', private readonly fn: (data: Uint8Array, initial: number) => number) {}
  update(data: Uint8Array): void {
    if (data.length > 0) this.value = this.fn(data, this.value);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.value >>> 0, 0);
    return out;
  }
  base64(): string {
    return this.digest().toString('base64');
  }
}

// CRC-64/NVME: reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones.
// Slice-by-16 over one interleaved table (entry i of slice s: hi word at s*512+2i, lo word
// next to it) so the inner loop stays in 32-bit integers; ~3x faster than slice-by-8 here.
const CRC64_POLY = 0x9a6c9329ac4bc9b5n;
const CRC64_SLICES = 16;
function crc64TableInit(): Uint32Array {
  const t = new Uint32Array(CRC64_SLICES * 512);
  const base: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let j = 0; j < 8; j++) c = c & 1n ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
    base.push(c);
  }
  let cur = base;
  for (let s = 0; s < CRC64_SLICES; s++) {
    // Slice s: the CRC contribution of a byte followed by s zero bytes.
    if (s > 0) cur = cur.map((c) => (c >> 8n) ^ base[Number(c & 0xffn)]!);
    for (let i = 0; i < 256; i++) {
      t[s * 512 + i * 2] = Number(cur[i]! >> 32n);
      t[s * 512 + i * 2 + 1] = Number(cur[i]! & 0xffffffffn);
    }
  }
  return t;
}
// Built at load (a few thousand BigInt steps); a module constant keeps the loop monomorphic.
const CRC64_TABLE = crc64TableInit();

class Crc64NvmeChecksum implements Checksum {
  readonly algorithm = 'CRC64NVME' as const;
  // Running CRC, pre-inverted (init = all ones).
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array): void {
    const T = CRC64_TABLE;
    let hi = this.hi;
    let lo = this.lo;
    const n = data.length;
    let i = 0;
    // 16 bytes per step: the first 8 are XORed with the CRC (little-endian) and go
    // through slices 15..8; the next 8 go through slices 7..0 as they are.
    while (i + 16 <= n) {
      const a = ((lo ^ data[i]) & 255) << 1;
      const b = (((lo >>> 8) ^ data[i + 1]) & 255) << 1;
      const c = (((lo >>> 16) ^ data[i + 2]) & 255) << 1;
      const d = (((lo >>> 24) ^ data[i + 3]) & 255) << 1;
      const e = ((hi ^ data[i + 4]) & 255) << 1;
      const f = (((hi >>> 8) ^ data[i + 5]) & 255) << 1;
      const g = (((hi >>> 16) ^ data[i + 6]) & 255) << 1;
      const h = (((hi >>> 24) ^ data[i + 7]) & 255) << 1;
      const j = data[i + 8] << 1;
      const k = data[i + 9] << 1;
      const l = data[i + 10] << 1;
      const m = data[i + 11] << 1;
      const o = data[i + 12] << 1;
      const p = data[i + 13] << 1;
      const q = data[i + 14] << 1;
      const r = data[i + 15] << 1;
      hi = T[7680 + a] ^ T[7168 + b] ^ T[6656 + c] ^ T[6144 + d] ^ T[5632 + e] ^ T[5120 + f] ^ T[4608 + g] ^ T[4096 + h]
        ^ T[3584 + j] ^ T[3072 + k] ^ T[2560 + l] ^ T[2048 + m] ^ T[1536 + o] ^ T[1024 + p] ^ T[512 + q] ^ T[r];
      lo = T[7681 + a] ^ T[7169 + b] ^ T[6657 + c] ^ T[6145 + d] ^ T[5633 + e] ^ T[5121 + f] ^ T[4609 + g] ^ T[4097 + h]
        ^ T[3585 + j] ^ T[3073 + k] ^ T[2561 + l] ^ T[2049 + m] ^ T[1537 + o] ^ T[1025 + p] ^ T[513 + q] ^ T[r + 1];
      i += 16;
    }
    while (i < n) {
      const idx = ((lo ^ data[i]) & 255) << 1;
      lo = ((lo >>> 8) | (hi << 24)) ^ T[idx + 1];
      hi = (hi >>> 8) ^ T[idx];
      i++;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return out;
  }
  base64(): string {
    return this.digest().toString('base64');
  }
}

class CryptoChecksum implements Checksum {
  private readonly hash: Hash;
  private done?: Buffer;
  constructor(readonly algorithm: 'SHA1' | 'SHA256' | 'MD5') {
    this.hash = createHash(algorithm === 'SHA1' ? 'sha1' : algorithm === 'SHA256' ? 'sha256' : 'md5');
  }
  update(data: Uint8Array): void {
    if (this.done) throw new Error('checksum already finalized');
    this.hash.update(data);
  }
  digest(): Buffer {
    this.done ??= this.hash.digest();
    return this.done;
  }
  base64(): string {
    return this.digest().toString('base64');
  }
}

export function createChecksum(alg: HashAlgorithm): Checksum {
  switch (alg) {
    case 'CRC32': return new Crc32Checksum('CRC32', zlibCrc32);
    case 'CRC32C': return new Crc32Checksum('CRC32C', crc32c);
    case 'CRC64NVME': return new Crc64NvmeChecksum();
    case 'SHA1':
    case 'SHA256':
    case 'MD5':
      return new CryptoChecksum(alg);
  }
}

/** One-shot convenience: the raw digest of a buffer. */
export function checksumOf(alg: HashAlgorithm, data: Uint8Array): Buffer {
  const c = createChecksum(alg);
  c.update(data);
  return c.digest();
}

/** True when `b64` is canonical base64 of exactly the digest length of `alg`. */
export function isValidChecksumValue(alg: HashAlgorithm, b64: string): boolean {
  const raw = Buffer.from(b64, 'base64');
  return raw.length === DIGEST_LENGTH[alg] && raw.toString('base64') === b64;
}

/** What the request says about its flexible checksum. */
export interface RequestedChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64 value from the x-amz-checksum-* header; absent when it comes in the trailer. */
  value?: string;
  /** True when x-amz-trailer names the checksum header (aws-chunked trailer). */
  inTrailer: boolean;
}

type Headers = Record<string, string | string[] | undefined>;

function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Finds the request's flexible checksum (header names must be lower case, as node:http
 * gives them). Returns undefined when the request carries none. Throws InvalidRequest for
 * what S3 refuses: more than one checksum header, a malformed value, a trailer naming an
 * unknown checksum, or x-amz-sdk-checksum-algorithm with no checksum to go with it (or
 * naming a different one).
 */
export function parseChecksumHeaders(headers: Headers): RequestedChecksum | undefined {
  let found: RequestedChecksum | undefined;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const name = checksumHeaderName(alg);
    const value = headerValue(headers, name);
    if (value === undefined) continue;
    if (found) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    if (!isValidChecksumValue(alg, value.trim())) throw new S3Error('InvalidRequest', `Value for ${name} header is invalid.`);
    found = { algorithm: alg, value: value.trim(), inTrailer: false };
  }

  const trailer = headerValue(headers, 'x-amz-trailer');
  if (trailer !== undefined && trailer.trim() !== '') {
    const names = trailer.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    if (names.length !== 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- trailer. Multiple checksum Types are not allowed.');
    const name = names[0]!;
    const alg = name.startsWith('x-amz-checksum-') ? parseChecksumAlgorithm(name.slice('x-amz-checksum-'.length)) : undefined;
    if (!alg) throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported: ${name}`);
    if (found) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    found = { algorithm: alg, inTrailer: true };
  }

  const sdk = headerValue(headers, 'x-amz-sdk-checksum-algorithm');
  if (sdk !== undefined && sdk.trim() !== '') {
    const alg = parseChecksumAlgorithm(sdk);
    if (!alg) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    if (!found) throw new S3Error('InvalidRequest', 'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
    if (found.algorithm !== alg) throw new S3Error('InvalidRequest', `Value for x-amz-sdk-checksum-algorithm header is invalid.`);
  }
  return found;
}

/** Content-MD5 as raw bytes, or undefined when absent; InvalidDigest when malformed. */
export function parseContentMd5(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!isValidChecksumValue('MD5', v)) throw new S3Error('InvalidDigest');
  return Buffer.from(v, 'base64');
}

/** What a body must hash to. Any field left out is not checked. */
export interface DigestExpectations {
  /** Raw Content-MD5. */
  md5?: Buffer;
  /** x-amz-content-sha256 as hex (only when it is an actual hash). */
  sha256Hex?: string;
  /** base64 value of the tap's checksum algorithm (header or trailer). */
  checksum?: string;
}

export interface DigestResult {
  size: number;
  md5: Buffer;
  sha256?: Buffer;
  checksum?: { algorithm: ChecksumAlgorithm; raw: Buffer; base64: string };
}

export interface DigestingTapOptions {
  /** Compute SHA256 too (signed payloads). */
  sha256?: boolean;
  /** Compute this flexible checksum too. When it is SHA256 the same hash serves both. */
  checksum?: ChecksumAlgorithm;
  /**
   * Called in flush, after the last byte: return what to verify. A function rather than
   * values because a trailer checksum is only known once the chunk decoder upstream ends.
   */
  expect?: () => DigestExpectations | undefined;
}

/**
 * Pass-through stream that hashes what flows through it. MD5 is always computed (the
 * ETag). After 'end' (or in finalize callbacks) read `result`.
 */
export class DigestingTap extends Transform {
  private readonly md5 = createHash('md5');
  private readonly sha?: Checksum;
  private readonly sum?: Checksum;
  private size = 0;
  private final?: DigestResult;

  constructor(private readonly opts: DigestingTapOptions = {}) {
    super();
    if (opts.sha256 || opts.checksum === 'SHA256') this.sha = createChecksum('SHA256');
    if (opts.checksum && opts.checksum !== 'SHA256') this.sum = createChecksum(opts.checksum);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha?.update(chunk);
    this.sum?.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    try {
      const result = this.finish();
      const expected = this.opts.expect?.();
      if (expected) verifyDigests(result, expected);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.size;
  }

  /** The digests; only valid once the stream has ended (throws before). */
  get result(): DigestResult {
    if (!this.final) throw new Error('DigestingTap: result read before end of stream');
    return this.final;
  }

  private finish(): DigestResult {
    const sha256 = this.sha?.digest();
    const alg = this.opts.checksum;
    let checksum: DigestResult['checksum'];
    if (alg) {
      const raw = alg === 'SHA256' ? sha256! : this.sum!.digest();
      checksum = { algorithm: alg, raw, base64: raw.toString('base64') };
    }
    this.final = { size: this.size, md5: this.md5.digest(), sha256: this.opts.sha256 ? sha256 : undefined, checksum };
    return this.final;
  }
}

/**
 * Throws the S3 error a client expects when a digest does not match: BadDigest for
 * Content-MD5 and flexible checksums, XAmzContentSHA256Mismatch for the payload hash.
 */
export function verifyDigests(result: DigestResult, expected: DigestExpectations): void {
  if (expected.md5 && !expected.md5.equals(result.md5)) throw new S3Error('BadDigest');
  if (expected.sha256Hex !== undefined) {
    if (!result.sha256) throw new Error('verifyDigests: SHA256 expected but not computed');
    if (result.sha256.toString('hex') !== expected.sha256Hex.toLowerCase()) {
      throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
        extra: { ClientComputedContentSHA256: expected.sha256Hex, S3ComputedContentSHA256: result.sha256.toString('hex') },
      });
    }
  }
  if (expected.checksum !== undefined) {
    if (!result.checksum) throw new Error('verifyDigests: checksum expected but not computed');
    if (result.checksum.base64 !== expected.checksum) {
      throw new S3Error('BadDigest', `The ${result.checksum.algorithm} you specified did not match the calculated checksum.`);
    }
  }
}

// ---- multipart ----

/** Which checksum types S3 allows per algorithm for multipart uploads. */
export function supportsChecksumType(alg: ChecksumAlgorithm, type: 'FULL_OBJECT' | 'COMPOSITE'): boolean {
  if (type === 'FULL_OBJECT') return alg === 'CRC32' || alg === 'CRC32C' || alg === 'CRC64NVME';
  return alg !== 'CRC64NVME';
}

/** S3's default type when CreateMultipartUpload names an algorithm but no type. */
export function defaultChecksumType(alg: ChecksumAlgorithm): 'FULL_OBJECT' | 'COMPOSITE' {
  return alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

function rawChecksum(alg: ChecksumAlgorithm, v: string | Buffer): Buffer {
  if (Buffer.isBuffer(v)) {
    if (v.length !== DIGEST_LENGTH[alg]) throw new S3Error('InvalidPart', `Invalid ${alg} part checksum.`);
    return v;
  }
  if (!isValidChecksumValue(alg, v)) throw new S3Error('InvalidPart', `Invalid ${alg} part checksum.`);
  return Buffer.from(v, 'base64');
}

/**
 * COMPOSITE multipart checksum: the checksum of the concatenated raw part checksums,
 * base64, with "-<number of parts>" appended.
 */
export function compositeChecksum(alg: ChecksumAlgorithm, partChecksums: ReadonlyArray<string | Buffer>): string {
  const c = createChecksum(alg);
  for (const p of partChecksums) c.update(rawChecksum(alg, p));
  return `${c.base64()}-${partChecksums.length}`;
}

// CRC combination: with reflected CRCs whose init and xorout are equal (all ones here),
// crc(A || B) = crc(A) * x^(8*|B|) mod P  XOR  crc(B). The multiplication is done in
// GF(2)[x]/P in the reflected bit order (the top bit is x^0), with BigInt so one code
// path serves 32 and 64 bits. Powers x^(2^k) are tabulated; x^(8n) is cached per part
// size, since parts usually share a size, so combining 10 000 parts stays cheap.
interface CrcField {
  width: number;
  poly: bigint;
  one: bigint;
  x2k: bigint[];
  shiftCache: Map<number, bigint>;
}

const FIELDS = new Map<ChecksumAlgorithm, CrcField>();
const POLYS: Partial<Record<ChecksumAlgorithm, [number, bigint]>> = {
  CRC32: [32, 0xedb88320n],
  CRC32C: [32, 0x82f63b78n],
  CRC64NVME: [64, CRC64_POLY],
};

function field(alg: ChecksumAlgorithm): CrcField {
  let f = FIELDS.get(alg);
  if (f) return f;
  const spec = POLYS[alg];
  if (!spec) throw new Error(`combineCrc: ${alg} is not a CRC`);
  const [width, poly] = spec;
  const one = 1n << BigInt(width - 1);
  f = { width, poly, one, x2k: [], shiftCache: new Map() };
  let p = one >> 1n; // x^1
  for (let k = 0; k < 64; k++) {
    f.x2k.push(p);
    p = mulmod(f, p, p);
  }
  FIELDS.set(alg, f);
  return f;
}

function mulmod(f: CrcField, a: bigint, b: bigint): bigint {
  let p = 0n;
  for (let m = f.one; m !== 0n && a !== 0n; m >>= 1n) {
    if (a & m) {
      p ^= b;
      a ^= m;
    }
    b = b & 1n ? (b >> 1n) ^ f.poly : b >> 1n;
  }
  return p;
}

/** x^(8 * bytes) mod P. */
function shiftFor(f: CrcField, bytes: number): bigint {
  let s = f.shiftCache.get(bytes);
  if (s !== undefined) return s;
  s = f.one;
  let k = 3; // 8 bits per byte = 2^3
  for (let n = BigInt(bytes); n > 0n; n >>= 1n, k++) {
    if (n & 1n) s = mulmod(f, f.x2k[k]!, s);
  }
  if (f.shiftCache.size > 1024) f.shiftCache.clear();
  f.shiftCache.set(bytes, s);
  return s;
}

/** crc(A || B) from crc(A), crc(B) and |B|; raw big-endian digests in and out. */
export function combineTwoCrcs(alg: ChecksumAlgorithm, crcA: Buffer, crcB: Buffer, lengthB: number): Buffer {
  const f = field(alg);
  const v = mulmod(f, shiftFor(f, lengthB), fromBytes(crcA)) ^ fromBytes(crcB);
  return toBytes(v, f.width / 8);
}

/**
 * FULL_OBJECT multipart checksum: the CRC of the whole object computed from the part
 * CRCs (base64 or raw) and part sizes. Returns the raw digest (base64 it for S3).
 */
export function combineCrc(alg: ChecksumAlgorithm, parts: ReadonlyArray<{ checksum: string | Buffer; size: number }>): Buffer {
  const f = field(alg);
  let acc = 0n; // CRC of the empty string is 0 for these CRCs
  for (const p of parts) {
    if (!Number.isSafeInteger(p.size) || p.size < 0) throw new Error('combineCrc: bad part size');
    acc = mulmod(f, shiftFor(f, p.size), acc) ^ fromBytes(rawChecksum(alg, p.checksum));
  }
  return toBytes(acc, f.width / 8);
}

function fromBytes(b: Buffer): bigint {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return v;
}

function toBytes(v: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
