/**
 * Why a policy document was refused. `code` is the S3/IAM error code the protocol
 * adapters answer with (MalformedPolicy for any validation failure, PolicyTooLarge for
 * the size limit); `path` names the offending element, e.g. `Statement[1].Action[0]`,
 * and is already part of `message` so clients see it.
 */
export type PolicyErrorCode = 'MalformedPolicy' | 'PolicyTooLarge';

export class PolicyError extends Error {
  constructor(readonly code: PolicyErrorCode, message: string, readonly path?: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'PolicyError';
  }
}

export function isPolicyError(e: unknown): e is PolicyError {
  return e instanceof PolicyError;
}
