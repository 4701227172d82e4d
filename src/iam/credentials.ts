/**
 * Generated credentials and the length rules for chosen ones, as MinIO does them:
 * access key = 20 chars of 0-9A-Z, secret = the first 40 chars of base64(40 random bytes)
 * with '/' replaced by '+' (so it never needs URL escaping in a path).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { IamError } from './errors.js';

const KEY_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function generateAccessKey(length = 20): string {
  let s = '';
  for (let i = 0; i < length; i++) s += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return s;
}

export function generateSecretKey(): string {
  return randomBytes(40).toString('base64').slice(0, 40).replace(/\//g, '+');
}

/** An id in the AWS style: a 4-letter prefix (AIDA user, AGPA group, ANPA policy) + 17 chars. */
export function generateId(prefix: string): string {
  return prefix + generateAccessKey(17);
}

/** Limits for keys chosen by a client (service accounts, CreateAccessKey with given keys). */
export const ACCESS_KEY_MIN = 3;
export const ACCESS_KEY_MAX = 20;
export const SECRET_KEY_MIN = 8;
export const SECRET_KEY_MAX = 40;
/** User passwords (MinIO add-user) may be longer than generated secrets. */
export const USER_SECRET_MAX = 128;

const KEY_CHARS = /^[\x21-\x7e]+$/;

export function validateAccessKey(ak: string, max = ACCESS_KEY_MAX): void {
  if (ak.length < ACCESS_KEY_MIN || ak.length > max) {
    throw new IamError('InvalidAccessKey', `access key length should be between ${ACCESS_KEY_MIN} and ${max} characters`);
  }
  // Access keys travel in the SigV4 Credential field, where '/' and '=' separate parts.
  if (!KEY_CHARS.test(ak) || /[/=,]/.test(ak)) {
    throw new IamError('InvalidAccessKey', 'access key must be printable ASCII without space, "/", "=" or ","');
  }
}

export function validateSecretKey(sk: string, max = SECRET_KEY_MAX): void {
  if (sk.length < SECRET_KEY_MIN || sk.length > max) {
    throw new IamError('InvalidSecretKey', `secret key length should be between ${SECRET_KEY_MIN} and ${max} characters`);
  }
  if (!KEY_CHARS.test(sk)) throw new IamError('InvalidSecretKey', 'secret key must be printable ASCII without space');
}
