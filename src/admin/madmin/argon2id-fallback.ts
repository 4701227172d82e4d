/**
 * Argon2id (RFC 9106, version 0x13) in plain TypeScript.
 *
 * Why this exists: hash-wasm's argon2id refuses an empty password, yet madmin envelopes
 * made with an empty secret (the upstream test vectors U0/U1) must still open. This
 * implementation is only used for that case; every real secret goes through hash-wasm,
 * which is several times faster. Blake2b comes from hash-wasm (it handles any length).
 *
 * 64-bit words are kept as (lo, hi) pairs of uint32 in a Uint32Array; a block is 128
 * words = 256 uint32.
 */
import { createBLAKE2b } from 'hash-wasm';

const BLOCK_WORDS32 = 256;
const SYNC_POINTS = 4;
const ADDRESSES_IN_BLOCK = 128;
const TWO32 = 4294967296;

export interface Argon2Params {
  password: Uint8Array;
  salt: Uint8Array;
  iterations: number;
  /** KiB */
  memorySize: number;
  parallelism: number;
  hashLength: number;
  secret?: Uint8Array;
  associatedData?: Uint8Array;
}

function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

async function blake2b(parts: Uint8Array[], outLen: number): Promise<Uint8Array> {
  const h = await createBLAKE2b(outLen * 8);
  h.init();
  for (const p of parts) h.update(p);
  return h.digest('binary');
}

/** H' of RFC 9106 section 3.3: variable-length hash built from Blake2b. */
async function hashPrime(input: Uint8Array[], outLen: number): Promise<Uint8Array> {
  const lenPrefix = le32(outLen);
  if (outLen <= 64) return blake2b([lenPrefix, ...input], outLen);
  const r = Math.ceil(outLen / 32) - 2;
  const out = new Uint8Array(outLen);
  let v = await blake2b([lenPrefix, ...input], 64);
  out.set(v.subarray(0, 32), 0);
  for (let i = 1; i < r; i++) {
    v = await blake2b([v], 64);
    out.set(v.subarray(0, 32), i * 32);
  }
  v = await blake2b([v], outLen - 32 * r);
  out.set(v, r * 32);
  return out;
}

// GB on words a,b,c,d of the working array v (indices are 64-bit word indices).
function gb(v: Uint32Array, a: number, b: number, c: number, d: number): void {
  let al = v[2 * a], ah = v[2 * a + 1];
  let bl = v[2 * b], bh = v[2 * b + 1];
  let cl = v[2 * c], ch = v[2 * c + 1];
  let dl = v[2 * d], dh = v[2 * d + 1];
  let pl: number, ph: number, s: number, t: number;

  // a = a + b + 2*lo(a)*lo(b)
  pl = Math.imul(al, bl) >>> 0; ph = Math.round((al * bl - pl) / TWO32);
  ph = ((ph << 1) | (pl >>> 31)) >>> 0; pl = (pl << 1) >>> 0;
  s = al + bl + pl; al = s >>> 0; ah = (ah + bh + ph + Math.floor(s / TWO32)) >>> 0;
  // d = rotr64(d ^ a, 32)
  t = (dl ^ al) >>> 0; dl = (dh ^ ah) >>> 0; dh = t;
  // c = c + d + 2*lo(c)*lo(d)
  pl = Math.imul(cl, dl) >>> 0; ph = Math.round((cl * dl - pl) / TWO32);
  ph = ((ph << 1) | (pl >>> 31)) >>> 0; pl = (pl << 1) >>> 0;
  s = cl + dl + pl; cl = s >>> 0; ch = (ch + dh + ph + Math.floor(s / TWO32)) >>> 0;
  // b = rotr64(b ^ c, 24)
  bl ^= cl; bh ^= ch;
  t = ((bl >>> 24) | (bh << 8)) >>> 0; bh = ((bh >>> 24) | (bl << 8)) >>> 0; bl = t;
  // a = a + b + 2*lo(a)*lo(b)
  pl = Math.imul(al, bl) >>> 0; ph = Math.round((al * bl - pl) / TWO32);
  ph = ((ph << 1) | (pl >>> 31)) >>> 0; pl = (pl << 1) >>> 0;
  s = al + bl + pl; al = s >>> 0; ah = (ah + bh + ph + Math.floor(s / TWO32)) >>> 0;
  // d = rotr64(d ^ a, 16)
  dl ^= al; dh ^= ah;
  t = ((dl >>> 16) | (dh << 16)) >>> 0; dh = ((dh >>> 16) | (dl << 16)) >>> 0; dl = t;
  // c = c + d + 2*lo(c)*lo(d)
  pl = Math.imul(cl, dl) >>> 0; ph = Math.round((cl * dl - pl) / TWO32);
  ph = ((ph << 1) | (pl >>> 31)) >>> 0; pl = (pl << 1) >>> 0;
  s = cl + dl + pl; cl = s >>> 0; ch = (ch + dh + ph + Math.floor(s / TWO32)) >>> 0;
  // b = rotr64(b ^ c, 63) = rotl64(.., 1)
  bl ^= cl; bh ^= ch;
  t = ((bl << 1) | (bh >>> 31)) >>> 0; bh = ((bh << 1) | (bl >>> 31)) >>> 0; bl = t;

  v[2 * a] = al; v[2 * a + 1] = ah;
  v[2 * b] = bl; v[2 * b + 1] = bh;
  v[2 * c] = cl; v[2 * c + 1] = ch;
  v[2 * d] = dl; v[2 * d + 1] = dh;
}

