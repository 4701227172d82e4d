/**
 * The IamPolicyEngine over src/policy: parsePolicy to validate and compile, the built-in
 * documents, the fail-closed placeholder, and the "allow everything" policy that stands
 * for root as the parent of root-derived service accounts and STS sessions.
 * Decisions themselves are made by the policy authorizer (src/iam/authorizer.ts).
 */
import { BUILTIN_POLICY_DOCUMENTS, invalidPolicy, parsePolicy, type CompiledPolicy } from '../policy/index.js';
import type { IamPolicyEngine } from './policy-engine.js';

const ALLOW_ALL_TEXT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['admin:*', 'kms:*', 'sts:*'] },
    { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] },
  ],
});

export function defaultPolicyEngine(): IamPolicyEngine<CompiledPolicy> {
  const builtins = new Map(Object.entries(BUILTIN_POLICY_DOCUMENTS).map(([name, doc]) => [name, JSON.stringify(doc)]));
  return {
    builtins,
    allowAll: parsePolicy(ALLOW_ALL_TEXT, { name: 'root', kind: 'identity' }),
    invalid: (name, text, reason) => invalidPolicy(name, 'identity', text, reason),
    compile: (text, opts) => parsePolicy(text, { name: opts.name, kind: opts.kind, maxBytes: opts.maxBytes }),
  };
}
