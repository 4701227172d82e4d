/**
 * The S3 request path: context -> control-plane routes -> route -> authenticate ->
 * authorize -> handler -> respond (XML errors, request id) -> events. The one place that
 * writes responses for S3 handlers and publishes events only after success.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Readable, finished } from 'node:stream';
import { S3Error, isS3Error } from './errors.js';
import { authenticate } from './authenticate.js';
import type { AuthzRequest } from './authorizer.js';
import { decodeBody, readAll } from './body.js';
import type { HandlerResult, RequestContext } from './context.js';
import { decodePath, route, type Route } from './router.js';
import type { OperationName } from './operations.js';
import type { Services } from './services.js';
import { escapeXml } from './xml.js';
import { handlers } from '../s3/handlers.js';
import { parseCopySource } from '../s3/copy-source.js';
import { actualRequestCorsHeaders } from '../s3/cors.js';
import { log } from './log.js';
import { trackRequest } from './in-flight.js';
import type { ObjectEventInfo, RequestInfo } from '../events/publisher.js';

/** Small bodies (XML configs, form posts) are read whole up to this size. */
export const MAX_SMALL_BODY = 1024 * 1024;

/** Operations whose handler authorizes itself (per key, per bucket, or from a form). */
const SELF_AUTHORIZING = new Set<OperationName>(['PreflightRequest', 'PostObject', 'DeleteObjects', 'ListBuckets']);
/** MinIO accepts any signing region for these (mc probes sign for us-east-1). */
const ANY_REGION = new Set<OperationName>(['ListBuckets', 'GetBucketLocation']);

/** Request ids: a random per-process prefix and a counter (no RNG call per request). */
const REQUEST_ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let requestSeq = 0;
export function newRequestId(): string {
  requestSeq = (requestSeq + 1) >>> 0;
  return REQUEST_ID_PREFIX + requestSeq.toString(16).toUpperCase().padStart(8, '0');
}

