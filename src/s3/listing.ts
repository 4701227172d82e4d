/** ListObjects (v1), ListObjectsV2 and ListObjectVersions (this server keeps one version: "null"). */
import { S3Error } from '../server/errors.js';
import type { Handler, RequestContext } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { toXml, type XmlNode } from '../server/xml.js';
import { uriEncode } from '../auth/sigv4.js';
import type { ListEntry, ListResult } from '../storage/backend.js';
import { ownerOf } from './owner.js';

export const MAX_KEYS = 1000;

export function parseMaxKeys(v: string | null, name = 'max-keys'): number {
  if (v === null || v === '') return MAX_KEYS;
  if (!/^-?\d+$/.test(v)) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { extra: { ArgumentName: name, ArgumentValue: v } });
  const n = Number(v);
  if (n < 0) throw new S3Error('InvalidArgument', `Argument ${name} must be an integer between 0 and 2147483647`, { extra: { ArgumentName: name, ArgumentValue: v } });
  return Math.min(n, MAX_KEYS);
}

function encoder(ctx: RequestContext): (s: string) => string {
  const t = ctx.query.get('encoding-type');
  if (t === null) return (s) => s;
  if (t.toLowerCase() !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { extra: { ArgumentName: 'encoding-type', ArgumentValue: t } });
  return (s) => uriEncode(s, true);
}

async function list(ctx: RequestContext, after: string, maxKeys: number): Promise<{ result: ListResult; prefix: string; delimiter: string }> {
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  // a marker below the prefix means "from the start of the prefix"
  const result = await ctx.services.backend.listObjects(ctx.bucket!, { prefix, delimiter, after, maxKeys });
  return { result, prefix, delimiter };
}

function contents(ctx: RequestContext, objects: ListEntry[], enc: (s: string) => string, withOwner: boolean): XmlNode[] {
  const owner = withOwner ? ownerOf(ctx.services.settings.rootUser) : undefined;
  return objects.map(({ key, meta }) => ({
    Key: enc(key),
    LastModified: meta.lastModified,
    ETag: `"${meta.etag}"`,
    ChecksumAlgorithm: meta.checksum?.algorithm,
    ChecksumType: meta.checksum?.type,
    Size: meta.size,
    Owner: owner,
    StorageClass: meta.storageClass ?? 'STANDARD',
  }));
}

export const listObjectsV2: Handler = async (ctx) => {
  const enc = encoder(ctx);
  const maxKeys = parseMaxKeys(ctx.query.get('max-keys'));
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? '';
  let after = startAfter;
  if (token !== null) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!token || !decoded.startsWith('1:')) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { extra: { ArgumentName: 'continuation-token' } });
    after = decoded.slice(2);
  }
  const { result, prefix, delimiter } = await list(ctx, after, maxKeys);
  const fetchOwner = ctx.query.get('fetch-owner') === 'true';
  const body: XmlNode = {
    Name: ctx.bucket,
    Prefix: enc(prefix),
    StartAfter: ctx.query.has('start-after') ? enc(startAfter) : undefined,
    ContinuationToken: token ?? undefined,
    NextContinuationToken: result.truncated && result.nextAfter !== undefined ? Buffer.from('1:' + result.nextAfter).toString('base64url') : undefined,
    KeyCount: result.objects.length + result.commonPrefixes.length,
    MaxKeys: maxKeys,
    Delimiter: delimiter ? enc(delimiter) : undefined,
    EncodingType: ctx.query.get('encoding-type') ? 'url' : undefined,
    IsTruncated: result.truncated,
    Contents: contents(ctx, result.objects, enc, fetchOwner),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  };
  return xmlResult(toXml('ListBucketResult', body));
};

export const listObjects: Handler = async (ctx) => {
  const enc = encoder(ctx);
  const maxKeys = parseMaxKeys(ctx.query.get('max-keys'));
  const marker = ctx.query.get('marker') ?? '';
  const { result, prefix, delimiter } = await list(ctx, marker, maxKeys);
  const body: XmlNode = {
    Name: ctx.bucket,
    Prefix: enc(prefix),
    Marker: enc(marker),
    NextMarker: result.truncated && delimiter && result.nextAfter !== undefined ? enc(result.nextAfter) : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter ? enc(delimiter) : undefined,
    EncodingType: ctx.query.get('encoding-type') ? 'url' : undefined,
    IsTruncated: result.truncated,
    Contents: contents(ctx, result.objects, enc, true),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  };
  return xmlResult(toXml('ListBucketResult', body));
};

export const listObjectVersions: Handler = async (ctx) => {
  const enc = encoder(ctx);
  const maxKeys = parseMaxKeys(ctx.query.get('max-keys'));
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const { result, prefix, delimiter } = await list(ctx, keyMarker, maxKeys);
  const owner = ownerOf(ctx.services.settings.rootUser);
  const body: XmlNode = {
    Name: ctx.bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker),
    VersionIdMarker: ctx.query.get('version-id-marker') ?? '',
    NextKeyMarker: result.truncated && result.nextAfter !== undefined ? enc(result.nextAfter) : undefined,
    NextVersionIdMarker: result.truncated ? 'null' : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter ? enc(delimiter) : undefined,
    EncodingType: ctx.query.get('encoding-type') ? 'url' : undefined,
    IsTruncated: result.truncated,
    Version: result.objects.map(({ key, meta }) => ({
      Key: enc(key), VersionId: 'null', IsLatest: true, LastModified: meta.lastModified, ETag: `"${meta.etag}"`,
      Size: meta.size, Owner: owner, StorageClass: meta.storageClass ?? 'STANDARD',
    })),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  };
  return xmlResult(toXml('ListVersionsResult', body));
};
