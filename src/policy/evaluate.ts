/**
 * Evaluating compiled policies against one check (action + resource + context).
 *
 * Within a set of policies: any matching Deny statement decides (explicit deny wins),
 * else the first matching Allow, else nothing matched (implicit deny). A statement
 * matches when its Action/NotAction covers the action, its Resource/NotResource covers
 * the resource (checks without a resource, such as admin:* actions, ignore the element),
 * its Principal/NotPrincipal covers the caller (bucket policies) and every condition holds.
 *
 * Unresolvable variables: a Resource entry never matches; a NotResource entry in an
 * Allow statement makes the statement not apply (so a missing variable can never widen
 * an Allow), in a Deny statement it excludes nothing.
 *
 * Principal matching (bucket policies): "*" / {"AWS":"*"} matches everyone including
 * anonymous; a user ARN, user name or access key matches that identity; an account
 * principal (arn:aws:iam::<acct>:root or the bare id) delegates to the account as in
 * AWS — in an Allow it matches only the account root, in a Deny every authenticated
 * principal of the account. For service accounts and STS sessions the parent user's
 * identifiers match too, reported as via 'inherited' (see principal-identity.ts).
 */
import type { ConditionContext } from './context.js';
import { resourceEntryMatches, type CompiledPolicy, type CompiledStatement, type Effect } from './policy.js';
import type { PrincipalIdentity } from './principal-identity.js';

export interface EvaluationRequest {
  /** e.g. s3:GetObject (any case). */
  action: string;
  /** The resource ARN; undefined for actions without resources (admin:, kms:, sts:). */
  resource?: string;
  context: ConditionContext;
  /** Who asks; required for bucket policies (undefined = anonymous). */
  principal?: PrincipalIdentity;
}

export interface StatementRef {
  policy: string;
  /** Sid as written ('' when none). */
  sid: string;
  /** Position in the Statement list (-1 for an invalid stored policy). */
  index: number;
  effect: Effect;
}

export interface PolicyDecision {
  decision: 'Allow' | 'Deny' | 'None';
  statement?: StatementRef;
  /** For bucket-policy allows: matched the caller itself or only through its parent user. */
  via?: 'direct' | 'inherited';
  /** Why an invalid stored policy denied. */
  reason?: string;
}

const ANONYMOUS_IDENTITY: PrincipalIdentity = { kind: 'anonymous', accountId: '', type: 'Anonymous', direct: [], inherited: [] };

type PrincipalMatch = 'direct' | 'inherited' | false;

function matchPrincipal(st: CompiledStatement, who: PrincipalIdentity): PrincipalMatch {
  if (!st.principal) return 'direct';
  const { spec, not } = st.principal;
  let m: PrincipalMatch = false;
  if (spec.any) m = 'direct';
  else {
    if (spec.accounts.has(who.accountId) && who.kind !== 'anonymous' && (st.effect === 'Deny' || not || who.kind === 'root')) m = 'direct';
    else if (who.direct.some((id) => spec.values.has(id))) m = 'direct';
    else if (who.inherited.some((id) => spec.values.has(id))) m = 'inherited';
  }
  if (not) return m ? false : 'direct';
  return m;
}

function matchResource(st: CompiledStatement, resource: string | undefined, ctx: ConditionContext): boolean {
  if (resource === undefined || !st.resources) return true;
  const { not, entries } = st.resources;
  if (!not) return entries.some((e) => resourceEntryMatches(e, resource, ctx) === true);
  for (const e of entries) {
    const r = resourceEntryMatches(e, resource, ctx);
    if (r === true) return false;
    if (r === undefined && st.effect === 'Allow') return false;
  }
  return true;
}

/** Does the statement apply? Returns how the principal matched, or false. */
export function statementMatches(st: CompiledStatement, actionLower: string, req: EvaluationRequest): PrincipalMatch {
  if (!st.matchesAction(actionLower)) return false;
  if (!matchResource(st, req.resource, req.context)) return false;
  const p = matchPrincipal(st, req.principal ?? ANONYMOUS_IDENTITY);
  if (!p) return false;
  for (const c of st.conditions) if (!c.test(req.context)) return false;
  return p;
}

/** Evaluates a set of policies together (deny wins across all of them). */
export function evaluatePolicies(policies: readonly (CompiledPolicy | undefined)[], req: EvaluationRequest): PolicyDecision {
  const actionLower = req.action.toLowerCase();
  let allow: PolicyDecision | undefined;
  for (const p of policies) {
    if (!p) continue;
    if (p.invalid !== undefined) return { decision: 'Deny', statement: { policy: p.name, sid: '', index: -1, effect: 'Deny' }, reason: p.invalid };
    for (const st of p.statements) {
      const m = statementMatches(st, actionLower, req);
      if (!m) continue;
      const ref: StatementRef = { policy: p.name, sid: st.sid, index: st.index, effect: st.effect };
      if (st.effect === 'Deny') return { decision: 'Deny', statement: ref };
      if (!allow || (allow.via === 'inherited' && m === 'direct')) allow = { decision: 'Allow', statement: ref, via: m };
    }
  }
  return allow ?? { decision: 'None' };
}

/** Describes a statement for humans: policy 'readonly' statement 'Sid' (#0). */
export function describeStatement(ref: StatementRef): string {
  if (ref.index < 0) return `policy '${ref.policy}'`;
  return `policy '${ref.policy}' statement ${ref.sid ? `'${ref.sid}' ` : ''}#${ref.index}`;
}
