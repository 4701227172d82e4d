/**
 * The authenticate step: finds which scheme signed the request (SigV4 header, SigV4
 * presigned query, SigV2 header or query, or none), looks the access key up, checks the
 * session token for temporary credentials, and verifies the signature. POST form
 * uploads carry their signature in the form and are checked by the PostObject handler.
 */
import type { IncomingMessage } from 'node:http';
import { ANONYMOUS, type Credential, type CredentialLookup, type Principal } from '../auth/principal.js';
import { ALGORITHM, EMPTY_SHA256, parseAuthorizationHeader, parsePresignedQuery, verifySigV4, type SigV4Request } from '../auth/sigv4.js';
import { S3Error } from './errors.js';
import type { AuthInfo } from './context.js';

export interface Authenticated {
  principal: Principal;
  auth: AuthInfo;
}

export interface AuthenticateOptions {
  credentials: CredentialLookup;
  region: string;
  /** Expected SigV4 service: 's3' for S3, 'sts' / 'iam' for the query APIs. */
  services: string[];
  now?: Date;
  /** Accept a signature for any region (ListBuckets, GetBucketLocation, as MinIO). */
  anyRegion?: boolean;
  /** Payload hash to use when the client sent none (control-plane form bodies). */
  payloadHash?: string;
  /** SigV2 signs the request path as received (undecoded); defaults to req.url. */
  rawPath?: string;
  /** SigV2 signs "/bucket" in front of the path when the bucket came from the Host header. */
  virtualHostBucket?: string;
}

export async function findCredential(lookup: CredentialLookup, accessKey: string, token: string | undefined): Promise<Credential> {
  const cred = await lookup.lookup(accessKey, token);
  if (!cred) throw new S3Error('InvalidAccessKeyId');
  if (cred.expiresAt && cred.expiresAt.getTime() <= Date.now()) throw new S3Error('ExpiredToken');
  if (cred.sessionToken !== undefined) {
    if (!token) throw new S3Error('InvalidToken', 'The request must carry the session token (x-amz-security-token) of its temporary credentials.');
    if (token !== cred.sessionToken) throw new S3Error('InvalidToken');
  }
  return cred;
}

export async function authenticate(req: IncomingMessage, decodedPath: string, query: URLSearchParams, opts: AuthenticateOptions): Promise<Authenticated> {
  const now = opts.now ?? new Date();
  const header = req.headers.authorization;
  let sig: SigV4Request | undefined;
  let type: AuthInfo['type'];
  if (header?.startsWith(ALGORITHM)) {
    sig = parseAuthorizationHeader(header, req.headers, now);
    type = 'REST-HEADER';
  } else if (query.has('X-Amz-Algorithm') || query.has('X-Amz-Credential')) {
    sig = parsePresignedQuery(query, req.headers, now);
    type = 'REST-QUERY-STRING';
  } else if (header?.startsWith('AWS ') || (query.has('AWSAccessKeyId') && query.has('Signature'))) {
    return authenticateV2(req, decodedPath, query, opts, now);
  } else if (header) {
    throw new S3Error('AccessDenied', 'Unsupported Authorization Type');
  } else {
    return { principal: ANONYMOUS, auth: { type: 'ANONYMOUS', signatureVersion: '' } };
  }
  if (!opts.services.includes(sig.service)) {
    throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; incorrect service "${sig.service}". This endpoint belongs to "${opts.services[0]}".`);
  }
  if (sig.region !== opts.region && !opts.anyRegion) {
    throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${sig.region}' is wrong; expecting '${opts.region}'`, { extra: { Region: opts.region } });
  }
  const token = (query.get('X-Amz-Security-Token') ?? req.headers['x-amz-security-token']) as string | undefined;
  const credential = await findCredential(opts.credentials, sig.accessKey, token);
  let payloadHash: string | undefined;
  if (!sig.presigned && req.headers['x-amz-content-sha256'] === undefined) {
    // Clients outside S3 (STS, IAM) sign the body hash without sending the header.
    payloadHash = opts.payloadHash ?? EMPTY_SHA256;
  }
  const signingKey = verifySigV4(sig, credential.secretKey, req.method ?? 'GET', decodedPath, query, req.headers, payloadHash);
  return {
    principal: credential.principal,
    auth: { type, signatureVersion: ALGORITHM, credential, sigv4: sig, signingKey, signedAt: sig.signedAt },
  };
}

async function authenticateV2(req: IncomingMessage, decodedPath: string, query: URLSearchParams, opts: AuthenticateOptions, now: Date): Promise<Authenticated> {
  const { parseSigV2, verifySigV2 } = await import('../auth/sigv2.js');
  // repeated x-amz-* headers are signed joined with ',': give the parser every value
  const parsed = parseSigV2(req.method ?? 'GET', opts.rawPath ?? req.url ?? decodedPath, query, req.headersDistinct, opts.virtualHostBucket, now);
  const token = (query.get('x-amz-security-token') ?? req.headers['x-amz-security-token']) as string | undefined;
  const credential = await findCredential(opts.credentials, parsed.accessKey, token);
  verifySigV2(parsed, credential.secretKey);
  return {
    principal: credential.principal,
    auth: { type: parsed.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER', signatureVersion: 'AWS', credential, signedAt: parsed.signedAt },
  };
}
