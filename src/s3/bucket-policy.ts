/**
 * Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. Policies are validated with the
 * policy engine (bucket kind: Principal required, resources inside this bucket), stored
 * verbatim, and every worker's compiled cache is told at once.
 */
import { S3Error } from '../server/errors.js';
import type { Handler } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml } from '../server/xml.js';
import { BucketPolicyCache, BUCKET_POLICY_CONFIG_NAME, MAX_BUCKET_POLICY_BYTES, isPolicyError, parsePolicy } from '../policy/index.js';

export const getBucketPolicy: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  const doc = await ctx.services.backend.getBucketConfig(ctx.bucket!, BUCKET_POLICY_CONFIG_NAME);
  if (!doc) throw new S3Error('NoSuchBucketPolicy', undefined, { extra: { BucketName: ctx.bucket! } });
  return { headers: { 'content-type': 'application/json' }, body: doc };
};

export const putBucketPolicy: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  // Read the whole (bounded) body even past the policy limit: answering before the client
  // has sent it all closes the connection under it, and it sees a reset, not our error.
  const body = await ctx.readBody();
  if (body.length > MAX_BUCKET_POLICY_BYTES) throw new S3Error('PolicyTooLarge', `Policy exceeds the maximum allowed document size (${MAX_BUCKET_POLICY_BYTES} bytes).`, { status: 400 });
  try {
    parsePolicy(body, { kind: 'bucket', bucket, name: `bucket-policy:${bucket}` });
  } catch (e) {
    if (isPolicyError(e)) throw new S3Error(e.code === 'PolicyTooLarge' ? 'PolicyTooLarge' : 'MalformedPolicy', e.message, { status: 400 });
    throw e;
  }
  await ctx.services.backend.putBucketConfig(bucket, BUCKET_POLICY_CONFIG_NAME, body);
  await BucketPolicyCache.announce(bucket);
  return { status: 204 };
};

export const deleteBucketPolicy: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  await ctx.services.backend.deleteBucketConfig(ctx.bucket!, BUCKET_POLICY_CONFIG_NAME);
  await BucketPolicyCache.announce(ctx.bucket!);
  return { status: 204 };
};

/**
 * Condition keys that pin a grant to known callers or networks (AWS's "fixed values"): a
 * statement conditioned on one of them is not public. Anything else (s3:prefix,
 * aws:SecureTransport, ...) narrows what is granted, not to whom, so it stays public.
 */
const NON_PUBLIC_KEYS = new Set([
  'aws:sourceip', 'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceaccount', 'aws:sourceowner',
  'aws:principalorgid', 'aws:principalaccount', 'aws:principalarn', 'aws:userid', 'aws:username',
]);

/**
 * IsPublic (AWS's rule): some Allow statement applies to every principal ("*", or a
 * NotPrincipal) on any resource of the bucket, prefixes included, without a condition
 * that fixes who may call.
 */
export const getBucketPolicyStatus: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  const doc = await ctx.services.backend.getBucketConfig(bucket, BUCKET_POLICY_CONFIG_NAME);
  if (!doc) throw new S3Error('NoSuchBucketPolicy', undefined, { extra: { BucketName: bucket } });
  const policy = parsePolicy(doc, { kind: 'bucket', bucket });
  const isPublic = policy.statements.some((st) => st.effect === 'Allow' && st.principal !== undefined
    && (st.principal.not || st.principal.spec.any)
    && !st.conditions.some((c) => NON_PUBLIC_KEYS.has(c.key.toLowerCase())));
  return xmlResult(toXml('PolicyStatus', { IsPublic: isPublic }));
};
