/**
 * What the IAM service needs from the policy engine (src/policy), in one narrow interface
 * so the service can be tested and reasoned about without the engine's internals.
 * `defaultPolicyEngine()` (policy-engine-default.ts) adapts src/policy/index.ts to it.
 */
export interface IdentityPolicies<P> {
  /** Identity policies; the union of their allows is what the principal may do. */
  policies: readonly { name: string; policy: P }[];
  /** A narrowing policy (service-account embedded policy or STS session policy). */
  sessionPolicy?: { name: string; policy: P };
}

export interface IamPolicyEngine<P = unknown> {
  /**
   * Parses, validates and compiles; throws an error with code MalformedPolicy or
   * PolicyTooLarge. `name` appears in explanations; 'session' = embedded/session policy.
   */
  compile(text: string, opts: { name: string; kind: 'identity' | 'session'; maxBytes: number }): P;
  /** A stand-in for a stored policy that no longer compiles: it denies everything (fail closed). */
  invalid(name: string, text: string, reason: string): P;
  /** Built-in policy name -> document text (consoleAdmin, readonly, readwrite, writeonly, diagnostics). */
  readonly builtins: ReadonlyMap<string, string>;
  /** A compiled policy that allows everything, used as the identity of root-derived credentials. */
  readonly allowAll: P;
}
