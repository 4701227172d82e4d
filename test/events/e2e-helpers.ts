/**
 * Shared pieces of the end-to-end event tests (test/events/e2e*.test.ts and
 * fault*.test.ts): the AWS CLI against a test server, polling, a webhook receiver that
 * checks its Bearer token, a throwaway redis-server, and the record field checks.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { TestServer } from '../helpers/server.js';
import { closedPort } from '../helpers/services.js';

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `aws <args> --endpoint-url <server>` with the root credentials in the environment. */
export function awsCli(server: TestServer, args: string[]): Promise<CliResult> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  return new Promise((resolve, reject) => {
    execFile('aws', ['--endpoint-url', server.url, ...args], { env, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error("the AWS CLI is missing: install the Debian package 'awscli' (apt-get install awscli)"));
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

type Truthy<T> = Exclude<T, false | null | undefined | '' | 0>;

/** Polls `probe` until it returns something truthy, which is returned. */
export async function until<T>(probe: () => T | Promise<T>, ms: number, what: string): Promise<Truthy<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as Truthy<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WebhookReceiver {
  url: string;
  /** Parsed bodies of accepted POSTs, in arrival order. */
  bodies: any[];
  /** Requests refused for a missing/wrong token. */
  unauthorized: number;
  close(): Promise<void>;
}

/** An HTTP receiver that accepts POSTs only with `Authorization: Bearer <token>`. */
export async function startWebhookReceiver(token: string): Promise<WebhookReceiver> {
  const r: WebhookReceiver = { url: '', bodies: [], unauthorized: 0, close: async () => {} };
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        r.unauthorized++;
        res.writeHead(401).end();
        return;
      }
      try {
        r.bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/minio/events`;
  r.close = () => new Promise((ok) => { srv.closeAllConnections(); srv.close(() => ok()); });
  return r;
}

/** A redis-server of our own on a free port (no persistence), started and stopped by the test. */
export class ThrowawayRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async reserve(): Promise<ThrowawayRedis> {
    return new ThrowawayRedis(await closedPort());
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`cannot run redis-server (install the Debian package 'redis-server'): ${e.message}`)));
    });
    this.child = child;
    await Promise.race([failed, until(() => canConnect(this.port), 10_000, `redis-server on port ${this.port}`)]);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((ok) => { child.once('exit', () => ok()); child.kill('SIGKILL'); });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Go's url.QueryEscape, what MinIO puts in s3.object.key for targets. */
export function queryEscaped(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+');
}

export interface ExpectedEvent {
  eventName: string;
  bucket: string;
  key: string;
  requestId: string;
  size?: number;
  eTag?: string;
  contentType?: string;
  userMetadata?: Record<string, string>;
}

/** Asserts the record fields a consumer relies on (the seeds' MONITOR examples). */
export function checkRecord(record: any, want: ExpectedEvent, accessKey: string, where: string): void {
  const at = `${where}: ${want.eventName} ${want.key}`;
  assert.equal(record.eventVersion, '2.0', at);
  assert.equal(record.eventSource, 'minio:s3', at);
  assert.equal(record.eventName, want.eventName, at);
  assert.match(record.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, at);
  assert.deepEqual(record.userIdentity, { principalId: accessKey }, at);
  assert.equal(record.requestParameters.sourceIPAddress, '127.0.0.1', at);
  assert.equal(record.requestParameters.principalId, accessKey, at);
  assert.equal(record.responseElements['x-amz-request-id'], want.requestId, `${at}: x-amz-request-id is the S3 response's`);
  assert.equal(record.s3.s3SchemaVersion, '1.0', at);
  assert.equal(record.s3.configurationId, 'Config', at);
  assert.equal(record.s3.bucket.name, want.bucket, at);
  assert.equal(record.s3.bucket.arn, `arn:aws:s3:::${want.bucket}`, at);
  assert.deepEqual(record.s3.bucket.ownerIdentity, { principalId: accessKey }, at);
  assert.equal(record.s3.object.key, queryEscaped(want.key), `${at}: key URL-encoded`);
  assert.match(record.s3.object.sequencer, /^[0-9A-F]{16,}$/, at);
  assert.equal(record.source.host, '127.0.0.1', at);
  if (want.size !== undefined) assert.equal(record.s3.object.size, want.size, at);
  else assert.equal(record.s3.object.size, undefined, `${at}: no size`);
  if (want.eTag !== undefined) assert.equal(record.s3.object.eTag, want.eTag, at);
  else assert.equal(record.s3.object.eTag, undefined, `${at}: no eTag`);
  if (want.contentType !== undefined) assert.equal(record.s3.object.contentType, want.contentType, at);
  if (want.userMetadata !== undefined) assert.deepEqual(record.s3.object.userMetadata, want.userMetadata, at);
}
