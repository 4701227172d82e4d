/**
 * Builds S3/MinIO event records from what the request path reports.
 *
 * Field for field what MinIO sends (see the Redis MONITOR examples in the JuiceFS docs):
 * eventName keeps its "s3:" prefix; configurationId is always "Config"; map-valued fields
 * (requestParameters, responseElements, userMetadata) have their keys sorted, as Go's
 * JSON encoder writes maps; userMetadata carries "content-type" plus the user's
 * x-amz-meta-* headers in canonical form (X-Amz-Meta-Foo); removal and bucket events
 * carry no size/eTag/contentType/userMetadata; versionId only when set; the sequencer
 * is the uppercase hex of the event time in nanoseconds, made strictly increasing within
 * a process. Targets get the object key query-escaped (Go url.QueryEscape); the watch
 * stream gets it raw (MinIO does the same).
 */
import type { ObjectEventInfo, RequestInfo } from './publisher.js';
import type { EventRecord, QueuedEvent } from './target.js';
import { isBucketEvent } from './names.js';

export interface RecordContext {
  /** Server region (awsRegion; also requestParameters.region when the request has none). */
  region: string;
  /** x-amz-id-2: a stable id of this node. */
  nodeId: string;
  /** Default x-minio-origin-endpoint when the request does not say. */
  endpoint: string;
}

/** Go's url.QueryEscape: everything but A-Z a-z 0-9 - _ . ~ is %XX, space is '+'. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

let lastSequencer = 0n;
/** Uppercase hex nanoseconds of `time`, strictly increasing within this process. */
export function nextSequencer(time: Date): string {
  let ns = BigInt(time.getTime()) * 1_000_000n;
  if (ns <= lastSequencer) ns = lastSequencer + 1n;
  lastSequencer = ns;
  return ns.toString(16).toUpperCase();
}

function sorted(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

/** 'foo-bar' or 'x-amz-meta-foo-bar' -> 'X-Amz-Meta-Foo-Bar' (Go's CanonicalHeaderKey). */
function metaHeader(key: string): string {
  const full = key.toLowerCase().startsWith('x-amz-meta-') ? key : `x-amz-meta-${key}`;
  return full.toLowerCase().split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('-');
}

function principalIdOf(request: RequestInfo): string {
  return request.principal.parentUser || request.principal.accessKey;
}

/** One record; `escapeKey` false for the watch stream. */
export function buildRecord(event: ObjectEventInfo, request: RequestInfo, ctx: RecordContext, escapeKey = true, sequencer = nextSequencer(request.time)): EventRecord {
  const principalId = principalIdOf(request);
  const key = event.key ?? '';
  const responseElements: Record<string, string> = {
    'x-amz-id-2': ctx.nodeId,
    'x-amz-request-id': request.requestId,
    'x-minio-origin-endpoint': request.originEndpoint || ctx.endpoint,
  };
  if (request.contentLength) responseElements['content-length'] = request.contentLength;

  const object: Record<string, unknown> = { key: escapeKey ? queryEscape(key) : key };
  const removal = event.name.startsWith('s3:ObjectRemoved:') || isBucketEvent(event.name);
  if (!removal) {
    if (event.size !== undefined) object.size = event.size;
    if (event.etag) object.eTag = event.etag;
    if (event.contentType) object.contentType = event.contentType;
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(event.userMetadata ?? {})) meta[metaHeader(k)] = v;
    if (event.contentType) meta['content-type'] = event.contentType;
    object.userMetadata = sorted(meta);
  }
  if (event.versionId) object.versionId = event.versionId;
  object.sequencer = sequencer;

  const record = {
    eventVersion: '2.0',
    eventSource: 'minio:s3',
    awsRegion: ctx.region,
    eventTime: request.time.toISOString(),
    eventName: event.name,
    userIdentity: { principalId },
    requestParameters: sorted({ principalId, region: request.region ?? ctx.region, sourceIPAddress: request.sourceIp }),
    responseElements: sorted(responseElements),
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'Config',
      bucket: { name: event.bucket, ownerIdentity: { principalId }, arn: `arn:aws:s3:::${event.bucket}` },
      object,
    },
    source: { host: request.host, port: request.port, userAgent: request.userAgent },
  };
  return record as unknown as EventRecord;
}

/** The target-bound and (when someone watches) watch-bound forms of one event, sharing one sequencer. */
export function buildRecords(event: ObjectEventInfo, request: RequestInfo, ctx: RecordContext, withLive = true): { queued: QueuedEvent; live: EventRecord | undefined } {
  const sequencer = nextSequencer(request.time);
  const record = buildRecord(event, request, ctx, true, sequencer);
  const live = withLive ? buildRecord(event, request, ctx, false, sequencer) : undefined;
  return {
    queued: { eventName: event.name, key: `${event.bucket}/${event.key ?? ''}`, record, eventTime: record.eventTime },
    live,
  };
}
