/**
 * notify_nats: MinIO's NATS target (core NATS or JetStream).
 *
 * Each event is published to `subject` with body {"EventName","Key","Records":[record]}
 * (MinIO's event.Log).
 * - jetstream=off: core publish, then a flush (PING/PONG round trip), so send()
 *   resolves once the server has the message (core NATS has no per-message ack).
 * - jetstream=on: JetStream publish; send() resolves on the stream's PubAck and
 *   rejects when no stream captures the subject.
 *
 * Auth: username/password, token, or a user_credentials (.creds) file. TLS: tls=on,
 * tls_skip_verify, cert_authority, client_cert/client_key (file paths).
 * ping_interval is in seconds (0 = client default). MinIO's deprecated NATS Streaming
 * keys (streaming*) and nkey_seed are not supported.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { EventTarget, QueuedEvent } from '../target.js';
import { LazyConnection } from './connection.js';
import { DEFAULT_TARGET_TIMEOUT_MS, ONLINE_CHECK_TIMEOUT_MS, withTimeout } from './deadline.js';
import { parseHostPort } from './host-port.js';
import { COMMENT_OPTION, OptionReader, parseQueueOptions, QUEUE_OPTIONS, type TargetOptionSpec } from './options.js';
import { minioLogMessage } from './payload.js';
import { settleInOrder } from './in-order.js';

const SUBSYSTEM = 'notify_nats';

export const NATS_OPTIONS: TargetOptionSpec[] = [
  { key: 'address', default: '', type: 'address', optional: false, help: 'NATS server address e.g. "0.0.0.0:4222"' },
  { key: 'subject', default: '', type: 'string', optional: false, help: 'NATS subscription subject' },
  { key: 'username', default: '', type: 'string', optional: true, help: 'NATS username' },
  { key: 'user_credentials', default: '', type: 'path', optional: true, help: 'path to a NATS user credentials (.creds) file' },
  { key: 'password', default: '', type: 'string', optional: true, sensitive: true, help: 'NATS password' },
  { key: 'token', default: '', type: 'string', optional: true, sensitive: true, help: 'NATS token' },
  { key: 'tls', default: 'off', type: 'on|off', optional: true, help: "set to 'on' to enable TLS" },
  { key: 'tls_skip_verify', default: 'off', type: 'on|off', optional: true, help: 'trust server TLS without verification, defaults to "off"' },
  { key: 'cert_authority', default: '', type: 'path', optional: true, help: 'path to certificate chain of the target NATS server' },
  { key: 'client_cert', default: '', type: 'path', optional: true, help: 'client cert for NATS mTLS auth' },
  { key: 'client_key', default: '', type: 'path', optional: true, help: 'client cert key for NATS mTLS auth' },
  { key: 'ping_interval', default: '0', type: 'number', optional: true, help: 'client ping commands interval in seconds to the server, disabled by default' },
  { key: 'jetstream', default: 'off', type: 'on|off', optional: true, help: "enable JetStream support: publish to a stream and wait for its ack, defaults to 'off'" },
  ...QUEUE_OPTIONS,
  COMMENT_OPTION,
];

export interface NatsSettings {
  server: string;
  subject: string;
  username: string;
  password: string;
  token: string;
  userCredentials: string;
  tls: boolean;
  tlsSkipVerify: boolean;
  certAuthority: string;
  clientCert: string;
  clientKey: string;
  pingIntervalMs: number;
  jetstream: boolean;
}

export function validateNatsOptions(id: string, options: Record<string, string>): NatsSettings {
  const r = new OptionReader(SUBSYSTEM, id, NATS_OPTIONS, options);
  parseQueueOptions(SUBSYSTEM, id, options);
  const address = r.required('address');
  const hp = parseHostPort(address.replace(/^(nats|tls):\/\//, ''), 4222);
  if (typeof hp === 'string') throw r.error('address', hp);
  const subject = r.required('subject');
  if (/[\s*>]/.test(subject) || subject.startsWith('.') || subject.endsWith('.') || subject.includes('..')) {
    throw r.error('subject', `must be a plain subject without wildcards or spaces, got '${subject}'`);
  }
  const clientCert = r.string('client_cert');
  const clientKey = r.string('client_key');
  if ((clientCert === '') !== (clientKey === '')) throw r.error(clientCert ? 'client_key' : 'client_cert', 'must be set together with ' + (clientCert ? 'client_cert' : 'client_key'));
  const pingSeconds = r.string('ping_interval');
  const pingIntervalMs = /^\d+$/.test(pingSeconds) ? Number(pingSeconds) * 1000 : r.duration('ping_interval');
  return {
    server: hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`,
    subject,
    username: r.string('username'),
    password: r.string('password'),
    token: r.string('token'),
    userCredentials: r.string('user_credentials'),
    tls: r.bool('tls'),
    tlsSkipVerify: r.bool('tls_skip_verify'),
    certAuthority: r.string('cert_authority'),
    clientCert, clientKey,
    pingIntervalMs,
    jetstream: r.bool('jetstream'),
  };
}

class NatsTarget implements EventTarget {
  readonly type = 'nats' as const;
  private readonly conn: LazyConnection<NatsConnection>;

  constructor(readonly id: string, private readonly settings: NatsSettings) {
    this.conn = new LazyConnection(`nats target ${id}`, DEFAULT_TARGET_TIMEOUT_MS, () => this.open(), (nc) => nc.close());
  }

  private connectionOptions(): ConnectionOptions {
    const s = this.settings;
    const opts: ConnectionOptions = {
      servers: s.server, name: `s3gate-${this.id}`, timeout: DEFAULT_TARGET_TIMEOUT_MS,
      // No background reconnect (it would buffer publishes); the next send reconnects.
      reconnect: false, maxReconnectAttempts: 0,
      user: s.username || undefined, pass: s.password || undefined, token: s.token || undefined,
    };
    if (s.pingIntervalMs > 0) opts.pingInterval = s.pingIntervalMs;
    if (s.userCredentials) opts.authenticator = credsAuthenticator(readFileSync(s.userCredentials));
    if (s.tls || s.certAuthority || s.clientCert) {
      opts.tls = {
        ca: s.certAuthority ? readFileSync(s.certAuthority, 'utf8') : undefined,
        cert: s.clientCert ? readFileSync(s.clientCert, 'utf8') : undefined,
        key: s.clientKey ? readFileSync(s.clientKey, 'utf8') : undefined,
        // Passed through to node:tls.
        ...(s.tlsSkipVerify ? { rejectUnauthorized: false } : {}),
      };
    }
    return opts;
  }

  private async open(): Promise<NatsConnection> {
    let nc: NatsConnection;
    try {
      nc = await connect(this.connectionOptions());
    } catch (err) {
      throw new Error(`nats target ${this.id}: cannot connect to ${this.settings.server}: ${(err as Error).message}`);
    }
    void nc.closed().then(() => this.conn.drop(nc));
    return nc;
  }

  async init(): Promise<void> {
    await this.conn.get();
  }

  send(event: QueuedEvent): Promise<void> {
    return this.sendBatch([event]);
  }

  /**
   * Core NATS: every event published, then one flush (the server has them all, in
   * order). JetStream: every event published at once, the PubAcks awaited in order.
   */
  async sendBatch(events: QueuedEvent[]): Promise<void> {
    const nc = await this.conn.get();
    const encoder = new TextEncoder();
    const subject = this.settings.subject;
    const publishAll = (): Array<Promise<void>> => {
      if (this.settings.jetstream) {
        const js = nc.jetstream({ timeout: DEFAULT_TARGET_TIMEOUT_MS });
        return events.map((e) => js.publish(subject, encoder.encode(minioLogMessage(e))).then(() => undefined));
      }
      try {
        for (const e of events) nc.publish(subject, encoder.encode(minioLogMessage(e)));
        return [nc.flush()];
      } catch (err) {
        return [Promise.reject(err)]; // a closed connection refuses publish() at once
      }
    };
    try {
      await settleInOrder(publishAll(), {
        wait: (a) => withTimeout(a, DEFAULT_TARGET_TIMEOUT_MS, `nats target ${this.id}: send`),
        describe: (err) => {
          const msg = (err as Error).message;
          // A stream that refuses (full, discard new) answers 503 too, with a description.
          const refusal = (err as { api_error?: { description?: string } }).api_error?.description;
          if (refusal) return new Error(`nats target ${this.id}: JetStream refused the message: ${refusal}`);
          if (this.settings.jetstream && /503|no responders/i.test(msg)) {
            return new Error(`nats target ${this.id}: no JetStream stream captures subject '${subject}' (${msg})`);
          }
          return new Error(`nats target ${this.id}: ${msg}`);
        },
      });
    } catch (err) {
      if (nc.isClosed()) this.conn.drop(nc);
      throw err;
    }
  }

  async isOnline(): Promise<boolean> {
    try {
      const nc = await withTimeout(this.conn.get(), ONLINE_CHECK_TIMEOUT_MS, 'nats online check');
      await withTimeout(nc.flush(), ONLINE_CHECK_TIMEOUT_MS, 'nats ping');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

export function createNatsTarget(id: string, options: Record<string, string>): EventTarget {
  return new NatsTarget(id, validateNatsOptions(id, options));
}
