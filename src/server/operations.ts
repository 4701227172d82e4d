/**
 * Every S3 operation the router can name. The handler table (s3/handlers.ts) is a
 * Record over this union, so an operation nobody handles fails to compile.
 */
export const OPERATIONS = [
  // service
  'ListBuckets', 'ListenNotification',
  // buckets
  'CreateBucket', 'HeadBucket', 'DeleteBucket', 'GetBucketLocation', 'ListObjects', 'ListObjectsV2', 'ListObjectVersions',
  'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging',
  'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicyStatus',
  'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors',
  'GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration', 'ListenBucketNotification',
  'GetBucketVersioning', 'PutBucketVersioning', 'GetBucketAcl', 'PutBucketAcl',
  'GetBucketLifecycleConfiguration', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle',
  'GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption',
  'GetObjectLockConfiguration', 'PutObjectLockConfiguration',
  'GetBucketWebsite', 'GetBucketLogging', 'GetBucketReplication', 'GetBucketRequestPayment', 'GetBucketAccelerateConfiguration', 'GetBucketOwnershipControls',
  'DeleteObjects', 'PostObject', 'ListMultipartUploads',
  // objects
  'GetObject', 'HeadObject', 'PutObject', 'CopyObject', 'DeleteObject',
  'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging', 'GetObjectAttributes',
  'GetObjectAcl', 'PutObjectAcl', 'GetObjectRetention', 'PutObjectRetention', 'GetObjectLegalHold', 'PutObjectLegalHold',
  'RestoreObject', 'SelectObjectContent',
  'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts',
  // CORS preflight
  'PreflightRequest',
] as const;

export type OperationName = (typeof OPERATIONS)[number];
