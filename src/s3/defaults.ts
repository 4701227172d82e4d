/**
 * Bucket and object sub-resources this server does not configure (versioning, ACLs,
 * lifecycle, encryption, object lock ...): reads answer what S3 answers for a bucket
 * that never had them configured, writes are refused with NotImplemented, except
 * the canned "private" ACL which is what every bucket here already is.
 */
import { S3Error } from '../server/errors.js';
import type { Handler } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml } from '../server/xml.js';
import { ownerOf } from './owner.js';

const notConfigured = (code: string, message: string): Handler => async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  throw new S3Error(code, message, { status: 404, extra: { BucketName: ctx.bucket! } });
};

const emptyDoc = (root: string, body: Record<string, string> = {}): Handler => async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  return xmlResult(toXml(root, body));
};

export const notImplemented = (what: string): Handler => async () => {
  throw new S3Error('NotImplemented', `${what} is not implemented by s3gate.`);
};

const acl: Handler = async (ctx) => {
  if (ctx.key) await ctx.services.backend.headObject(ctx.bucket!, ctx.key);
  else await ctx.services.backend.headBucket(ctx.bucket!);
  const owner = ownerOf(ctx.services.settings.rootUser);
  const xml = toXml('AccessControlPolicy', { Owner: { ...owner }, AccessControlList: { Grant: { Grantee: { ...owner }, Permission: 'FULL_CONTROL' } } })
    .replace('<Grantee>', '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">');
  return xmlResult(xml);
};

const putAcl: Handler = async (ctx) => {
  const canned = ctx.req.headers['x-amz-acl'];
  await ctx.readBody(64 * 1024);
  if (canned !== undefined && canned !== 'private') throw new S3Error('NotImplemented', 'Only the "private" canned ACL is supported; use bucket policies for access control.');
  if (ctx.key) await ctx.services.backend.headObject(ctx.bucket!, ctx.key);
  else await ctx.services.backend.headBucket(ctx.bucket!);
  return {};
};

export const defaultHandlers = {
  GetBucketVersioning: emptyDoc('VersioningConfiguration'),
  PutBucketVersioning: notImplemented('Bucket versioning'),
  GetBucketAcl: acl,
  PutBucketAcl: putAcl,
  GetObjectAcl: acl,
  PutObjectAcl: putAcl,
  GetBucketLifecycleConfiguration: notConfigured('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist'),
  PutBucketLifecycleConfiguration: notImplemented('Bucket lifecycle'),
  DeleteBucketLifecycle: notImplemented('Bucket lifecycle'),
  GetBucketEncryption: notConfigured('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found'),
  PutBucketEncryption: notImplemented('Bucket encryption'),
  DeleteBucketEncryption: notImplemented('Bucket encryption'),
  GetObjectLockConfiguration: notConfigured('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket'),
  PutObjectLockConfiguration: notImplemented('Object lock'),
  GetBucketWebsite: notConfigured('NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration'),
  GetBucketLogging: emptyDoc('BucketLoggingStatus'),
  GetBucketReplication: notConfigured('ReplicationConfigurationNotFoundError', 'The replication configuration was not found'),
  GetBucketRequestPayment: emptyDoc('RequestPaymentConfiguration', { Payer: 'BucketOwner' }),
  GetBucketAccelerateConfiguration: emptyDoc('AccelerateConfiguration'),
  GetBucketOwnershipControls: notConfigured('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found'),
  GetObjectRetention: notImplemented('Object retention'),
  PutObjectRetention: notImplemented('Object retention'),
  GetObjectLegalHold: notImplemented('Object legal hold'),
  PutObjectLegalHold: notImplemented('Object legal hold'),
  RestoreObject: notImplemented('RestoreObject'),
  SelectObjectContent: notImplemented('SelectObjectContent'),
} satisfies Record<string, Handler>;
