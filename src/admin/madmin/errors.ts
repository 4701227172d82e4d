/**
 * Admin API errors: MinIO's JSON error shape (spec §1.4), never S3 XML. Every error the
 * IAM service, the config service, the text parser or the envelope code throws is mapped
 * here onto the admin code and status mc expects; nothing permanent becomes a 5xx
 * (madmin retries 5xx ten times).
 */
import { isIamError, type IamErrorCode } from '../../iam/errors.js';
import { ConfigError } from '../../config/subsystem.js';
import { ConfigTextError } from '../config-text.js';
import { MadminCryptoError } from './crypto.js';
import { isS3Error } from '../../server/errors.js';

export class AdminError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
    this.name = 'AdminError';
  }
}

export const adminErrors = {
  noSuchUser: (m = 'The specified user does not exist.') => new AdminError('XMinioAdminNoSuchUser', m, 404),
  noSuchGroup: (m = 'The specified group does not exist.') => new AdminError('XMinioAdminNoSuchGroup', m, 404),
  noSuchPolicy: (m = 'The canned policy does not exist.') => new AdminError('XMinioAdminNoSuchPolicy', m, 404),
  invalidArgument: (m = 'Invalid arguments specified.') => new AdminError('XMinioAdminInvalidArgument', m, 400),
  badJSON: (m = 'JSON configuration provided is of incorrect format') => new AdminError('XMinioAdminConfigBadJSON', m, 400),
  tooLarge: (m = 'Configuration data provided exceeds the allowed maximum of 262272 bytes') => new AdminError('XMinioAdminConfigTooLarge', m, 400),
  notAllowed: (m = 'The action is not allowed for this user.') => new AdminError('XMinioIAMActionNotAllowed', m, 403),
  invalidCredentials: (m: string, status = 403) => new AdminError('XMinioInvalidIAMCredentials', m, status),
  svcNotFound: () => new AdminError('XMinioInvalidIAMCredentials', 'The specified service account is not found', 404),
  accessDenied: (m = 'Access Denied.') => new AdminError('AccessDenied', m, 403),
  versionMismatch: () => new AdminError('XMinioAdminVersionMismatch', 'This \'admin\' API is not supported by server in \'mode-server-fs\'', 426),
  notImplemented: (m = 'A header you provided implies functionality that is not implemented') => new AdminError('NotImplemented', m, 501),
};

const IAM_MAP: Record<IamErrorCode, (m: string) => AdminError> = {
  NoSuchUser: (m) => adminErrors.noSuchUser(m),
  NoSuchGroup: (m) => adminErrors.noSuchGroup(m),
  NoSuchPolicy: (m) => adminErrors.noSuchPolicy(m),
  NoSuchServiceAccount: () => adminErrors.svcNotFound(),
  NoSuchAccessKey: (m) => adminErrors.invalidArgument(m),
  UserAlreadyExists: (m) => adminErrors.invalidArgument(m),
  GroupAlreadyExists: (m) => adminErrors.invalidArgument(m),
  PolicyAlreadyExists: (m) => adminErrors.invalidArgument(m),
  AccessKeyInUse: (m) => adminErrors.notAllowed(m),
  GroupNotEmpty: (m) => new AdminError('XMinioAdminGroupNotEmpty', m, 400),
  InvalidArgument: (m) => adminErrors.invalidArgument(m),
  InvalidAccessKey: (m) => new AdminError('XMinioAdminInvalidAccessKey', m, 400),
  InvalidSecretKey: (m) => new AdminError('XMinioAdminInvalidSecretKey', m, 400),
  MalformedPolicy: (m) => new AdminError('XMinioMalformedIAMPolicy', m, 400),
  PolicyTooLarge: (m) => new AdminError('EntityTooLarge', m, 400),
  NotAllowed: (m) => adminErrors.notAllowed(m),
  AccessDenied: (m) => adminErrors.accessDenied(m),
  LimitExceeded: (m) => adminErrors.invalidArgument(m),
  AlreadyApplied: (m) => new AdminError('XMinioAdminPolicyChangeAlreadyApplied', m, 400),
};

/** Any thrown value -> AdminError (unknown failures become 500 InternalError). */
export function toAdminError(e: unknown): AdminError {
  if (e instanceof AdminError) return e;
  if (isIamError(e)) return (IAM_MAP[e.code] ?? ((m: string) => adminErrors.invalidArgument(m)))(e.message);
  if (e instanceof ConfigError) return new AdminError(e.code, e.message, e.status);
  if (e instanceof ConfigTextError) return new AdminError(e.code, e.message, 400);
  if (e instanceof MadminCryptoError) return adminErrors.badJSON(`Unable to decrypt the request: ${e.message}`);
  if (isS3Error(e)) return new AdminError(e.code, e.message, e.status);
  return new AdminError('InternalError', 'We encountered an internal error, please try again.', 500);
}

export function errorBody(err: AdminError, resource: string, requestId: string, hostId: string): Buffer {
  return Buffer.from(JSON.stringify({ Code: err.code, Message: err.message, Resource: resource, RequestId: requestId, HostId: hostId }));
}
