/**
 * Errors of the IAM service, in the service's own terms. Each protocol adapter (madmin JSON,
 * AWS IAM Query XML, STS XML) maps these codes onto its own wire codes and statuses, so the
 * service never knows which protocol asked.
 */
export type IamErrorCode =
  | 'NoSuchUser'
  | 'NoSuchGroup'
  | 'NoSuchPolicy'
  | 'NoSuchServiceAccount'
  | 'NoSuchAccessKey'
  | 'UserAlreadyExists'
  | 'GroupAlreadyExists'
  | 'PolicyAlreadyExists'
  /** The access key is already used by root, a user or a service account. */
  | 'AccessKeyInUse'
  | 'GroupNotEmpty'
  /** A name, status or other argument is out of range. */
  | 'InvalidArgument'
  | 'InvalidAccessKey'
  | 'InvalidSecretKey'
  /** Policy JSON does not parse or does not validate (message says why). */
  | 'MalformedPolicy'
  | 'PolicyTooLarge'
  /** The operation is not allowed on this identity (root, built-in policy, STS/svc caller...). */
  | 'NotAllowed'
  /** Signed-in principal may not do this (AssumeRole by an svc account, ...). */
  | 'AccessDenied'
  | 'LimitExceeded'
  /** Nothing changed (attach of an attached policy, detach of a detached one). */
  | 'AlreadyApplied';

export class IamError extends Error {
  constructor(readonly code: IamErrorCode, message: string) {
    super(message);
    this.name = 'IamError';
  }
}

export function isIamError(e: unknown): e is IamError {
  return e instanceof IamError;
}