// The permutation P on 16 words given by their indices.
function permute(v: Uint32Array, w: number[]): void {
  gb(v, w[0], w[4], w[8], w[12]);
  gb(v, w[1], w[5], w[9], w[13]);
  gb(v, w[2], w[6], w[10], w[14]);
  gb(v, w[3], w[7], w[11], w[15]);
  gb(v, w[0], w[5], w[10], w[15]);
  gb(v, w[1], w[6], w[11], w[12]);
  gb(v, w[2], w[7], w[8], w[13]);
  gb(v, w[3], w[4], w[9], w[14]);
}

const ROWS: number[][] = [];
const COLS: number[][] = [];
for (let i = 0; i < 8; i++) {
  ROWS.push(Array.from({ length: 16 }, (_, k) => 16 * i + k));
  const col: number[] = [];
  for (let r = 0; r < 8; r++) col.push(2 * i + 16 * r, 2 * i + 16 * r + 1);
  COLS.push(col);
}

const R = new Uint32Array(BLOCK_WORDS32);
const TMP = new Uint32Array(BLOCK_WORDS32);

/** next = G(prev, ref) (xor next's old value when withXor). Blocks are offsets into mem. */
function fillBlock(mem: Uint32Array, prev: number, ref: number, next: number, withXor: boolean): void {
  for (let i = 0; i < BLOCK_WORDS32; i++) R[i] = mem[prev + i] ^ mem[ref + i];
  if (withXor) for (let i = 0; i < BLOCK_WORDS32; i++) TMP[i] = R[i] ^ mem[next + i];
  else TMP.set(R);
  for (const row of ROWS) permute(R, row);
  for (const col of COLS) permute(R, col);
  for (let i = 0; i < BLOCK_WORDS32; i++) mem[next + i] = (TMP[i] ^ R[i]) >>> 0;
}

/** Same compression on standalone blocks (used for argon2i address generation). */
function compress(x: Uint32Array, y: Uint32Array, out: Uint32Array): void {
  for (let i = 0; i < BLOCK_WORDS32; i++) R[i] = x[i] ^ y[i];
  TMP.set(R);
  for (const row of ROWS) permute(R, row);
  for (const col of COLS) permute(R, col);
  for (let i = 0; i < BLOCK_WORDS32; i++) out[i] = (TMP[i] ^ R[i]) >>> 0;
}

function bytesToWords(b: Uint8Array): Uint32Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = new Uint32Array(b.byteLength / 4);
  for (let i = 0; i < w.length; i++) w[i] = dv.getUint32(4 * i, true);
  return w;
}

function wordsToBytes(w: Uint32Array): Uint8Array {
  const b = new Uint8Array(w.length * 4);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < w.length; i++) dv.setUint32(4 * i, w[i], true);
  return b;
}

