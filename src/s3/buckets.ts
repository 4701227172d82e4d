/** Bucket handlers: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, bucket tagging. */
import { S3Error } from '../server/errors.js';
import type { Handler, RequestContext } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { parseXml, toXml } from '../server/xml.js';
import { assertBucketName } from '../storage/keys.js';
import { ownerOf } from './owner.js';
import { BucketPolicyCache } from '../policy/index.js';
import { parseTaggingXml, taggingXml } from './tags.js';

/**
 * With s3:ListAllMyBuckets every bucket is listed; otherwise (as MinIO) the buckets the
 * caller may list, and AccessDenied when there is none.
 */
export const listBuckets: Handler = async (ctx) => {
  if (ctx.principal.kind === 'anonymous') throw new S3Error('AccessDenied'); // as S3: never lists public buckets' names
  let buckets = await ctx.services.backend.listBuckets();
  if (!(await ctx.isAllowed({}))) {
    const visible = await Promise.all(buckets.map((b) => ctx.isAllowed({ op: 'ListObjects', bucket: b.name })));
    buckets = buckets.filter((_, i) => visible[i]);
    if (buckets.length === 0) throw new S3Error('AccessDenied');
  }
  return xmlResult(toXml('ListAllMyBucketsResult', {
    Owner: { ...ownerOf(ctx.services.settings.rootUser) },
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.created })) },
  }));
};

export const createBucket: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  assertBucketName(bucket);
  const body = await ctx.readBody(64 * 1024);
  if (body.length > 0) {
    const doc = parseXml(body);
    const location = doc.CreateBucketConfiguration?.LocationConstraint;
    const region = ctx.services.settings.region;
    if (location !== undefined && location !== '' && location !== region) {
      throw new S3Error('IllegalLocationConstraintException', `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to (${region}).`);
    }
  }
  await ctx.services.backend.createBucket(bucket);
  return { headers: { location: `/${bucket}` }, events: [{ name: 's3:BucketCreated', bucket }] };
};

export const headBucket: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  return { headers: { 'x-amz-bucket-region': ctx.services.settings.region } };
};

export const deleteBucket: Handler = async (ctx) => {
  await ctx.services.backend.deleteBucket(ctx.bucket!);
  ctx.services.events.invalidateBucket(ctx.bucket!);
  await BucketPolicyCache.announce(ctx.bucket!);
  return { status: 204, events: [{ name: 's3:BucketRemoved', bucket: ctx.bucket! }] };
};

export const getBucketLocation: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  const region = ctx.services.settings.region;
  return xmlResult(toXml('LocationConstraint', {}).replace('<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>',
    `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region === 'us-east-1' ? '' : region}</LocationConstraint>`));
};

const TAGGING_DOC = 'tagging.json';

async function bucketTags(ctx: RequestContext): Promise<Record<string, string> | undefined> {
  await ctx.services.backend.headBucket(ctx.bucket!);
  const raw = await ctx.services.backend.getBucketConfig(ctx.bucket!, TAGGING_DOC);
  return raw ? JSON.parse(raw.toString()) : undefined;
}

export const getBucketTagging: Handler = async (ctx) => {
  const tags = await bucketTags(ctx);
  if (!tags) throw new S3Error('NoSuchTagSet');
  return xmlResult(taggingXml(tags));
};

export const putBucketTagging: Handler = async (ctx) => {
  const tags = parseTaggingXml(await ctx.readBody(64 * 1024), 50);
  await ctx.services.backend.putBucketConfig(ctx.bucket!, TAGGING_DOC, Buffer.from(JSON.stringify(tags)));
  return { status: 204 };
};

export const deleteBucketTagging: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  await ctx.services.backend.deleteBucketConfig(ctx.bucket!, TAGGING_DOC);
  return { status: 204 };
};
