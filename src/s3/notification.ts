/** Put/GetBucketNotificationConfiguration and ListenBucketNotification (mc watch), over the event service. */
import type { Handler } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { listenBucketNotification, parseListenRequest } from '../events/listen.js';

export const putBucketNotification: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  await ctx.services.events.putBucketNotification(ctx.bucket!, await ctx.readBody(256 * 1024));
  return { status: 200 };
};

export const getBucketNotification: Handler = async (ctx) => {
  await ctx.services.backend.headBucket(ctx.bucket!);
  return xmlResult(await ctx.services.events.getBucketNotification(ctx.bucket!));
};

/** Streams matching records until the client goes away; the response is written here. */
export const listenNotification: Handler = async (ctx) => {
  if (ctx.bucket) await ctx.services.backend.headBucket(ctx.bucket);
  const filter = parseListenRequest(ctx.bucket, ctx.query);
  await listenBucketNotification(ctx.services.events.live, filter, ctx.res);
  return { hijacked: true };
};
