/**
 * The policy Authorizer: decides every S3 request from identity policies (user + groups,
 * resolved by the IAM service), session policies (STS session / service-account embedded
 * policy) and the bucket policy, with AWS's same-account rules:
 *
 *   root (the resolver says so) -> allowed, always
 *   any explicit Deny          -> denied (identity, session or bucket policy)
 *   identity Allow AND (no session policy OR session Allow)      -> allowed
 *   bucket-policy Allow naming the caller itself ("*", its access key, user name or ARN)
 *                                                               -> allowed
 *   bucket-policy Allow reached only through the parent user of a service account /
 *   STS session -> allowed only if the session policy (if any) allows too
 *   otherwise                  -> denied ("no statement allowed")
 * Anonymous requests have no identity policies: exactly what a bucket policy grants to
 * Principal "*" ({"AWS":"*"}) is allowed. A request is allowed only if every check
 * from requiredChecks (src/policy/s3-actions.ts) is; an operation without a mapping is
 * denied. s3:ExistingObjectTag tags are loaded (lazily, once) only when a consulted
 * policy reads them.
 *
 * Denials throw S3Error('AccessDenied') and, with S3GATE_LOG_LEVEL=debug, log one JSON
 * line to stderr with the explanation. explain()/explainAction() return the same
 * explanation for the CLI, console and explain API.
 */
import type { Principal } from '../auth/principal.js';
import type { Authorizer, AuthzRequest } from '../server/authorizer.js';
import { S3Error } from '../server/errors.js';
import {
  checkContext, createContext, describeStatement, evaluatePolicies, layerContext, principalIdentity, requestContext,
  requiredChecks, S3_ARN_PREFIX, UnknownOperationError, DEFAULT_ACCOUNT_ID,
  type AuthzCheck, type CompiledPolicy, type ConditionContext, type ContextInput, type PrincipalIdentity, type StatementRef,
} from '../policy/index.js';

/** A compiled policy, bare or as the IAM service's `{ name, policy }` pair. */
export type PolicyRef = CompiledPolicy | { name: string; policy: CompiledPolicy };

/** What the IAM service answers for a principal (IamService.resolveIdentity fits as is). */
export interface IdentityPolicies {
  /**
   * The identity policies that apply: for a user its own and its enabled groups'
   * policies; for a service account or STS session those of the parent user (current,
   * not as of issue time).
   */
  policies: readonly PolicyRef[];
  /** STS session policy or service-account embedded policy: narrows `policies` (intersection). */
  sessionPolicy?: PolicyRef;
}

/**
 * Implemented by the IAM service; must answer from memory. 'root' = unrestricted. Asked
 * for every principal but anonymous (a root-kind principal is unrestricted only when the
 * resolver says 'root').
 */
export type IdentityPolicyResolver = (principal: Principal) => IdentityPolicies | 'root' | Promise<IdentityPolicies | 'root'>;

interface ResolvedPolicies { policies: readonly CompiledPolicy[]; sessionPolicy?: CompiledPolicy }

function unwrap(p: PolicyRef): CompiledPolicy {
  return 'statements' in p ? p : p.policy;
}

/** Usually `(bucket) => bucketPolicyCache.get(bucket)`. */
export type BucketPolicyLookup = (bucket: string) => CompiledPolicy | undefined | Promise<CompiledPolicy | undefined>;

export interface PolicyAuthorizerDeps {
  identityPolicies: IdentityPolicyResolver;
  bucketPolicy?: BucketPolicyLookup;
  /** The single account id used in ARNs (default 000000000000). */
  accountId?: string;
  now?: () => Date;
  /** Debug sink; default: JSON line to stderr when S3GATE_LOG_LEVEL=debug. */
  log?: (line: Record<string, unknown>) => void;
}

export type DecisionSource = 'root' | 'identity' | 'session' | 'bucket';

export interface CheckExplanation {
  action: string;
  resource?: string;
  bucket?: string;
  key?: string;
  allowed: boolean;
  /** The statement that decided (an Allow that granted or the Deny that refused). */
  decidedBy?: StatementRef & { source: DecisionSource };
  reason: string;
}

