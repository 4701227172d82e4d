/**
 * Routing: bucket and key from a path-style or virtual-host request (--domain), and the
 * S3 operation name from method + query + headers (PUT ?tagging -> PutObjectTagging,
 * POST ?delete -> DeleteObjects ...). The key is validated here, before authentication
 * and authorization, so a request is always authorized against what it touches.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.js';
import type { OperationName } from './operations.js';
import { assertObjectKey } from '../storage/keys.js';

export interface Route {
  op: OperationName;
  bucket?: string;
  key?: string;
  /** The decoded path exactly as signed (for SigV4 canonical URI). */
  path: string;
  /** Bucket came from the Host header. */
  virtualHost: boolean;
}

/** Splits the Host header against the configured domains: 'b.s3.example.com' -> 'b'. */
export function bucketFromHost(host: string | undefined, domains: string[]): string | undefined {
  if (!host || domains.length === 0) return undefined;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  for (const d of domains) {
    if (name.endsWith('.' + d)) return name.slice(0, -(d.length + 1));
  }
  return undefined;
}

export function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    throw new S3Error('InvalidURI', 'Could not parse the specified URI.', { status: 400 });
  }
}

export function route(method: string, path: string, query: URLSearchParams, headers: IncomingHttpHeaders, domains: string[]): Route {
  let bucket: string | undefined;
  let key: string | undefined;
  const hostBucket = bucketFromHost(headers.host, domains);
  if (hostBucket) {
    bucket = hostBucket;
    key = path.length > 1 ? path.slice(1) : undefined;
  } else {
    const rest = path.slice(1);
    const slash = rest.indexOf('/');
    if (slash < 0) bucket = rest || undefined;
    else {
      bucket = rest.slice(0, slash);
      key = rest.slice(slash + 1) || undefined;
    }
  }
  if (key !== undefined) assertObjectKey(key);
  const op = operationOf(method, bucket, key, query, headers);
  return { op, bucket, key, path, virtualHost: !!hostBucket };
}

function operationOf(method: string, bucket: string | undefined, key: string | undefined, q: URLSearchParams, h: IncomingHttpHeaders): OperationName {
  if (method === 'OPTIONS') return 'PreflightRequest';
  if (!bucket) {
    if (method === 'GET') return q.has('events') ? 'ListenNotification' : 'ListBuckets';
    throw new S3Error('MethodNotAllowed');
  }
  if (key === undefined) return bucketOperation(method, q, h);
  return objectOperation(method, q, h);
}

function bucketOperation(method: string, q: URLSearchParams, h: IncomingHttpHeaders): OperationName {
  switch (method) {
    case 'GET':
      if (q.has('location')) return 'GetBucketLocation';
      if (q.has('tagging')) return 'GetBucketTagging';
      if (q.has('policyStatus')) return 'GetBucketPolicyStatus';
      if (q.has('policy')) return 'GetBucketPolicy';
      if (q.has('cors')) return 'GetBucketCors';
      if (q.has('notification')) return 'GetBucketNotificationConfiguration';
      if (q.has('events')) return 'ListenBucketNotification';
      if (q.has('uploads')) return 'ListMultipartUploads';
      if (q.has('versioning')) return 'GetBucketVersioning';
      if (q.has('versions')) return 'ListObjectVersions';
      if (q.has('acl')) return 'GetBucketAcl';
      if (q.has('lifecycle')) return 'GetBucketLifecycleConfiguration';
      if (q.has('encryption')) return 'GetBucketEncryption';
      if (q.has('object-lock')) return 'GetObjectLockConfiguration';
      if (q.has('website')) return 'GetBucketWebsite';
      if (q.has('logging')) return 'GetBucketLogging';
      if (q.has('replication')) return 'GetBucketReplication';
      if (q.has('requestPayment')) return 'GetBucketRequestPayment';
      if (q.has('accelerate')) return 'GetBucketAccelerateConfiguration';
      if (q.has('ownershipControls')) return 'GetBucketOwnershipControls';
      if (q.get('list-type') === '2') return 'ListObjectsV2';
      return 'ListObjects';
    case 'HEAD':
      return 'HeadBucket';
    case 'PUT':
      if (q.has('tagging')) return 'PutBucketTagging';
      if (q.has('policy')) return 'PutBucketPolicy';
      if (q.has('cors')) return 'PutBucketCors';
      if (q.has('notification')) return 'PutBucketNotificationConfiguration';
      if (q.has('versioning')) return 'PutBucketVersioning';
      if (q.has('acl')) return 'PutBucketAcl';
      if (q.has('lifecycle')) return 'PutBucketLifecycleConfiguration';
      if (q.has('encryption')) return 'PutBucketEncryption';
      if (q.has('object-lock')) return 'PutObjectLockConfiguration';
      return 'CreateBucket';
    case 'DELETE':
      if (q.has('tagging')) return 'DeleteBucketTagging';
      if (q.has('policy')) return 'DeleteBucketPolicy';
      if (q.has('cors')) return 'DeleteBucketCors';
      if (q.has('lifecycle')) return 'DeleteBucketLifecycle';
      if (q.has('encryption')) return 'DeleteBucketEncryption';
      return 'DeleteBucket';
    case 'POST':
      if (q.has('delete')) return 'DeleteObjects';
      if (String(h['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) return 'PostObject';
      throw new S3Error('MethodNotAllowed');
  }
  throw new S3Error('MethodNotAllowed');
}

function objectOperation(method: string, q: URLSearchParams, h: IncomingHttpHeaders): OperationName {
  switch (method) {
    case 'GET':
      if (q.has('tagging')) return 'GetObjectTagging';
      if (q.has('uploadId')) return 'ListParts';
      if (q.has('attributes')) return 'GetObjectAttributes';
      if (q.has('acl')) return 'GetObjectAcl';
      if (q.has('retention')) return 'GetObjectRetention';
      if (q.has('legal-hold')) return 'GetObjectLegalHold';
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      if (q.has('tagging')) return 'PutObjectTagging';
      if (q.has('uploadId') || q.has('partNumber')) return h['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
      if (q.has('acl')) return 'PutObjectAcl';
      if (q.has('retention')) return 'PutObjectRetention';
      if (q.has('legal-hold')) return 'PutObjectLegalHold';
      if (h['x-amz-copy-source']) return 'CopyObject';
      return 'PutObject';
    case 'DELETE':
      if (q.has('tagging')) return 'DeleteObjectTagging';
      if (q.has('uploadId')) return 'AbortMultipartUpload';
      return 'DeleteObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      if (q.has('uploadId')) return 'CompleteMultipartUpload';
      if (q.has('restore')) return 'RestoreObject';
      if (q.has('select')) return 'SelectObjectContent';
      throw new S3Error('MethodNotAllowed');
  }
  throw new S3Error('MethodNotAllowed');
}
