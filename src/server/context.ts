/**
 * The value every S3 handler receives, and the value it returns. Handlers never write
 * to the response themselves: the request path writes HandlerResult, maps errors to S3
 * XML, and publishes `events` only after a successful response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { AuthType, Credential, Principal } from '../auth/principal.js';
import type { SigV4Request } from '../auth/sigv4.js';
import type { ObjectEventInfo } from '../events/publisher.js';
import type { OperationName } from './operations.js';
import type { Services } from './services.js';
import type { AuthzRequest } from './authorizer.js';

export interface AuthInfo {
  type: AuthType;
  /** 'AWS4-HMAC-SHA256' | 'AWS' | '' */
  signatureVersion: string;
  credential?: Credential;
  sigv4?: SigV4Request;
  signingKey?: Buffer;
  signedAt?: Date;
}

export interface RequestContext {
  req: IncomingMessage;
  /** Only for handlers that stream their own response (and then return hijacked). */
  res: ServerResponse;
  op: OperationName;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  principal: Principal;
  auth: AuthInfo;
  requestId: string;
  sourceIp: string;
  secure: boolean;
  services: Services;
  /**
   * The request body after transfer decoding (aws-chunked) and with its payload hash
   * verified at the end of the stream (the stream errors on mismatch).
   * Call once. `trailers()` returns aws-chunked trailers after the stream ended.
   */
  body(): { stream: Readable; trailers: () => Record<string, string> };
  /** Reads a small body (XML, JSON) completely, verified; errors past `limit` bytes. */
  readBody(limit?: number): Promise<Buffer>;
  /** Authorizes a further check inside a handler (per-key deletes, copy sources...). */
  authorize(overrides: Partial<AuthzRequest>): Promise<void>;
  isAllowed(overrides: Partial<AuthzRequest>): Promise<boolean>;
}

export interface HandlerResult {
  status?: number;
  headers?: Record<string, string | number | string[] | undefined>;
  body?: string | Buffer | Readable;
  /** Events to publish after the response was sent successfully. */
  events?: ObjectEventInfo[];
  /** The handler wrote the response itself (streaming control APIs like ListenBucketNotification). */
  hijacked?: boolean;
}

export type Handler = (ctx: RequestContext) => Promise<HandlerResult>;

/** A result with an XML body. */
export function xmlResult(xml: string, status = 200, headers: HandlerResult['headers'] = {}): HandlerResult {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body: xml };
}
