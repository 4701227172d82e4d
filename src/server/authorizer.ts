/**
 * The authorize step: the single place that decides whether a principal may perform an
 * operation. The request path builds an AuthzRequest for every S3 operation and calls
 * Authorizer.authorize, which throws S3Error('AccessDenied') on denial.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthType, Principal } from '../auth/principal.js';

export interface AuthzRequest {
  /** S3 operation name as AWS names it: GetObject, PutObject, ListObjectsV2, ... */
  op: string;
  bucket?: string;
  key?: string;
  /** CopyObject / UploadPartCopy source (already validated). */
  copySource?: { bucket: string; key: string; versionId?: string };
  /** DeleteObjects: every key in the request. */
  deleteKeys?: string[];
  principal: Principal;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  sourceIp: string;
  secure: boolean;
  authType: AuthType;
  /** 'AWS4-HMAC-SHA256' | 'AWS' (SigV2) | '' */
  signatureVersion: string;
  /** Milliseconds since the request was signed (s3:signatureAge), if known. */
  signatureAgeMs?: number;
  /** Tags of the object the request touches (s3:ExistingObjectTag/<key>), loaded lazily. */
  existingObjectTags?: () => Promise<Record<string, string> | undefined>;
  /** Tags the request sets (s3:RequestObjectTag/<key>). */
  requestObjectTags?: Record<string, string>;
}

export interface Authorizer {
  authorize(req: AuthzRequest): Promise<void>;
  /** The same decision without throwing (filtering ListBuckets, per-key checks). */
  isAllowed(req: AuthzRequest): Promise<boolean>;
}

/** Used until IAM is wired: root may do everything, nobody else anything. */
export const rootOnlyAuthorizer: Authorizer = {
  async authorize(req) {
    if (req.principal.kind !== 'root') {
      const { S3Error } = await import('./errors.js');
      throw new S3Error('AccessDenied');
    }
  },
  async isAllowed(req) {
    return req.principal.kind === 'root';
  },
};
