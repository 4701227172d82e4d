/**
 * notify_webhook: MinIO's webhook target.
 *
 * Each event is one POST to `endpoint` with Content-Type application/json and the body
 * {"EventName": ..., "Key": "bucket/object", "Records": [record]} (MinIO's event.Log).
 * Any 2xx answer is success; anything else, a network error or the timeout rejects.
 *
 * auth_token: sent as "Authorization: Bearer <token>", or as it is when it already
 * has a scheme ("Basic abc", "Bearer xyz"). client_cert/client_key: PEM files for mTLS.
 * s3gate additions: `timeout` (whole request, default 10s) and `cert_authority`
 * (a PEM bundle trusted in addition to the system roots, for private CAs).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { EventTarget, QueuedEvent } from '../target.js';
import { LazyConnection } from './connection.js';
import { tcpReachable } from './tcp-reachable.js';
import { ONLINE_CHECK_TIMEOUT_MS } from './deadline.js';
import { COMMENT_OPTION, OptionReader, parseQueueOptions, QUEUE_OPTIONS, type TargetOptionSpec } from './options.js';
import { minioLogMessage } from './payload.js';

const SUBSYSTEM = 'notify_webhook';

export const WEBHOOK_OPTIONS: TargetOptionSpec[] = [
  { key: 'endpoint', default: '', type: 'url', optional: false, help: "webhook server endpoint e.g. http://localhost:8080/minio/events" },
  { key: 'auth_token', default: '', type: 'string', optional: true, sensitive: true, help: "opaque string or JWT authorization token, sent as 'Bearer <token>' unless it has its own scheme" },
  ...[...QUEUE_OPTIONS].reverse(), // MinIO prints queue_limit before queue_dir here
  { key: 'client_cert', default: '', type: 'path', optional: true, help: 'client cert for Webhook mTLS auth (PEM file)' },
  { key: 'client_key', default: '', type: 'path', optional: true, help: 'client cert key for Webhook mTLS auth (PEM file)' },
  { key: 'timeout', default: '10s', type: 'duration', optional: true, extension: true, help: "time limit for one delivery, e.g. '10s' or '500ms'" },
  { key: 'cert_authority', default: '', type: 'path', optional: true, extension: true, help: 'PEM CA bundle trusted for an https endpoint, in addition to the system roots' },
  COMMENT_OPTION,
];

export interface WebhookSettings {
  endpoint: URL;
  authorization: string | undefined;
  clientCert: string;
  clientKey: string;
  certAuthority: string;
  timeoutMs: number;
}

export function validateWebhookOptions(id: string, options: Record<string, string>): WebhookSettings {
  const r = new OptionReader(SUBSYSTEM, id, WEBHOOK_OPTIONS, options);
  parseQueueOptions(SUBSYSTEM, id, options);
  const raw = r.required('endpoint');
  let endpoint: URL;
  try {
    endpoint = new URL(raw);
  } catch {
    throw r.error('endpoint', `must be an http:// or https:// URL, got '${raw}'`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw r.error('endpoint', `must be an http:// or https:// URL, got '${raw}'`);
  const token = r.string('auth_token');
  const parts = token.split(/\s+/).filter(Boolean);
  if (parts.length > 2) throw r.error('auth_token', "must be a token or '<scheme> <token>'");
  const clientCert = r.string('client_cert');
  const clientKey = r.string('client_key');
  if ((clientCert === '') !== (clientKey === '')) throw r.error(clientCert ? 'client_key' : 'client_cert', 'must be set together with ' + (clientCert ? 'client_cert' : 'client_key'));
  if (clientCert && endpoint.protocol !== 'https:') throw r.error('client_cert', 'needs an https:// endpoint');
  const timeoutMs = r.duration('timeout');
  if (timeoutMs <= 0) throw r.error('timeout', 'must be greater than zero');
  return {
    endpoint,
    authorization: parts.length === 0 ? undefined : parts.length === 2 ? token.trim() : `Bearer ${parts[0]}`,
    clientCert, clientKey, certAuthority: r.string('cert_authority'), timeoutMs,
  };
}

class WebhookTarget implements EventTarget {
  readonly type = 'webhook' as const;
  /** The keep-alive agent, holding the mTLS material read from disk. */
  private readonly agent: LazyConnection<http.Agent>;

  constructor(readonly id: string, private readonly settings: WebhookSettings) {
    this.agent = new LazyConnection(`webhook target ${id}`, settings.timeoutMs, async () => this.makeAgent(), (a) => a.destroy());
  }

  private makeAgent(): http.Agent {
    const s = this.settings;
    if (s.endpoint.protocol === 'http:') return new http.Agent({ keepAlive: true, maxSockets: 4 });
    return new https.Agent({
      keepAlive: true, maxSockets: 4,
      cert: s.clientCert ? readFileSync(s.clientCert) : undefined,
      key: s.clientKey ? readFileSync(s.clientKey) : undefined,
      ca: s.certAuthority ? [...rootCertificates, readFileSync(s.certAuthority, 'utf8')] : undefined,
    });
  }

  /** MinIO only checks that the endpoint's port answers. */
  async init(): Promise<void> {
    await this.agent.get();
    if (!(await this.reachable(this.settings.timeoutMs))) throw new Error(`webhook target ${this.id}: ${this.settings.endpoint.host} is not reachable`);
  }

  async send(event: QueuedEvent): Promise<void> {
    const agent = await this.agent.get();
    const body = Buffer.from(minioLogMessage(event));
    const s = this.settings;
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json', 'Content-Length': body.length, 'User-Agent': 's3gate' };
    if (s.authorization) headers.Authorization = s.authorization;
    const request = s.endpoint.protocol === 'https:' ? https.request : http.request;
    try {
      await new Promise<void>((resolve, reject) => {
        // One timer per request, cleared as soon as it settles (AbortSignal.timeout would
        // leave a live timer behind for every event for the full timeout).
        const settle = (err?: Error) => {
          clearTimeout(timer);
          if (err) reject(err); else resolve();
        };
        const req = request(s.endpoint, { method: 'POST', agent, headers }, (res) => {
          res.resume();
          res.on('error', (err) => settle(new Error(`webhook target ${this.id}: ${err.message}`)));
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) settle();
            else settle(new Error(`webhook target ${this.id}: ${s.endpoint.origin} answered ${code} ${res.statusMessage ?? ''}`.trim()));
          });
        });
        // Declared after req (settle only runs from later callbacks, so it is set by then).
        const timer = setTimeout(() => {
          const err = new Error(`webhook target ${this.id}: no answer from ${s.endpoint.origin} within ${s.timeoutMs} ms`);
          settle(err);
          req.destroy(err);
        }, s.timeoutMs);
        req.on('error', (err) => settle(err.message.startsWith('webhook target ') ? err : new Error(`webhook target ${this.id}: ${err.message}`)));
        req.end(body);
      });
    } catch (err) {
      // Fresh agent (and re-read certificates) after a network failure; a non-2xx
      // answer came over a working connection.
      if (!/ answered \d+/.test((err as Error).message)) this.agent.drop(agent);
      throw err;
    }
  }

  isOnline(): Promise<boolean> {
    return this.reachable(ONLINE_CHECK_TIMEOUT_MS);
  }

  private reachable(timeoutMs: number): Promise<boolean> {
    const u = this.settings.endpoint;
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return tcpReachable(host, port, timeoutMs);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export function createWebhookTarget(id: string, options: Record<string, string>): EventTarget {
  return new WebhookTarget(id, validateWebhookOptions(id, options));
}