export async function argon2idPure(p: Argon2Params): Promise<Uint8Array> {
  const lanes = p.parallelism;
  const secret = p.secret ?? new Uint8Array(0);
  const ad = p.associatedData ?? new Uint8Array(0);
  const h0 = await blake2b([
    le32(lanes), le32(p.hashLength), le32(p.memorySize), le32(p.iterations), le32(0x13), le32(2),
    le32(p.password.length), p.password, le32(p.salt.length), p.salt,
    le32(secret.length), secret, le32(ad.length), ad,
  ], 64);

  const memoryBlocks = 4 * lanes * Math.floor(p.memorySize / (4 * lanes));
  const laneLength = memoryBlocks / lanes;
  const segmentLength = laneLength / SYNC_POINTS;
  const mem = new Uint32Array(memoryBlocks * BLOCK_WORDS32);
  const at = (lane: number, idx: number): number => (lane * laneLength + idx) * BLOCK_WORDS32;

  for (let l = 0; l < lanes; l++) {
    mem.set(bytesToWords(await hashPrime([h0, le32(0), le32(l)], 1024)), at(l, 0));
    mem.set(bytesToWords(await hashPrime([h0, le32(1), le32(l)], 1024)), at(l, 1));
  }

  const zero = new Uint32Array(BLOCK_WORDS32);
  const input = new Uint32Array(BLOCK_WORDS32);
  const address = new Uint32Array(BLOCK_WORDS32);
  const nextAddresses = (): void => {
    input[12] = (input[12] + 1) >>> 0; // word 6 (counter), low half
    compress(zero, input, address);
    compress(zero, address, address);
  };

  for (let pass = 0; pass < p.iterations; pass++) {
    for (let slice = 0; slice < SYNC_POINTS; slice++) {
      for (let lane = 0; lane < lanes; lane++) {
        const independent = pass === 0 && slice < SYNC_POINTS / 2;
        if (independent) {
          input.fill(0);
          input[0] = pass; input[2] = lane; input[4] = slice; input[6] = memoryBlocks;
          input[8] = p.iterations; input[10] = 2;
        }
        let start = 0;
        if (pass === 0 && slice === 0) {
          start = 2;
          if (independent) nextAddresses();
        }
        let curr = lane * laneLength + slice * segmentLength + start;
        let prev = curr % laneLength === 0 ? curr + laneLength - 1 : curr - 1;
        for (let i = start; i < segmentLength; i++, curr++, prev++) {
          if (curr % laneLength === 1) prev = curr - 1;
          let j1: number, j2: number;
          if (independent) {
            if (i % ADDRESSES_IN_BLOCK === 0) nextAddresses();
            j1 = address[2 * (i % ADDRESSES_IN_BLOCK)];
            j2 = address[2 * (i % ADDRESSES_IN_BLOCK) + 1];
          } else {
            j1 = mem[prev * BLOCK_WORDS32];
            j2 = mem[prev * BLOCK_WORDS32 + 1];
          }
          let refLane = j2 % lanes;
          if (pass === 0 && slice === 0) refLane = lane;
          const sameLane = refLane === lane;
          let area: number;
          if (pass === 0) {
            if (slice === 0) area = i - 1;
            else if (sameLane) area = slice * segmentLength + i - 1;
            else area = slice * segmentLength + (i === 0 ? -1 : 0);
          } else if (sameLane) area = laneLength - segmentLength + i - 1;
          else area = laneLength - segmentLength + (i === 0 ? -1 : 0);
          const x = (BigInt(j1) * BigInt(j1)) >> 32n;
          const rel = BigInt(area) - 1n - ((BigInt(area) * x) >> 32n);
          const startPos = pass !== 0 && slice !== SYNC_POINTS - 1 ? (slice + 1) * segmentLength : 0;
          const refIndex = Number((BigInt(startPos) + rel) % BigInt(laneLength));
          fillBlock(mem, prev * BLOCK_WORDS32, at(refLane, refIndex), curr * BLOCK_WORDS32, pass !== 0);
        }
      }
    }
  }

  const c = new Uint32Array(BLOCK_WORDS32);
  for (let l = 0; l < lanes; l++) {
    const off = at(l, laneLength - 1);
    for (let i = 0; i < BLOCK_WORDS32; i++) c[i] ^= mem[off + i];
  }
  return hashPrime([wordsToBytes(c)], p.hashLength);
}
