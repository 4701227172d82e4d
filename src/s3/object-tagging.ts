/** Put/Get/DeleteObjectTagging: tags live in the object's metadata. */
import type { Handler } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { parseTaggingXml, taggingXml } from './tags.js';

export const getObjectTagging: Handler = async (ctx) => {
  const meta = await ctx.services.backend.headObject(ctx.bucket!, ctx.key!);
  return xmlResult(taggingXml(meta.tags));
};

export const putObjectTagging: Handler = async (ctx) => {
  const tags = parseTaggingXml(await ctx.readBody(64 * 1024), 10);
  await ctx.services.backend.updateObjectMeta(ctx.bucket!, ctx.key!, (m) => ({ ...m, tags }));
  return { status: 200 };
};

export const deleteObjectTagging: Handler = async (ctx) => {
  await ctx.services.backend.updateObjectMeta(ctx.bucket!, ctx.key!, (m) => ({ ...m, tags: {} }));
  return { status: 204 };
};
