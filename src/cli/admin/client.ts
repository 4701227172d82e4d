/**
 * The admin API client the CLI uses: SigV4 with service `s3` and an empty region, like
 * madmin (scope `date//s3/aws4_request`), the real body SHA-256 in
 * X-Amz-Content-Sha256, and madmin envelopes (Argon2id + AES-256-GCM, id 0x00) keyed
 * by the alias's secret key, exactly as current mc sends them.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { arch, platform } from 'node:os';
import { signRequest } from '../../auth/sigv4.js';
import { decryptData, encryptData } from '../../admin/madmin/crypto.js';
import type { Alias } from './aliases.js';

/** madmin-go v3 user agent: servers treat us as a current client (new service-account shapes). */
export const USER_AGENT = `MinIO (${platform()}; ${arch()}) madmin-go/3.0.70 s3gate/0.1.0`;

export class AdminApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export interface CallOptions {
  query?: Record<string, string | string[]>;
  /** Request body; `encrypt` wraps it in the envelope first. */
  body?: string | Buffer;
  encrypt?: boolean;
  /** Decrypt the reply body. */
  decrypt?: boolean;
  contentType?: string;
  version?: string;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function queryString(q: Record<string, string | string[]> = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
  p.sort();
  return p.toString().replace(/\+/g, '%20');
}

function send(url: URL, method: string, headers: Record<string, string>, body: Buffer): Promise<CallResult> {
  const req = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

export class AdminClient {
  constructor(private readonly alias: Alias) {}

  async call(method: string, op: string, opts: CallOptions = {}): Promise<CallResult> {
    const base = this.alias.url.replace(/\/+$/, '');
    const qs = queryString(opts.query);
    const url = new URL(`${base}/minio/admin/${opts.version ?? 'v3'}/${op}${qs ? `?${qs}` : ''}`);
    let body: Buffer = Buffer.from(opts.body ?? '');
    if (opts.encrypt) body = await encryptData(this.alias.secretKey, body);
    const unsigned: Record<string, string> = {};
    if (opts.contentType) unsigned['content-type'] = opts.contentType;
    const headers = signRequest({ method, url, headers: unsigned, body, accessKey: this.alias.accessKey, secretKey: this.alias.secretKey, region: '', service: 's3' });
    // Not signed (as minio-go): the user agent and the length.
    headers['user-agent'] = USER_AGENT;
    headers['content-length'] = String(body.length);
    let res: CallResult;
    try {
      res = await send(url, method, headers, body);
    } catch (e) {
      throw new AdminApiError(0, 'NetworkError', `Unable to reach ${base}: ${(e as Error).message}`);
    }
    if (res.status >= 300) throw errorOf(res);
    if (opts.decrypt && res.body.length) res.body = (await decryptData(this.alias.secretKey, res.body)).plaintext;
    return res;
  }

  async json<T = any>(method: string, op: string, opts: CallOptions = {}): Promise<T> {
    const res = await this.call(method, op, opts);
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch {
      throw new AdminApiError(res.status, 'BadResponse', 'Failed to parse server response.');
    }
  }
}

function errorOf(res: CallResult): AdminApiError {
  try {
    const e = JSON.parse(res.body.toString('utf8')) as { Code?: string; Message?: string };
    if (e.Code) return new AdminApiError(res.status, e.Code, e.Message || e.Code);
  } catch { /* fall through */ }
  return new AdminApiError(res.status, `HTTP${res.status}`, `Server answered ${res.status}${res.body.length ? `: ${res.body.toString('utf8').slice(0, 200)}` : ''}`);
}
