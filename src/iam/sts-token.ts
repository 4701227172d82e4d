/**
 * Self-contained STS session tokens, so any instance holding the shared signing key
 * (<sysDir>/iam/sts-signing-key.json) accepts credentials another instance issued, with no
 * lookup and no wait for an IAM refresh.
 *
 * Format: a compact JWT, HS256, header {"alg":"HS256","typ":"JWT","kid":<key id>}, claims
 *   ak   temporary access key          sub  parent user name
 *   pid  parent user id (a re-created user of the same name does not inherit the session)
 *   iat, exp  Unix seconds            jti  random nonce
 *   sp   session policy text (optional) rsn  RoleSessionName (optional)
 * The secret key is never in the token: it is HMAC-SHA256(signing key, "s3gate-sts-secret\0" +
 * claims segment), base64, first 40 chars, '/'->'+'. Holding the token therefore does not
 * give the secret; holding the signing key gives both, as it must for validation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  ak: string;
  sub: string;
  pid: string;
  iat: number;
  exp: number;
  jti: string;
  sp?: string;
  rsn?: string;
}

export interface SigningKey {
  id: string;
  key: Buffer;
}

const HEADER_PREFIX = { alg: 'HS256', typ: 'JWT' } as const;

function b64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url');
}

function mac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function deriveSecret(key: Buffer, claimsSegment: string): string {
  return createHmac('sha256', key).update('s3gate-sts-secret\0' + claimsSegment).digest('base64').slice(0, 40).replace(/\//g, '+');
}

/** Signs the claims; returns the token and the secret key that goes with it. */
export function issueSessionToken(signing: SigningKey, claims: SessionClaims): { token: string; secretKey: string } {
  const header = b64url(JSON.stringify({ ...HEADER_PREFIX, kid: signing.id }));
  const body = b64url(JSON.stringify(claims));
  const sig = b64url(mac(signing.key, `${header}.${body}`));
  return { token: `${header}.${body}.${sig}`, secretKey: deriveSecret(signing.key, body) };
}

export type TokenCheck =
  | { ok: true; claims: SessionClaims; secretKey: string }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'bad-signature' };

/**
 * Verifies the signature and shape (not the expiry: the caller owns the clock).
 * `keyFor` returns the signing key for a key id, or undefined when unknown.
 */
export function verifySessionToken(token: string, keyFor: (kid: string) => SigningKey | undefined): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '' || !/^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, reason: 'malformed' };
  const [h, b, s] = parts as [string, string, string];
  let header: any;
  let claims: any;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(b, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (header?.alg !== 'HS256' || typeof header.kid !== 'string') return { ok: false, reason: 'malformed' };
  const signing = keyFor(header.kid);
  if (!signing) return { ok: false, reason: 'unknown-key' };
  const expected = mac(signing.key, `${h}.${b}`);
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  if (!isClaims(claims)) return { ok: false, reason: 'malformed' };
  return { ok: true, claims, secretKey: deriveSecret(signing.key, b) };
}

/** Reads the key id without verifying (to decide whether to re-read the key file). */
export function tokenKeyId(token: string): string | undefined {
  const h = token.split('.')[0];
  if (!h) return undefined;
  try {
    const kid = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))?.kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

function isClaims(c: any): c is SessionClaims {
  return c && typeof c === 'object'
    && typeof c.ak === 'string' && typeof c.sub === 'string' && typeof c.pid === 'string'
    && Number.isInteger(c.iat) && Number.isInteger(c.exp) && typeof c.jti === 'string'
    && (c.sp === undefined || typeof c.sp === 'string')
    && (c.rsn === undefined || typeof c.rsn === 'string');
}
