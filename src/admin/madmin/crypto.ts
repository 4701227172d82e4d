/**
 * madmin payload envelopes (spec §2): salt(32) || algorithm id(1) || nonce(8) || sio
 * stream. The password is the secret key of the credential that signed the request.
 *
 * Decrypt accepts all three ids (0x00 Argon2id+AES-256-GCM, 0x01 Argon2id+ChaCha20-
 * Poly1305, 0x02 PBKDF2-SHA256+AES-256-GCM). Replies never use 0x02, because the 2021
 * mc only knows 0x00/0x01 (§2.3): `replyAlgorithm` mirrors 0x01 for a client that
 * chose ChaCha20 (no AES hardware) and answers 0x00 otherwise.
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { deriveArgon2idKey } from './argon2-derive.js';
import { sioDecrypt, sioEncrypt, type AeadName } from './sio-stream.js';

const pbkdf2Async = promisify(pbkdf2);

export const ALG_ARGON2ID_AES_GCM = 0x00;
export const ALG_ARGON2ID_CHACHA20_POLY1305 = 0x01;
export const ALG_PBKDF2_AES_GCM = 0x02;
export type AlgorithmId = 0 | 1 | 2;

const SALT_LEN = 32;
const NONCE_LEN = 8;
const HEADER_LEN = SALT_LEN + 1 + NONCE_LEN;

export class MadminCryptoError extends Error {}

export function isEncrypted(data: Uint8Array): boolean {
  return data.length > SALT_LEN && data[SALT_LEN] <= 2;
}

function aeadFor(alg: AlgorithmId): AeadName {
  return alg === ALG_ARGON2ID_CHACHA20_POLY1305 ? 'chacha20-poly1305' : 'aes-256-gcm';
}

export async function deriveKey(alg: AlgorithmId, password: string, salt: Uint8Array): Promise<Buffer> {
  const pw = Buffer.from(password, 'utf8');
  if (alg === ALG_PBKDF2_AES_GCM) return pbkdf2Async(pw, salt, 8192, 32, 'sha256');
  return deriveArgon2idKey(pw, salt);
}

export interface EncryptOptions {
  algorithm?: AlgorithmId;
  /** Fixed salt/nonce, for test vectors only. */
  salt?: Uint8Array;
  nonce?: Uint8Array;
}

export async function encryptData(password: string, plaintext: Uint8Array, opts: EncryptOptions = {}): Promise<Buffer> {
  const alg = opts.algorithm ?? ALG_ARGON2ID_AES_GCM;
  const salt = opts.salt ?? randomBytes(SALT_LEN);
  const nonce = opts.nonce ?? randomBytes(NONCE_LEN);
  if (salt.length !== SALT_LEN || nonce.length !== NONCE_LEN) throw new MadminCryptoError('bad salt or nonce length');
  const key = await deriveKey(alg, password, salt);
  return Buffer.concat([salt, Buffer.from([alg]), nonce, sioEncrypt(aeadFor(alg), key, nonce, plaintext)]);
}

export interface Decrypted {
  plaintext: Buffer;
  algorithm: AlgorithmId;
}

export async function decryptData(password: string, data: Uint8Array): Promise<Decrypted> {
  if (data.length < HEADER_LEN + 16) throw new MadminCryptoError('encrypted data too short');
  const alg = data[SALT_LEN];
  if (alg > 2) throw new MadminCryptoError('invalid encryption algorithm ID');
  const salt = data.subarray(0, SALT_LEN);
  const nonce = data.subarray(SALT_LEN + 1, HEADER_LEN);
  const key = await deriveKey(alg as AlgorithmId, password, salt);
  try {
    return { plaintext: sioDecrypt(aeadFor(alg as AlgorithmId), key, nonce, data.subarray(HEADER_LEN)), algorithm: alg as AlgorithmId };
  } catch (e) {
    throw new MadminCryptoError((e as Error).message);
  }
}

/** The id to answer a client with, given the id its request used (if any). */
export function replyAlgorithm(requestAlgorithm?: AlgorithmId): AlgorithmId {
  return requestAlgorithm === ALG_ARGON2ID_CHACHA20_POLY1305 ? ALG_ARGON2ID_CHACHA20_POLY1305 : ALG_ARGON2ID_AES_GCM;
}