export interface Explanation {
  allowed: boolean;
  op?: string;
  principal: { kind: Principal['kind']; username: string; accessKey: string };
  checks: CheckExplanation[];
  /** One-line summary: the first denial's reason, or "allowed". */
  reason: string;
}

export interface ExplainActionInput {
  principal: Principal;
  action: string;
  /** Resource ARN; its bucket's policy is consulted for arn:aws:s3::: resources. */
  resource?: string;
  /** Extra condition context (keys case-insensitive), e.g. {"aws:SourceIp": "10.0.0.1"}. */
  context?: ContextInput;
}

export interface PolicyAuthorizer extends Authorizer {
  /** Per-check decisions for an S3 request, without throwing. */
  explain(req: AuthzRequest): Promise<Explanation>;
  /** Allow/deny for a raw action + resource + context (the explain API). */
  explainAction(input: ExplainActionInput): Promise<Explanation>;
  /** authorize() without the throw, e.g. to filter ListBuckets or DeleteObjects keys. */
  isAllowed(req: AuthzRequest): Promise<boolean>;
}

interface CheckInput { action: string; resource?: string; bucket?: string; key?: string; context: ConditionContext }

function bucketOfResource(resource: string | undefined): { bucket?: string; key?: string } {
  if (!resource?.startsWith(S3_ARN_PREFIX)) return {};
  const rest = resource.slice(S3_ARN_PREFIX.length);
  const slash = rest.indexOf('/');
  if (rest === '' || (rest.includes('*') && (slash < 0 || rest.indexOf('*') < slash))) return {};
  return slash < 0 ? { bucket: rest } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

export function createPolicyAuthorizer(deps: PolicyAuthorizerDeps): PolicyAuthorizer {
  const accountId = deps.accountId ?? DEFAULT_ACCOUNT_ID;
  const now = deps.now ?? (() => new Date());
  const debug = deps.log ?? (process.env.S3GATE_LOG_LEVEL === 'debug' ? (line: Record<string, unknown>) => console.error(JSON.stringify(line)) : undefined);

  function summary(p: Principal): Explanation['principal'] {
    return { kind: p.kind, username: p.username, accessKey: p.accessKey };
  }

  async function identityOf(p: Principal): Promise<ResolvedPolicies | 'root'> {
    if (p.kind === 'anonymous') return { policies: [] };
    const r = await deps.identityPolicies(p);
    if (r === 'root') return 'root';
    return { policies: r.policies.map(unwrap), sessionPolicy: r.sessionPolicy && unwrap(r.sessionPolicy) };
  }

  function decide(c: CheckInput, identity: ResolvedPolicies, bucketPolicy: CompiledPolicy | undefined, who: PrincipalIdentity): CheckExplanation {
    const base = { action: c.action, resource: c.resource, bucket: c.bucket, key: c.key };
    const req = { action: c.action, resource: c.resource, context: c.context, principal: who };
    const id = evaluatePolicies(identity.policies, req);
    const sess = identity.sessionPolicy ? evaluatePolicies([identity.sessionPolicy], req) : undefined;
    const bkt = bucketPolicy ? evaluatePolicies([bucketPolicy], req) : undefined;
    const denied = (d: typeof id | undefined, source: DecisionSource): CheckExplanation | undefined => {
      if (d?.decision !== 'Deny' || !d.statement) return undefined;
      return { ...base, allowed: false, decidedBy: { ...d.statement, source }, reason: d.reason ?? `explicit deny by ${describeStatement(d.statement)}` };
    };
    const deny = denied(id, 'identity') ?? denied(sess, 'session') ?? denied(bkt, 'bucket');
    if (deny) return deny;
    const sessionAllows = !sess || sess.decision === 'Allow';
    if (id.decision === 'Allow' && sessionAllows) return { ...base, allowed: true, decidedBy: { ...id.statement!, source: 'identity' }, reason: `allowed by ${describeStatement(id.statement!)}` };
    if (bkt?.decision === 'Allow' && (bkt.via === 'direct' || sessionAllows)) return { ...base, allowed: true, decidedBy: { ...bkt.statement!, source: 'bucket' }, reason: `allowed by ${describeStatement(bkt.statement!)}` };
    if (!sessionAllows && (id.decision === 'Allow' || bkt?.decision === 'Allow')) {
      return { ...base, allowed: false, reason: `session policy '${identity.sessionPolicy!.name}' does not allow ${c.action}` };
    }
    return { ...base, allowed: false, reason: 'no statement allowed' };
  }

  async function bucketPolicies(buckets: Iterable<string | undefined>): Promise<Map<string, CompiledPolicy | undefined>> {
    const out = new Map<string, CompiledPolicy | undefined>();
    if (!deps.bucketPolicy) return out;
    for (const b of buckets) if (b !== undefined && !out.has(b)) out.set(b, await deps.bucketPolicy(b));
    return out;
  }

  function finish(principal: Principal, checks: CheckExplanation[], op?: string): Explanation {
    const firstDenied = checks.find((c) => !c.allowed);
    return { allowed: checks.length > 0 && !firstDenied, op, principal: summary(principal), checks, reason: firstDenied?.reason ?? (checks.length ? 'allowed' : 'no checks') };
  }

  async function explain(req: AuthzRequest): Promise<Explanation> {
    const principal = req.principal;
    let checks: AuthzCheck[];
    try {
      checks = requiredChecks(req);
    } catch (e) {
      const reason = e instanceof UnknownOperationError ? e.message : `cannot map request: ${(e as Error).message}`;
      return { allowed: false, op: req.op, principal: summary(principal), checks: [], reason };
    }
    if (checks.length === 0) return { allowed: false, op: req.op, principal: summary(principal), checks: [], reason: 'the request names nothing to authorize' };
    const identity = await identityOf(principal);
    if (identity === 'root') {
      return finish(principal, checks.map((c) => ({ action: c.action, resource: c.resource, bucket: c.bucket, key: c.key, allowed: true, reason: 'root may do everything' })), req.op);
    }
    const who = principalIdentity(principal, accountId);
    const base = requestContext(req, who, now());
    const bps = await bucketPolicies(checks.map((c) => c.bucket));
    const consulted = [...identity.policies, identity.sessionPolicy, ...bps.values()];
    let tags: Record<string, string> | undefined;
    if (req.existingObjectTags && checks.some((c) => c.existingTags) && consulted.some((p) => p?.usesExistingObjectTags)) {
      tags = await req.existingObjectTags();
    }
    const results = checks.map((c) => decide({ ...c, context: checkContext(req, c, base, tags) }, identity, c.bucket === undefined ? undefined : bps.get(c.bucket), who));
    return finish(principal, results, req.op);
  }

  async function explainAction(input: ExplainActionInput): Promise<Explanation> {
    const { principal, action, resource } = input;
    const { bucket, key } = bucketOfResource(resource);
    const identity = await identityOf(principal);
    if (identity === 'root') return finish(principal, [{ action, resource, bucket, key, allowed: true, reason: 'root may do everything' }]);
    const who = principalIdentity(principal, accountId);
    const fake: AuthzRequest = {
      op: '', principal, query: new URLSearchParams(), headers: {}, sourceIp: '', secure: false,
      authType: principal.kind === 'anonymous' ? 'ANONYMOUS' : 'REST-HEADER', signatureVersion: '',
    };
    const base = requestContext(fake, who, now());
    base.delete('aws:securetransport');
    base.delete('s3:authtype');
    const context = layerContext(base, createContext(input.context ?? {}));
    const bps = await bucketPolicies([bucket]);
    return finish(principal, [decide({ action, resource, bucket, key, context }, identity, bucket === undefined ? undefined : bps.get(bucket), who)]);
  }

  return {
    explain,
    explainAction,
    async isAllowed(req) {
      return (await explain(req)).allowed;
    },
    async authorize(req) {
      const e = await explain(req);
      if (e.allowed) return;
      debug?.({ level: 'debug', msg: 'access denied', op: req.op, bucket: req.bucket, key: req.key, principal: e.principal, reason: e.reason, checks: e.checks });
      throw new S3Error('AccessDenied');
    },
  };
}
