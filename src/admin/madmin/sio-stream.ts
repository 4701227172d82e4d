/**
 * The secure-io/sio-go stream AEAD that madmin envelopes carry (spec §2.4), not DARE.
 *
 * Fragments of `bufSize` plaintext bytes are sealed with nonce = N(8) || le32(seq);
 * seq 0 seals an empty header whose tag T0 binds the user associated data; each
 * fragment's AD is flag || T0 with flag 0x80 on the final fragment only. The output is
 * the plain concatenation of sealed fragments (no lengths, no headers).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type AeadName = 'aes-256-gcm' | 'aes-128-gcm' | 'chacha20-poly1305';

export const SIO_BUF_SIZE = 16384;
const TAG = 16;

export class NotAuthenticError extends Error {
  constructor() { super('sio: data is not authentic'); }
}

function nonceFor(n8: Uint8Array, seq: number): Buffer {
  const n = Buffer.alloc(12);
  n.set(n8, 0);
  n.writeUInt32LE(seq >>> 0, 8);
  return n;
}

function seal(alg: AeadName, key: Uint8Array, nonce: Buffer, pt: Uint8Array, ad: Uint8Array): Buffer {
  const c = createCipheriv(alg as 'aes-256-gcm', key, nonce, { authTagLength: TAG });
  c.setAAD(ad, { plaintextLength: pt.length });
  const out = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
  return out;
}

function open(alg: AeadName, key: Uint8Array, nonce: Buffer, sealed: Uint8Array, ad: Uint8Array): Buffer {
  if (sealed.length < TAG) throw new NotAuthenticError();
  const ct = sealed.subarray(0, sealed.length - TAG);
  const d = createDecipheriv(alg as 'aes-256-gcm', key, nonce, { authTagLength: TAG });
  d.setAAD(ad, { plaintextLength: ct.length });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    throw new NotAuthenticError();
  }
}

export interface SioOptions {
  bufSize?: number;
  /** User associated data bound into the header tag (madmin uses none). */
  associatedData?: Uint8Array;
}

function headerTag(alg: AeadName, key: Uint8Array, n8: Uint8Array, ad: Uint8Array): Buffer {
  return seal(alg, key, nonceFor(n8, 0), new Uint8Array(0), ad);
}

export function sioEncrypt(alg: AeadName, key: Uint8Array, nonce8: Uint8Array, plaintext: Uint8Array, opts: SioOptions = {}): Buffer {
  const bufSize = opts.bufSize ?? SIO_BUF_SIZE;
  const t0 = headerTag(alg, key, nonce8, opts.associatedData ?? new Uint8Array(0));
  const adFor = (final: boolean): Buffer => Buffer.concat([Buffer.from([final ? 0x80 : 0x00]), t0]);
  const out: Buffer[] = [];
  let seq = 1;
  let off = 0;
  // Full fragments while more than one fragment's worth remains; the final one holds
  // 1..bufSize bytes (or 0 for an empty plaintext).
  while (plaintext.length - off > bufSize) {
    out.push(seal(alg, key, nonceFor(nonce8, seq++), plaintext.subarray(off, off + bufSize), adFor(false)));
    off += bufSize;
  }
  out.push(seal(alg, key, nonceFor(nonce8, seq), plaintext.subarray(off), adFor(true)));
  return Buffer.concat(out);
}

export function sioDecrypt(alg: AeadName, key: Uint8Array, nonce8: Uint8Array, ciphertext: Uint8Array, opts: SioOptions = {}): Buffer {
  const bufSize = opts.bufSize ?? SIO_BUF_SIZE;
  const t0 = headerTag(alg, key, nonce8, opts.associatedData ?? new Uint8Array(0));
  const adFor = (final: boolean): Buffer => Buffer.concat([Buffer.from([final ? 0x80 : 0x00]), t0]);
  const frag = bufSize + TAG;
  const out: Buffer[] = [];
  let seq = 1;
  let off = 0;
  while (ciphertext.length - off > frag) {
    out.push(open(alg, key, nonceFor(nonce8, seq++), ciphertext.subarray(off, off + frag), adFor(false)));
    off += frag;
  }
  out.push(open(alg, key, nonceFor(nonce8, seq), ciphertext.subarray(off), adFor(true)));
  return Buffer.concat(out);
}
