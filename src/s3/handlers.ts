/**
 * The handler table: one function per S3 operation. A Record over OperationName, so an
 * operation the router can name but nobody handles fails to compile.
 */
import type { Handler } from '../server/context.js';
import type { OperationName } from '../server/operations.js';
import { createBucket, deleteBucket, deleteBucketTagging, getBucketLocation, getBucketTagging, headBucket, listBuckets, putBucketTagging } from './buckets.js';
import { deleteBucketPolicy, getBucketPolicy, getBucketPolicyStatus, putBucketPolicy } from './bucket-policy.js';
import { getBucketNotification, listenNotification, putBucketNotification } from './notification.js';
import { defaultHandlers } from './defaults.js';
import { deleteObjects } from './delete-objects.js';
import { listObjectVersions, listObjects, listObjectsV2 } from './listing.js';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './object-tagging.js';
import { abortMultipartUpload, createMultipartUpload, uploadPart, uploadPartCopy } from './multipart.js';
import { completeMultipartUpload } from './multipart-complete.js';
import { listMultipartUploads, listParts } from './multipart-listing.js';
import { getObjectAttributes } from './object-attributes.js';
import { deleteBucketCors, getBucketCors, preflightRequest, putBucketCors } from './cors.js';
import { postObject } from './post-object.js';
import { copyObject, deleteObject, getObject, headObject, putObject } from './objects.js';

export const handlers: Record<OperationName, Handler> = {
  ...defaultHandlers,
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  GetBucketTagging: getBucketTagging,
  PutBucketTagging: putBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
  GetBucketPolicy: getBucketPolicy,
  PutBucketPolicy: putBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  GetBucketCors: getBucketCors,
  PutBucketCors: putBucketCors,
  DeleteBucketCors: deleteBucketCors,
  GetBucketNotificationConfiguration: getBucketNotification,
  PutBucketNotificationConfiguration: putBucketNotification,
  ListenBucketNotification: listenNotification,
  ListenNotification: listenNotification,
  DeleteObjects: deleteObjects,
  PostObject: postObject,
  ListMultipartUploads: listMultipartUploads,
  GetObject: getObject,
  HeadObject: headObject,
  PutObject: putObject,
  CopyObject: copyObject,
  DeleteObject: deleteObject,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  GetObjectAttributes: getObjectAttributes,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  PreflightRequest: preflightRequest,
};
