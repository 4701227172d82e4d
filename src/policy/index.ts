/**
 * The policy engine: AWS IAM policy documents parsed, validated and compiled once, then
 * evaluated in microseconds without touching the disk.
 *
 * Parse/compile
 *   parsePolicy(text | Buffer | object, { name, kind: 'identity'|'session'|'bucket', bucket, maxBytes })
 *     -> CompiledPolicy; throws PolicyError { code: 'MalformedPolicy'|'PolicyTooLarge', path, message }.
 *   Limits: MAX_POLICY_BYTES / MAX_BUCKET_POLICY_BYTES (20 KiB), MAX_SERVICE_ACCOUNT_POLICY_BYTES
 *   (16 KiB), MAX_STS_SESSION_POLICY_BYTES (2048).
 * Evaluate
 *   evaluatePolicies(policies, { action, resource?, context, principal? }) -> PolicyDecision
 *     { decision: 'Allow'|'Deny'|'None', statement?: { policy, sid, index, effect }, via? }
 *   Explicit Deny in any policy wins, then the first Allow, else 'None' (implicit deny).
 *   createContext({...}) builds a ConditionContext (keys case-insensitive).
 * S3 requests
 *   requiredChecks(AuthzRequest) -> AuthzCheck[] (action + resource ARN + bucket/key);
 *   requestContext(req, principalIdentity(principal, accountId), now) and
 *   checkContext(req, check, base, existingTags) give the condition context.
 * Built-ins: BUILTIN_POLICIES (consoleAdmin, readonly, readwrite, writeonly, diagnostics).
 * Bucket policies: BucketPolicyCache (cached compiled policy per bucket, cluster-bus
 *   invalidation on topic 'bucket-policy', periodic re-read).
 * Anonymous levels (mc policy/anonymous set): setAnonymousLevel, anonymousLevel, anonymousLevels.
 * The Authorizer that puts it together lives in src/iam/authorizer.ts.
 *
 * Module map: policy.ts (grammar, compile), conditions.ts (operators), variables.ts
 * (${...}), wildcard.ts, actions.ts (known actions), arn.ts, ip.ts, evaluate.ts,
 * principal-identity.ts, s3-actions.ts, builtin.ts, bucket-policy-cache.ts,
 * anonymous-levels.ts.
 */
export { PolicyError, isPolicyError, type PolicyErrorCode } from './errors.js';
export {
  parsePolicy, invalidPolicy, MAX_POLICY_BYTES, MAX_BUCKET_POLICY_BYTES, MAX_SERVICE_ACCOUNT_POLICY_BYTES,
  MAX_STS_SESSION_POLICY_BYTES, type CompiledPolicy, type CompiledStatement, type ParseOptions, type PolicyKind, type Effect,
} from './policy.js';
export { evaluatePolicies, describeStatement, type EvaluationRequest, type PolicyDecision, type StatementRef } from './evaluate.js';
export { createContext, layerContext, contextToObject, type ConditionContext, type ContextInput } from './context.js';
export { CONDITION_OPERATORS } from './conditions.js';
export { ALL_ACTIONS, S3_ACTIONS, ADMIN_ACTIONS, KMS_ACTIONS, STS_ACTIONS, actionPatternProblem } from './actions.js';
export { bucketArn, objectArn, S3_ARN_PREFIX } from './arn.js';
export { principalIdentity, userArn, DEFAULT_ACCOUNT_ID, type PrincipalIdentity } from './principal-identity.js';
export { requiredChecks, requestContext, checkContext, S3_OPERATIONS, UnknownOperationError, type AuthzCheck } from './s3-actions.js';
export { BUILTIN_POLICIES, BUILTIN_POLICY_DOCUMENTS, BUILTIN_POLICY_NAMES, builtinPolicy, isBuiltinPolicy } from './builtin.js';
export { BucketPolicyCache, BUCKET_POLICY_TOPIC, BUCKET_POLICY_CONFIG_NAME, bucketPolicyName, type BucketPolicyCacheOptions } from './bucket-policy-cache.js';
export { setAnonymousLevel, anonymousLevel, anonymousLevels, ANONYMOUS_LEVEL_ALIASES, type AnonymousLevel } from './anonymous-levels.js';
