/**
 * What the request path hands to the event system after a successful operation.
 * The event system turns it into S3/MinIO event records, matches bucket rules and
 * enqueues for targets; publish must never block the response on a target.
 */
import type { Principal } from '../auth/principal.js';

export interface ObjectEventInfo {
  /** Full event name, e.g. 's3:ObjectCreated:Put', 's3:BucketCreated'. */
  name: string;
  bucket: string;
  /** Object key (raw, not encoded); absent for bucket events. */
  key?: string;
  size?: number;
  etag?: string;
  contentType?: string;
  userMetadata?: Record<string, string>;
  versionId?: string;
}

export interface RequestInfo {
  principal: Principal;
  requestId: string;
  region: string;
  sourceIp: string;
  /** Host header value and the server's own host/port (MinIO puts the server's). */
  host: string;
  port: string;
  userAgent: string;
  /** requestParameters extras (MinIO sends region, sourceIPAddress, accessKey). */
  time: Date;
  /**
   * The server endpoint the client talked to, e.g. 'http://127.0.0.1:9000'
   * (responseElements x-minio-origin-endpoint). Falls back to the event service's endpoint.
   */
  originEndpoint?: string;
  /** The response Content-Length, which MinIO copies into responseElements when set. */
  contentLength?: string;
}

export interface EventPublisher {
  /**
   * Queues the event for every matching target. The returned promise (if any) resolves
   * once the event is durably queued (never waits on a target, never rejects): await it
   * before sending the S3 response to make "acknowledged to the client" imply "queued".
   */
  publish(event: ObjectEventInfo, request: RequestInfo): void | Promise<void>;
}

export const noEvents: EventPublisher = { publish() {} };
