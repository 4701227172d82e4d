/**
 * The storage contract. The S3 handlers talk only to this interface; the posix backend
 * implements it over a directory tree. Every member has a "not implemented" default in
 * UnimplementedBackend so a test double or a new backend implements only what it needs.
 *
 * Keys passed in are already validated (see storage/keys.ts); bucket names too.
 */
import type { Readable } from 'node:stream';
import { S3Error } from '../server/errors.js';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64 value as S3 returns it (composite ones end in -N). */
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface PartInfo {
  number: number;
  size: number;
  etag: string;
  checksum?: string;
}

/** Everything S3 returns about an object, persisted with it. */
export interface ObjectMeta {
  /** ETag without quotes: md5 hex, or md5-of-md5s-N for multipart. */
  etag: string;
  size: number;
  lastModified: Date;
  contentType: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* with the prefix removed, keys lower-cased. */
  userMeta: Record<string, string>;
  tags: Record<string, string>;
  checksum?: StoredChecksum;
  /** Multipart objects: the layout, for partNumber reads and GetObjectAttributes. */
  parts?: PartInfo[];
  storageClass?: string;
  /** True when the file was written by someone other than s3gate (no attribute). */
  foreign?: boolean;
}

/** The metadata a write supplies; etag/size/lastModified are computed by the backend or finalize. */
export type NewObjectMeta = Omit<ObjectMeta, 'size' | 'lastModified' | 'foreign'>;

export interface WriteConditions {
  /** If-None-Match: * — fail with PreconditionFailed if the key exists. */
  ifNoneMatchStar?: boolean;
  /** If-Match: the current ETag must equal this. */
  ifMatch?: string;
}

export interface ListOptions {
  prefix: string;
  delimiter: string;
  /** Exclusive: list keys strictly after this (marker / start-after / token). */
  after: string;
  maxKeys: number;
}

export interface ListEntry {
  key: string;
  meta: ObjectMeta;
}

export interface ListResult {
  objects: ListEntry[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Last key or common prefix returned, for markers and continuation tokens. */
  nextAfter?: string;
}

export interface BucketInfo {
  name: string;
  created: Date;
}

/** A resolved byte range, or one chosen from the metadata once the object is open. */
export type ByteRangeChoice = { start: number; end: number } | ((meta: ObjectMeta) => { start: number; end: number } | undefined);

export interface Backend {
  listBuckets(): Promise<BucketInfo[]>;
  createBucket(bucket: string): Promise<void>;
  headBucket(bucket: string): Promise<BucketInfo>;
  deleteBucket(bucket: string): Promise<void>;

  /**
   * Streams body into a temp file, then calls finalize (which verifies digests and
   * returns the metadata to store; throwing there aborts with nothing changed), then
   * commits atomically under the write conditions.
   */
  putObject(bucket: string, key: string, body: Readable, finalize: (size: number) => NewObjectMeta | Promise<NewObjectMeta>, conditions?: WriteConditions): Promise<ObjectMeta>;
  headObject(bucket: string, key: string): Promise<ObjectMeta>;
  /**
   * Opens the object; range is inclusive [start, end] already resolved against size, or
   * a function of the opened object's metadata that returns it (and may throw, e.g. a
   * failed precondition, which closes the object), so GET needs one metadata read.
   */
  getObject(bucket: string, key: string, range?: ByteRangeChoice): Promise<{ meta: ObjectMeta; body: Readable | Buffer }>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Copies bytes (server side) and stores the given metadata for the destination. */
  copyObject(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, meta: (srcMeta: ObjectMeta) => NewObjectMeta, conditions?: WriteConditions): Promise<ObjectMeta>;
  /** Rewrites the metadata of an existing object in place (tags, copy-onto-itself). */
  updateObjectMeta(bucket: string, key: string, update: (meta: ObjectMeta) => NewObjectMeta): Promise<ObjectMeta>;
  listObjects(bucket: string, options: ListOptions): Promise<ListResult>;

  /** Small per-bucket documents (policy, cors, notification, tagging...), by name. */
  getBucketConfig(bucket: string, name: string): Promise<Buffer | undefined>;
  putBucketConfig(bucket: string, name: string, data: Buffer): Promise<void>;
  deleteBucketConfig(bucket: string, name: string): Promise<void>;
}

const notImplemented = (what: string) => () => Promise.reject(new S3Error('NotImplemented', `${what} is not implemented by this backend.`));

export class UnimplementedBackend implements Backend {
  listBuckets: Backend['listBuckets'] = notImplemented('ListBuckets');
  createBucket: Backend['createBucket'] = notImplemented('CreateBucket');
  headBucket: Backend['headBucket'] = notImplemented('HeadBucket');
  deleteBucket: Backend['deleteBucket'] = notImplemented('DeleteBucket');
  putObject: Backend['putObject'] = notImplemented('PutObject');
  headObject: Backend['headObject'] = notImplemented('HeadObject');
  getObject: Backend['getObject'] = notImplemented('GetObject');
  deleteObject: Backend['deleteObject'] = notImplemented('DeleteObject');
  copyObject: Backend['copyObject'] = notImplemented('CopyObject');
  updateObjectMeta: Backend['updateObjectMeta'] = notImplemented('UpdateObjectMeta');
  listObjects: Backend['listObjects'] = notImplemented('ListObjects');
  getBucketConfig: Backend['getBucketConfig'] = notImplemented('GetBucketConfig');
  putBucketConfig: Backend['putBucketConfig'] = notImplemented('PutBucketConfig');
  deleteBucketConfig: Backend['deleteBucketConfig'] = notImplemented('DeleteBucketConfig');
}
