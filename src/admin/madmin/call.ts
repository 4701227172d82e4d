/**
 * One admin request as the endpoint modules see it: the parsed request, the services,
 * and helpers for bodies (plain or madmin envelope), replies and admin-action checks.
 */
import type { Principal } from '../../auth/principal.js';
import type { IamService } from '../../iam/service.js';
import type { ConfigService } from '../../config/service.js';
import type { DeliveryStatus } from '../../events/delivery.js';
import { decryptData, encryptData, replyAlgorithm, type AlgorithmId } from './crypto.js';
import { AdminError, adminErrors } from './errors.js';
import { clientGeneration, type ClientGeneration } from './client-version.js';

/** Admin request bodies larger than this are refused (MinIO's maxEConfigJSONSize). */
export const MAX_ADMIN_BODY = 262272;

export interface AdminRequest {
  method: string;
  /** 'v2' | 'v3' (anything else never reaches an endpoint). */
  version: string;
  /** The path after /minio/admin/<version>/, e.g. 'add-user', 'idp/builtin/policy/attach'. */
  op: string;
  query: URLSearchParams;
  body: Buffer;
  principal: Principal;
  /** Secret key of the credential that signed the request: the envelope password. */
  secretKey: string;
  userAgent?: string;
  contentType?: string;
  /** Host header (server info reports it as the endpoint). */
  host?: string;
  requestId: string;
}

export interface AdminResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface AdminDeps {
  iam: IamService;
  /** notify_* settings; config endpoints answer 501 without it. */
  config?: ConfigService;
  /** Target ARNs and delivery status (server info, target status). */
  events?: { listTargetArns(): string[]; status(): Promise<DeliveryStatus[]> };
  region: string;
  /** HostId in errors and deploymentID in server info. */
  deploymentId: string;
  version?: string;
  commitId?: string;
  startedAt?: Date;
  /** Bucket/object counts for server info (optional, may be slow: keep it cheap). */
  usage?: () => Promise<{ buckets: number; objects?: number; size?: number }>;
}

export class AdminCall {
  readonly client: ClientGeneration;
  private requestAlgorithm?: AlgorithmId;

  constructor(readonly req: AdminRequest, readonly deps: AdminDeps) {
    this.client = clientGeneration(req.userAgent);
  }

  get iam(): IamService { return this.deps.iam; }
  get principal(): Principal { return this.req.principal; }
  get query(): URLSearchParams { return this.req.query; }

  /** A required query parameter (routing already checked presence). */
  param(name: string): string {
    return this.req.query.get(name) ?? '';
  }

  /** The user whose rights the caller has: itself, or the parent of a service account / STS session. */
  get callerUser(): string {
    const p = this.principal;
    return p.kind === 'serviceAccount' || p.kind === 'sts' ? (p.parentUser ?? p.username) : p.username;
  }

  /** The request body, decrypted from the madmin envelope. */
  async decrypted(): Promise<Buffer> {
    this.checkSize();
    if (this.req.body.length === 0) throw adminErrors.badJSON('The request body is empty');
    const { plaintext, algorithm } = await decryptData(this.req.secretKey, this.req.body);
    this.requestAlgorithm = algorithm;
    return plaintext;
  }

  async decryptedJson<T = Record<string, unknown>>(): Promise<T> {
    return parseJsonObject<T>(await this.decrypted());
  }

  plainJson<T = Record<string, unknown>>(): T {
    this.checkSize();
    return parseJsonObject<T>(this.req.body);
  }

  private checkSize(): void {
    if (this.req.body.length > MAX_ADMIN_BODY) throw adminErrors.tooLarge();
  }

  ok(status = 200, headers: Record<string, string> = {}): AdminResponse {
    return { status, headers, body: Buffer.alloc(0) };
  }

  json(value: unknown, status = 200): AdminResponse {
    return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)) };
  }

  raw(body: string | Buffer, contentType = 'application/json'): AdminResponse {
    return { status: 200, headers: { 'content-type': contentType }, body: Buffer.from(body) };
  }

  /** A reply in the envelope, keyed by the caller's secret; JSON unless a string/Buffer is given. */
  async encrypted(value: unknown): Promise<AdminResponse> {
    const plain = typeof value === 'string' || Buffer.isBuffer(value) ? Buffer.from(value) : Buffer.from(JSON.stringify(value));
    const body = await encryptData(this.req.secretKey, plain, { algorithm: replyAlgorithm(this.requestAlgorithm) });
    return { status: 200, headers: { 'content-type': 'application/json' }, body };
  }

  /**
   * Requires an admin action (spec §1.3). Root always passes; others need an Allow for
   * `action` from their identity policies (no Resource: admin statements have none).
   * `self` (self-service) passes unless a policy explicitly denies the action.
   */
  async authorize(actions: string | string[], opts: { self?: boolean } = {}): Promise<void> {
    if (this.principal.kind === 'root') return;
    const list = Array.isArray(actions) ? actions : [actions];
    for (const action of list) {
      const ex = await this.iam.explain(this.principal, action);
      if (ex.allowed) return;
      if (opts.self && !ex.checks.some((c) => c.decidedBy?.effect === 'Deny')) return;
    }
    throw adminErrors.accessDenied();
  }
}

function parseJsonObject<T>(buf: Buffer): T {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw adminErrors.badJSON(`JSON configuration provided is of incorrect format: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw adminErrors.badJSON('JSON object expected');
  return v as T;
}

export function isAdminError(e: unknown): e is AdminError {
  return e instanceof AdminError;
}
