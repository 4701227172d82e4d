/**
 * Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. Policies are validated with the
 * policy engine (bucket kind: Principal required, resources inside this bucket), stored
 * verbatim, and every worker's compiled cache is told at once.
 */
import { S3Error } from '../server/errors.js';
import type { Handler } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml } from '../server/xml.js';
import { BucketPolicyCache, BUCKET_POLICY_CONFIG_NAME, MAX_BUCKET_POLICY_BYTES, isPolicyError, parsePolicy, evaluatePolicies, createContext, principalIdentity } from '../policy/index.js';
import { ANONYMOUS } from '../auth/principal.js';

export const getBucketPolicy: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  const doc = await ctx.services.backend.getBucketConfig(ctx.bucket!, BUCKET_POLICY_CONFIG_NAME);
  if (!doc) throw new S3Error('NoSuchBucketPolicy', undefined, { extra: { BucketName: ctx.bucket! } });
  return { headers: { 'content-type': 'application/json' }, body: doc };
};

export const putBucketPolicy: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  const body = await ctx.readBody(MAX_BUCKET_POLICY_BYTES + 1);
  if (body.length > MAX_BUCKET_POLICY_BYTES) throw new S3Error('PolicyTooLarge', `Policy exceeds the maximum allowed document size (${MAX_BUCKET_POLICY_BYTES} bytes).`, { status: 400 });
  try {
    parsePolicy(body, { kind: 'bucket', bucket, name: `bucket-policy:${bucket}` });
  } catch (e) {
    if (isPolicyError(e)) throw new S3Error(e.code === 'PolicyTooLarge' ? 'PolicyTooLarge' : 'MalformedPolicy', e.message, { status: 400 });
    throw e;
  }
  await ctx.services.backend.putBucketConfig(bucket, BUCKET_POLICY_CONFIG_NAME, body);
  BucketPolicyCache.announce(bucket);
  return { status: 204 };
};

export const deleteBucketPolicy: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  await ctx.services.backend.deleteBucketConfig(ctx.bucket!, BUCKET_POLICY_CONFIG_NAME);
  BucketPolicyCache.announce(ctx.bucket!);
  return { status: 204 };
};

/** IsPublic: the policy grants anonymous access to this bucket unconditionally. */
export const getBucketPolicyStatus: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  const doc = await ctx.services.backend.getBucketConfig(bucket, BUCKET_POLICY_CONFIG_NAME);
  if (!doc) throw new S3Error('NoSuchBucketPolicy', undefined, { extra: { BucketName: bucket } });
  const policy = parsePolicy(doc, { kind: 'bucket', bucket });
  const who = principalIdentity(ANONYMOUS);
  // public = anonymous is allowed something with no request context to satisfy conditions
  const isPublic = ['s3:GetObject', 's3:ListBucket', 's3:PutObject'].some((action) => evaluatePolicies([policy], {
      action, resource: action === 's3:ListBucket' ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/*`, context: createContext({}), principal: who,
    }).decision === 'Allow');
  return xmlResult(toXml('PolicyStatus', { IsPublic: isPublic }));
};
