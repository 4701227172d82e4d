/**
 * The IamPolicyEngine over src/policy: parsePolicy for compile/validate, the built-in
 * documents, and evaluatePolicies for explain.
 *
 * Decision for identity-based checks (AWS semantics for identity + session policies):
 *   any Deny in the identity or the session policy -> deny (explicit deny wins);
 *   else allowed only if some identity policy allows AND, when a session policy is
 *   present, the session policy allows too (it can only narrow);
 *   else implicit deny. 'root' is allowed without policies.
 * Bucket policies are not part of this: the authorizer combines them for S3 requests.
 */
import type { Principal } from '../auth/principal.js';
import { BUILTIN_POLICY_DOCUMENTS } from '../policy/builtin.js';
import { createContext, type ContextInput } from '../policy/context.js';
import { describeStatement, evaluatePolicies, type EvaluationRequest, type PolicyDecision } from '../policy/evaluate.js';
import { invalidPolicy, parsePolicy, type CompiledPolicy } from '../policy/policy.js';
import { principalIdentity } from '../policy/principal-identity.js';
import type { ExplainRequest, Explanation, IamPolicyEngine } from './policy-engine.js';

const ALLOW_ALL_TEXT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:*', 'admin:*', 'kms:*', 'sts:*'], Resource: ['arn:aws:s3:::*'] }],
});

/** Principal-derived condition keys (aws:username & co.) for an explanation. */
function principalContext(p: Principal, accountId: string): ContextInput {
  const id = principalIdentity(p, accountId);
  return {
    'aws:username': p.kind === 'anonymous' ? undefined : p.username,
    'aws:userid': p.kind === 'anonymous' ? undefined : p.userId,
    'aws:PrincipalType': id.type,
    'aws:PrincipalArn': id.arn,
    'aws:PrincipalAccount': p.kind === 'anonymous' ? undefined : accountId,
    ...Object.fromEntries(Object.entries(p.claims ?? {}).map(([k, v]) => [`jwt:${k}`, v])),
  };
}

export function defaultPolicyEngine(accountId = '000000000000'): IamPolicyEngine<CompiledPolicy> {
  const builtins = new Map(Object.entries(BUILTIN_POLICY_DOCUMENTS).map(([name, doc]) => [name, JSON.stringify(doc)]));
  const allowAll = parsePolicy(ALLOW_ALL_TEXT, { name: 'root', kind: 'identity' });
  return {
    builtins,
    allowAll,
    invalid(name, text, reason) {
      return invalidPolicy(name, 'identity', text, reason);
    },
    compile(text, opts) {
      return parsePolicy(text, { name: opts.name, kind: opts.kind, maxBytes: opts.maxBytes });
    },
    explain(req: ExplainRequest<CompiledPolicy>): Explanation {
      if (req.identity === 'root') return { allowed: true, reason: 'the root user may do everything' };
      const context = createContext({ ...principalContext(req.principal, accountId), ...(req.context ?? {}) });
      const ctx = { get: (k: string) => context.get(k), keys: () => context.keys() };
      const er: EvaluationRequest = { action: req.action, resource: req.resource, context: ctx, principal: principalIdentity(req.principal, accountId) };
      const identity = evaluatePolicies(req.identity.policies.map((p) => p.policy), er);
      const session = req.identity.sessionPolicy ? evaluatePolicies([req.identity.sessionPolicy.policy], er) : undefined;
      const detail = { identity, ...(session ? { session } : {}) };
      if (identity.decision === 'Deny') return { allowed: false, reason: `denied by ${describe(identity)}`, detail };
      if (session?.decision === 'Deny') return { allowed: false, reason: `denied by the session policy: ${describe(session)}`, detail };
      if (identity.decision !== 'Allow') {
        const names = req.identity.policies.map((p) => p.name);
        return { allowed: false, reason: names.length ? `no statement of ${names.join(', ')} allows ${req.action}` : 'no policy is attached (implicit deny)', detail };
      }
      if (session && session.decision !== 'Allow') {
        return { allowed: false, reason: `allowed by ${describe(identity)} but not by the session policy`, detail };
      }
      return { allowed: true, reason: `allowed by ${describe(identity)}${session ? ' and the session policy' : ''}`, detail };
    },
  };
}

function describe(d: PolicyDecision): string {
  if (!d.statement) return 'no statement';
  return describeStatement(d.statement) + (d.reason ? ` (${d.reason})` : '');
}