export function clientIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** Writes an S3 error: XML body, or a bare status for HEAD. */
export function writeS3Error(req: IncomingMessage, res: ServerResponse, err: unknown, requestId: string, resource: string): void {
  const e = isS3Error(err) ? err : new S3Error('InternalError');
  if (!isS3Error(err)) {
    // A client that closed its connection mid-request (an upload cut short, a download
    // abandoned) is not the server's failure.
    if (req.socket.destroyed) log('debug', 'client went away', { requestId, error: String(err) });
    else log('error', 'internal error', { requestId, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
  if (res.headersSent) { res.destroy(); return; }
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  if (!req.complete) res.setHeader('connection', 'close'); // the unread rest of a large body cannot be skipped safely
  if (e.status === 304 || req.method === 'HEAD') {
    res.writeHead(e.status).end();
    return;
  }
  const extra = Object.entries(e.extra).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message>${extra}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`;
  res.writeHead(e.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
}

async function writeResult(res: ServerResponse, result: HandlerResult, head: boolean): Promise<void> {
  res.statusCode = result.status ?? 200;
  for (const [k, v] of Object.entries(result.headers ?? {})) if (v !== undefined) res.setHeader(k, v as string);
  const body = result.body;
  if (body === undefined || head) {
    if (body instanceof Readable) body.destroy();
    if (!res.hasHeader('content-length') && !head) res.setHeader('content-length', 0);
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
    return;
  }
  await sendStream(body, res);
}

/**
 * body.pipe(res) until res finishes; an error on either side destroys both (closing the
 * file) and rejects. What stream.pipeline does, without its per-call AbortController and
 * DOMException, which cost tens of microseconds per GET.
 */
function sendStream(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((ok, fail) => {
    let settled = false;
    const done = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      if (err) { body.destroy(); res.destroy(); fail(err); } else ok();
    };
    body.once('error', done);
    finished(res, done); // 'finish', or a premature close when the client goes away
    body.pipe(res);
  });
}

export function createS3Server(services: Services): Server {
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    const handled = handleRequest(services, req, res);
    // Counted for the events' group commit; GET and HEAD publish after their response, no batch waits for them.
    (req.method === 'GET' || req.method === 'HEAD' ? handled : trackRequest(handled)).catch((e) => {
      log('error', 'request failed after response started', { error: String(e) });
      res.destroy();
    });
  });
  return server;
}

export async function handleRequest(services: Services, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', requestId);
  res.setHeader('server', 's3gate');
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
  let resource = rawPath;
  try {
    const url = new URL(rawUrl.startsWith('/') ? rawUrl : '/' + rawUrl, 'http://s3gate.invalid');
    for (const r of services.controlRoutes) {
      if (r.matches(req, url)) return await r.handle(req, res, url, requestId);
    }
    const path = decodePath(rawPath);
    resource = path;
    const rt = route(req.method ?? 'GET', path, query, req.headers, services.settings.domains);
    // CORS headers go on before anything can fail, so error responses carry them too
    if (req.headers.origin !== undefined && rt.bucket && rt.op !== 'PreflightRequest') {
      const cors = actualRequestCorsHeaders(services.backend, rt.bucket, req.method ?? 'GET', req.headers);
      const h = cors instanceof Promise ? await cors : cors;
      if (h) for (const [k, v] of Object.entries(h)) res.setHeader(k, v);
    }
    const ctx = await buildContext(services, req, res, rt, query, requestId);
    if (!SELF_AUTHORIZING.has(rt.op)) await ctx.authorize({});
    const result = await handlers[rt.op](ctx);
    if (result.hijacked) return;
    // Changes are queued durably before the client hears of success; reads after.
    const [changes, reads] = partitionEvents(result);
    if (changes.length) await publishEvents(services, ctx, changes, result);
    await writeResult(res, result, req.method === 'HEAD');
    if (reads.length) void publishEvents(services, ctx, reads, result);
    if (process.env.S3GATE_LOG_LEVEL === 'debug') log('debug', 'request', { requestId, op: rt.op, status: res.statusCode });
  } catch (e) {
    await drainSmallBody(req);
    writeS3Error(req, res, e, requestId, resource);
  }
}

/** Bodies up to this size are read and dropped before an error, so the client sees it. */
const DRAIN_LIMIT = 1024 * 1024;

/**
 * A client still sending its body when we answer early gets a reset instead of our error;
 * for small bodies, read the rest first (bounded in time). Larger ones get connection: close.
 */
async function drainSmallBody(req: IncomingMessage): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return;
  const length = Number(req.headers['content-length'] ?? NaN);
  if (!(length <= DRAIN_LIMIT)) return;
  await new Promise<void>((ok) => {
    const done = () => { clearTimeout(timer); ok(); };
    const timer = setTimeout(done, 5_000);
    req.once('end', done).once('close', done).once('error', done);
    req.resume();
  });
}

async function buildContext(services: Services, req: IncomingMessage, res: ServerResponse, rt: Route, query: URLSearchParams, requestId: string): Promise<RequestContext> {
  const authn = rt.op === 'PostObject' || rt.op === 'PreflightRequest'
    ? { principal: (await import('../auth/principal.js')).ANONYMOUS, auth: { type: 'ANONYMOUS' as const, signatureVersion: '' } }
    : await authenticate(req, rt.path, query, {
      credentials: services.credentials, region: services.settings.region, services: ['s3'], anyRegion: ANY_REGION.has(rt.op),
      rawPath: req.url, virtualHostBucket: rt.virtualHost ? rt.bucket : undefined,
    });
  const sourceIp = clientIp(req);
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  let bodyTaken = false;
  const copyHeader = req.headers['x-amz-copy-source'];
  const copySource = typeof copyHeader === 'string' && (rt.op === 'CopyObject' || rt.op === 'UploadPartCopy') ? parseCopySource(copyHeader) : undefined;
  const ctx: RequestContext = {
    req, res, op: rt.op, bucket: rt.bucket, key: rt.key, query, requestId, sourceIp, secure, services,
    principal: authn.principal,
    auth: authn.auth,
    body() {
      if (bodyTaken) throw new Error('request body read twice');
      bodyTaken = true;
      return decodeBody(req, authn.auth);
    },
    readBody(limit = MAX_SMALL_BODY) {
      return readAll(ctx.body().stream, limit);
    },
    authorize(overrides) {
      return services.authorizer.authorize(authzRequest(overrides));
    },
    isAllowed(overrides) {
      return services.authorizer.isAllowed(authzRequest(overrides));
    },
  };
  const backend = services.backend;
  function authzRequest(overrides: Partial<AuthzRequest>): AuthzRequest {
    const bucket = overrides.bucket ?? rt.bucket;
    const key = overrides.key ?? rt.key;
    // s3:ExistingObjectTag conditions read the tags of the object touched (the source for copies)
    const tagsOf = copySource ?? (bucket && key ? { bucket, key } : undefined);
    return {
        op: rt.op, bucket: rt.bucket, key: rt.key, copySource, principal: authn.principal, query, headers: req.headers,
        sourceIp, secure, authType: authn.auth.type, signatureVersion: authn.auth.signatureVersion,
        signatureAgeMs: authn.auth.signedAt ? Date.now() - authn.auth.signedAt.getTime() : undefined,
        existingObjectTags: tagsOf ? () => backend.headObject(tagsOf.bucket, tagsOf.key).then((m) => m.tags, () => undefined) : undefined,
        ...overrides,
    };
  }
  return ctx;
}

function partitionEvents(result: HandlerResult): [ObjectEventInfo[], ObjectEventInfo[]] {
  const all = result.events ?? [];
  return [all.filter((e) => !e.name.startsWith('s3:ObjectAccessed:')), all.filter((e) => e.name.startsWith('s3:ObjectAccessed:'))];
}

async function publishEvents(services: Services, ctx: RequestContext, events: ObjectEventInfo[], result: HandlerResult): Promise<void> {
  const host = String(ctx.req.headers.host ?? '');
  const length = result.headers?.['content-length'];
  const info: RequestInfo = {
    principal: ctx.principal, requestId: ctx.requestId, region: services.settings.region, sourceIp: ctx.sourceIp,
    // MinIO reports the client as the event source
    host: ctx.sourceIp, port: '', userAgent: String(ctx.req.headers['user-agent'] ?? ''), time: new Date(),
    originEndpoint: host ? `${ctx.secure ? 'https' : 'http'}://${host}` : undefined,
    contentLength: length !== undefined ? String(length) : undefined,
  };
  for (const ev of events) {
    try { await services.events.publish(ev, info); } catch (e) { log('error', 'event publish failed', { requestId: ctx.requestId, error: String(e) }); }
  }
}
