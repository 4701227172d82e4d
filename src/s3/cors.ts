/**
 * Bucket CORS: Put/Get/DeleteBucketCors, the unauthenticated preflight (OPTIONS), and the
 * Access-Control-* headers of actual requests that carry an Origin.
 *
 * Decisions (S3 behaviour where it is documented, MinIO's where it is not):
 * - The configuration is validated as S3 does (1..100 rules, AllowedOrigin/AllowedMethod
 *   required, methods GET PUT POST DELETE HEAD only -> InvalidRequest, at most one `*` in
 *   an origin or allowed header, no wildcard in ExposeHeader, ID up to 255 characters,
 *   64 KiB document) and stored re-serialized as the bucket config `cors.xml`, so
 *   GetBucketCors always answers a clean document with the S3 namespace.
 * - Rules are tried in order; the first whose origin and method (and, for a preflight,
 *   every requested header) match wins. Origins and headers compare case-insensitively.
 * - A rule with AllowedOrigin `*` answers `Access-Control-Allow-Origin: *` without
 *   credentials; any other rule echoes the origin with `Allow-Credentials: true`.
 * - Preflight failures are 403 AccessForbidden with S3's CORSResponse messages; a bucket
 *   that does not exist looks like one without CORS (no existence oracle for anonymous).
 * - Actual requests get the headers on success and on error responses alike, so a page
 *   can read an S3 error. `Vary: Origin, ...` is sent whenever the bucket has a CORS
 *   configuration and the request has an Origin, matched or not, so caches stay right.
 * - The parsed rules are cached per bucket (negative answers too, bounded size) so the hot
 *   path never waits on the disk twice; Put/DeleteBucketCors announce a change on the
 *   cluster bus and every worker drops its entry; DeleteBucket's announcement on the
 *   bucket-policy topic drops it too (a bucket's configs go with it). Entries older than
 *   a minute are re-read in the background, for instances sharing a file system.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../server/errors.js';
import type { Handler } from '../server/context.js';
import { xmlResult } from '../server/context.js';
import { asArray, parseXml, toXml } from '../server/xml.js';
import { publishAndWait as busPublish, subscribe as busSubscribe } from '../server/cluster-bus.js';
import { BUCKET_POLICY_TOPIC } from '../policy/index.js';
import type { Backend } from '../storage/backend.js';

export const CORS_CONFIG_NAME = 'cors.xml';
export const CORS_TOPIC = 'bucket-cors';
const MAX_CORS_BYTES = 64 * 1024;
const MAX_RULES = 100;
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

// ---- configuration document

function strings(v: unknown): string[] {
  return asArray(v as string | string[] | undefined).map((s) => {
    if (typeof s !== 'string') throw new S3Error('MalformedXML');
    return s;
  });
}

function wildcards(s: string): number {
  return s.split('*').length - 1;
}

/** Parses and validates a CORSConfiguration document (S3's rules and error codes). */
export function parseCorsConfiguration(body: Buffer): CorsRule[] {
  if (body.length > MAX_CORS_BYTES) throw new S3Error('MalformedXML', `The CORS configuration must not exceed ${MAX_CORS_BYTES} bytes.`);
  const doc = parseXml(body).CORSConfiguration;
  if (!doc || typeof doc !== 'object') throw new S3Error('MalformedXML');
  const raw = asArray(doc.CORSRule as unknown);
  if (raw.length === 0) throw new S3Error('MalformedXML');
  if (raw.length > MAX_RULES) throw new S3Error('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`);
  return raw.map((r) => {
    if (!r || typeof r !== 'object') throw new S3Error('MalformedXML');
    const x = r as Record<string, unknown>;
    const rule: CorsRule = {
      allowedOrigins: strings(x.AllowedOrigin),
      allowedMethods: strings(x.AllowedMethod),
      allowedHeaders: strings(x.AllowedHeader),
      exposeHeaders: strings(x.ExposeHeader),
    };
    if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) throw new S3Error('MalformedXML');
    for (const m of rule.allowedMethods) {
      if (!METHODS.has(m)) throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    for (const o of rule.allowedOrigins) {
      if (wildcards(o) > 1) throw new S3Error('InvalidRequest', `AllowedOrigin "${o}" can not have more than one wildcard.`);
    }
    for (const h of rule.allowedHeaders) {
      if (wildcards(h) > 1) throw new S3Error('InvalidRequest', `AllowedHeader "${h}" can not have more than one wildcard.`);
    }
    for (const h of rule.exposeHeaders) {
      if (h.includes('*')) throw new S3Error('InvalidRequest', `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
    }
    if (x.ID !== undefined) {
      if (typeof x.ID !== 'string') throw new S3Error('MalformedXML');
      if (x.ID.length > 255) throw new S3Error('InvalidArgument', 'The ID of a CORS rule must be no more than 255 characters.', { extra: { ArgumentName: 'ID' } });
      rule.id = x.ID;
    }
    if (x.MaxAgeSeconds !== undefined) {
      const s = String(x.MaxAgeSeconds);
      if (!/^\d{1,10}$/.test(s) || Number(s) > 2 ** 31 - 1) throw new S3Error('MalformedXML');
      rule.maxAgeSeconds = Number(s);
    }
    return rule;
  });
}

export function corsConfigurationXml(rules: CorsRule[]): string {
  return toXml('CORSConfiguration', {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  });
}

// ---- matching

/** `pattern` with at most one `*` standing for any (possibly empty) run of characters. */
function wildcardMatch(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/** The first rule allowing this origin, method and (preflight) every requested header. */
export function matchCorsRule(rules: CorsRule[], origin: string, method: string, requestHeaders: string[] = []): CorsRule | undefined {
  return rules.find((r) =>
    r.allowedMethods.includes(method) &&
    r.allowedOrigins.some((o) => wildcardMatch(o, origin)) &&
    requestHeaders.every((h) => r.allowedHeaders.some((a) => wildcardMatch(a, h))));
}

/** The headers S3 sends for a matched rule (preflight adds methods/headers/max-age). */
function allowHeaders(rule: CorsRule, origin: string): Record<string, string> {
  const any = rule.allowedOrigins.includes('*') && !rule.allowedOrigins.some((o) => wildcardMatch(o, origin) && o !== '*');
  const h: Record<string, string> = {
    'access-control-allow-origin': any ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: VARY,
  };
  if (!any) h['access-control-allow-credentials'] = 'true';
  if (rule.exposeHeaders.length) h['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(rule.maxAgeSeconds);
  return h;
}

// ---- per-bucket cache

const REFRESH_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Entry { rules: CorsRule[] | null; loadedAt: number; refreshing?: boolean }

class CorsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly generation = new Map<string, number>();

  constructor(private readonly backend: Pick<Backend, 'getBucketConfig'>) {
    const drop = (payload: unknown) => {
      const bucket = (payload as { bucket?: unknown } | null)?.bucket;
      if (typeof bucket === 'string') this.invalidate(bucket);
      else { this.entries.clear(); this.generation.clear(); }
    };
    busSubscribe(CORS_TOPIC, drop);
    busSubscribe(BUCKET_POLICY_TOPIC, drop);
  }

  private invalidate(bucket: string): void {
    this.entries.delete(bucket);
    this.generation.set(bucket, (this.generation.get(bucket) ?? 0) + 1);
  }

  /** Cached rules synchronously (null = no CORS), or a promise on first use. */
  get(bucket: string): CorsRule[] | null | Promise<CorsRule[] | null> {
    const e = this.entries.get(bucket);
    if (!e) return this.load(bucket);
    if (Date.now() - e.loadedAt >= REFRESH_MS && !e.refreshing) {
      e.refreshing = true;
      this.load(bucket).catch(() => { e.refreshing = false; });
    }
    return e.rules;
  }

  private async load(bucket: string): Promise<CorsRule[] | null> {
    const gen = this.generation.get(bucket) ?? 0;
    const doc = await this.backend.getBucketConfig(bucket, CORS_CONFIG_NAME).catch(() => undefined);
    let rules: CorsRule[] | null = null;
    // a stored document that no longer parses allows nothing
    if (doc) { try { rules = parseCorsConfiguration(doc); } catch { rules = null; } }
    if ((this.generation.get(bucket) ?? 0) === gen) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(bucket, { rules, loadedAt: Date.now() });
    }
    return rules;
  }
}

const caches = new WeakMap<object, CorsCache>();
function cacheFor(backend: Pick<Backend, 'getBucketConfig'>): CorsCache {
  let c = caches.get(backend);
  if (!c) caches.set(backend, (c = new CorsCache(backend)));
  return c;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Access-Control-* headers for an actual (non-preflight) request with an Origin, or
 * undefined. Synchronous when the bucket's rules are cached (the common case).
 */
export function actualRequestCorsHeaders(backend: Pick<Backend, 'getBucketConfig'>, bucket: string, method: string, headers: IncomingHttpHeaders):
  Record<string, string> | undefined | Promise<Record<string, string> | undefined> {
  const origin = one(headers.origin);
  if (!origin) return undefined;
  const answer = (rules: CorsRule[] | null) => {
    if (!rules) return undefined;
    const rule = matchCorsRule(rules, origin, method);
    if (!rule) return { vary: VARY };
    const h = allowHeaders(rule, origin);
    delete h['access-control-max-age'];
    return h;
  };
  const rules = cacheFor(backend).get(bucket);
  return rules instanceof Promise ? rules.then(answer) : answer(rules);
}

// ---- handlers

function announce(bucket: string): Promise<void> {
  return busPublish(CORS_TOPIC, { bucket });
}

export const putBucketCors: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  const body = await ctx.readBody(MAX_CORS_BYTES + 1);
  const rules = parseCorsConfiguration(body);
  await ctx.services.backend.putBucketConfig(bucket, CORS_CONFIG_NAME, Buffer.from(corsConfigurationXml(rules)));
  await announce(bucket);
  return { status: 200 };
};

export const getBucketCors: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  const doc = await ctx.services.backend.getBucketConfig(bucket, CORS_CONFIG_NAME);
  if (!doc) throw new S3Error('NoSuchCORSConfiguration', undefined, { extra: { BucketName: bucket } });
  return xmlResult(doc.toString());
};

export const deleteBucketCors: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  await ctx.services.backend.headBucket(bucket);
  await ctx.services.backend.deleteBucketConfig(bucket, CORS_CONFIG_NAME);
  await announce(bucket);
  return { status: 204 };
};

const NOT_ENABLED = 'CORSResponse: CORS is not enabled for this bucket.';
const NOT_ALLOWED = 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.';

/** OPTIONS: answered from the bucket's rules, no authentication (browsers send none). */
export const preflightRequest: Handler = async (ctx) => {
  const origin = one(ctx.req.headers.origin);
  if (!origin) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.', { status: 400 });
  const method = one(ctx.req.headers['access-control-request-method']);
  if (!method || !METHODS.has(method)) throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`, { status: 400 });
  const requested = (one(ctx.req.headers['access-control-request-headers']) ?? '')
    .split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const rules = ctx.bucket ? await cacheFor(ctx.services.backend).get(ctx.bucket) : null;
  if (!rules) throw new S3Error('AccessForbidden', NOT_ENABLED, { status: 403 });
  const rule = matchCorsRule(rules, origin, method, requested);
  if (!rule) throw new S3Error('AccessForbidden', NOT_ALLOWED, { status: 403 });
  const headers: Record<string, string> = allowHeaders(rule, origin);
  if (requested.length) headers['access-control-allow-headers'] = requested.join(', ');
  return { status: 200, headers };
};
