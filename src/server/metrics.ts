/**
 * GET /minio/v2/metrics/cluster (and .../node): MinIO's Prometheus v2 endpoint. So far
 * it carries the bucket notification metrics, with MinIO's names and labels:
 *   minio_notify_events_sent_total            delivered, all targets (counter)
 *   minio_notify_events_skipped_total         refused because a queue was full (counter)
 *   minio_notify_events_errors_total          refused or not written to a queue (counter)
 *   minio_notify_current_send_in_progress     events in sends now running (gauge)
 *   minio_notify_target_total_events          queued for the target (counter)
 *   minio_notify_target_failed_events         lost for the target: refused or not written
 *   minio_notify_target_current_send_in_progress
 *   minio_notify_target_queue_length          undelivered in its queue (gauge)
 * Per-target ones carry target_id (the id of notify_<type>:<id>) and target_name (the type).
 * Counters count since the process started, as MinIO's do.
 *
 * Who may scrape follows MINIO_PROMETHEUS_AUTH_TYPE (or S3GATE_PROMETHEUS_AUTH_TYPE):
 * 'jwt' (the default) wants "Authorization: Bearer <token>" with the token
 * `mc admin prometheus generate` (or `s3gate admin prometheus generate`) makes: HS512,
 * issuer "prometheus", subject an access key, signed with that key's secret key, not
 * expired, and the key's identity allowed admin:Prometheus. 'public' lets anyone scrape.
 */
import type { IncomingMessage } from 'node:http';
import { decodeJwt, jwtVerify } from 'jose';
import type { CredentialLookup, Principal } from '../auth/principal.js';
import type { DeliveryStatus } from '../events/delivery.js';
import type { ControlRoute } from './services.js';
import { S3Error } from './errors.js';
import { writeS3Error } from './http.js';

export type PrometheusAuth = 'jwt' | 'public';

export interface MetricsDeps {
  auth: PrometheusAuth;
  credentials: CredentialLookup;
  /** Does a policy allow this principal the admin action (root always may)? */
  isAllowed(principal: Principal, action: string): Promise<boolean>;
  status(): Promise<DeliveryStatus[]>;
}

const PATHS = new Set(['/minio/v2/metrics/cluster', '/minio/v2/metrics/node']);
/** Longer tokens than this are refused unread. */
const MAX_TOKEN = 8192;

/** The auth type from the environment; anything but jwt/public is a start-up error. */
export function prometheusAuthFromEnv(env: NodeJS.ProcessEnv): PrometheusAuth {
  const v = (env.S3GATE_PROMETHEUS_AUTH_TYPE ?? env.MINIO_PROMETHEUS_AUTH_TYPE ?? 'jwt').trim().toLowerCase();
  if (v !== 'jwt' && v !== 'public') throw new Error(`invalid MINIO_PROMETHEUS_AUTH_TYPE '${v}' (use jwt or public)`);
  return v;
}

export function metricsRoute(deps: MetricsDeps): ControlRoute {
  return {
    matches: (_req, url) => PATHS.has(url.pathname.replace(/\/+$/, '')),
    async handle(req, res, url, requestId) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return writeS3Error(req, res, new S3Error('MethodNotAllowed'), requestId, url.pathname);
      if (deps.auth === 'jwt' && !(await bearerAllowed(req, deps))) return writeS3Error(req, res, new S3Error('AccessDenied'), requestId, url.pathname);
      const body = renderNotifyMetrics(await deps.status());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

async function bearerAllowed(req: IncomingMessage, deps: MetricsDeps): Promise<boolean> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m || m[1].length > MAX_TOKEN) return false;
  try {
    const subject = decodeJwt(m[1]).sub; // unverified: only says whose secret to check with
    if (!subject) return false;
    const cred = await deps.credentials.lookup(subject);
    if (!cred) return false;
    await jwtVerify(m[1], new TextEncoder().encode(cred.secretKey), { algorithms: ['HS512'], issuer: 'prometheus', subject, requiredClaims: ['exp'] });
    return cred.principal.kind === 'root' || (await deps.isAllowed(cred.principal, 'admin:Prometheus'));
  } catch {
    return false;
  }
}

interface Sample { labels?: Record<string, string>; value: number }

function family(name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const s of samples) {
    const labels = s.labels ? `{${Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
    lines.push(`${name}${labels} ${s.value}`);
  }
  return lines.join('\n') + '\n';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The text exposition of the notification metrics for these targets. */
export function renderNotifyMetrics(targets: DeliveryStatus[]): string {
  const sum = (pick: (t: DeliveryStatus) => number) => targets.reduce((a, t) => a + pick(t), 0);
  const per = (pick: (t: DeliveryStatus) => number): Sample[] => targets.map((t) => ({ labels: { target_id: t.id, target_name: t.type }, value: pick(t) }));
  const lost = (t: DeliveryStatus) => t.overflow + t.writeErrors;
  return [
    family('minio_notify_current_send_in_progress', 'gauge', 'Number of events in sends now in progress to all targets', [{ value: sum((t) => t.sending) }]),
    family('minio_notify_events_errors_total', 'counter', 'Events that could not be queued for a target (queue full or write error)', [{ value: sum(lost) }]),
    family('minio_notify_events_sent_total', 'counter', 'Total number of events sent to the targets', [{ value: sum((t) => t.delivered) }]),
    family('minio_notify_events_skipped_total', 'counter', 'Events that were skipped to be sent to the targets due to the queue being full', [{ value: sum((t) => t.overflow) }]),
    family('minio_notify_target_current_send_in_progress', 'gauge', 'Number of events in the send now in progress to the target', per((t) => t.sending)),
    family('minio_notify_target_failed_events', 'counter', 'Number of events that could not be queued for the target', per(lost)),
    family('minio_notify_target_queue_length', 'gauge', 'Number of events currently staged in the queue_dir configured for the target', per((t) => t.queued)),
    family('minio_notify_target_total_events', 'counter', 'Total number of events queued for the target', per((t) => t.accepted)),
  ].join('');
}
