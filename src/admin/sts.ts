/**
 * The STS endpoint (POST / with Action=...&Version=2011-06-15, SigV4 service "sts") as a
 * pure function: parsed form parameters + the authenticated principal in, an XML response
 * out. Signature checks and routing are the caller's; this module decides the rest.
 *
 * Actions:
 *   AssumeRole         IAM users and root (root as current MinIO allows); service accounts
 *                      and STS sessions get AccessDenied. DurationSeconds 900..604800
 *                      (default 3600), Policy <= 2048 characters; RoleArn and
 *                      RoleSessionName are accepted and otherwise ignored (RoleSessionName
 *                      names the session in AssumedRoleUser).
 *   GetCallerIdentity  Arn, UserId and Account of the caller (aws sts get-caller-identity).
 *   AssumeRoleWith{WebIdentity,ClientGrants,LDAPIdentity,Certificate,CustomToken,SAML},
 *   GetSessionToken, GetFederationToken
 *                      501 NotImplemented (not supported by this server yet).
 * Errors use the STS XML shape: ErrorResponse/Error/{Type,Code,Message} + RequestId.
 */
import type { Principal } from '../auth/principal.js';
import { isIamError, type IamError } from '../iam/errors.js';
import type { IamService } from '../iam/service.js';
import { principalIdentity } from '../policy/principal-identity.js';
import { el, errorResponse, frag, successResponse, type QueryResponse } from './aws-query-xml.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_VERSION = '2011-06-15';

export interface StsContext {
  iam: IamService;
  requestId: string;
}

const NOT_IMPLEMENTED = new Set([
  'AssumeRoleWithWebIdentity', 'AssumeRoleWithClientGrants', 'AssumeRoleWithLDAPIdentity', 'AssumeRoleWithCertificate',
  'AssumeRoleWithCustomToken', 'AssumeRoleWithSAML', 'GetSessionToken', 'GetFederationToken',
]);

/** STS-shaped error, also for the caller's signature failures (S3 codes and statuses). */
export function stsError(status: number, code: string, message: string, requestId: string): QueryResponse {
  return errorResponse(STS_NAMESPACE, status, code, message, requestId);
}

export async function handleStsRequest(params: URLSearchParams, principal: Principal, ctx: StsContext): Promise<QueryResponse> {
  const action = params.get('Action') ?? '';
  const version = params.get('Version');
  if (!action) return stsError(400, 'MissingParameter', 'The request must contain the parameter Action.', ctx.requestId);
  if (version !== STS_VERSION) {
    return stsError(400, 'MissingParameter', `Invalid STS API version ${JSON.stringify(version ?? '')}, expecting ${STS_VERSION}.`, ctx.requestId);
  }
  try {
    switch (action) {
      case 'AssumeRole': return await assumeRole(params, principal, ctx);
      case 'GetCallerIdentity': return getCallerIdentity(principal, ctx);
      default:
        if (NOT_IMPLEMENTED.has(action)) return stsError(501, 'NotImplemented', `${action} is not supported by this server; use AssumeRole.`, ctx.requestId);
        return stsError(400, 'InvalidParameterValue', `Unsupported action ${action}`, ctx.requestId);
    }
  } catch (e) {
    if (isIamError(e)) return fromIamError(e, ctx.requestId);
    throw e;
  }
}

async function assumeRole(params: URLSearchParams, principal: Principal, ctx: StsContext): Promise<QueryResponse> {
  let durationSeconds: number | undefined;
  const ds = params.get('DurationSeconds');
  if (ds !== null && ds !== '') {
    if (!/^\d+$/.test(ds)) return stsError(400, 'InvalidParameterValue', `DurationSeconds must be a whole number of seconds, not '${ds}'.`, ctx.requestId);
    durationSeconds = Number(ds);
  }
  const policy = params.get('Policy');
  const roleSessionName = params.get('RoleSessionName') ?? undefined;
  if (roleSessionName !== undefined && !/^[\w+=,.@-]{2,64}$/.test(roleSessionName)) {
    return stsError(400, 'ValidationError', 'RoleSessionName must be 2 to 64 characters of letters, digits and +=,.@_-', ctx.requestId);
  }
  const creds = await ctx.iam.assumeRole(principal, {
    durationSeconds,
    ...(policy !== null && policy !== '' ? { policy } : {}),
    ...(roleSessionName ? { roleSessionName } : {}),
  });
  const result = frag(
    el('AssumedRoleUser', el('Arn', creds.arn), el('AssumedRoleId', creds.assumedRoleId)),
    el('Credentials',
      el('AccessKeyId', creds.accessKeyId),
      el('SecretAccessKey', creds.secretAccessKey),
      el('SessionToken', creds.sessionToken),
      el('Expiration', creds.expiration)));
  return successResponse(STS_NAMESPACE, 'AssumeRole', result, ctx.requestId);
}

function getCallerIdentity(principal: Principal, ctx: StsContext): QueryResponse {
  if (principal.kind === 'anonymous') return stsError(403, 'AccessDenied', 'Anonymous requests cannot call GetCallerIdentity.', ctx.requestId);
  const id = principalIdentity(principal, ctx.iam.accountId);
  const userId = principal.kind === 'sts' ? `${principal.userId}:${principal.accessKey}` : principal.userId;
  const result = frag(el('Arn', id.arn ?? ''), el('UserId', userId), el('Account', ctx.iam.accountId));
  return successResponse(STS_NAMESPACE, 'GetCallerIdentity', result, ctx.requestId);
}

function fromIamError(e: IamError, requestId: string): QueryResponse {
  switch (e.code) {
    case 'AccessDenied':
    case 'NotAllowed':
      return stsError(403, 'AccessDenied', e.message, requestId);
    case 'MalformedPolicy':
      return stsError(400, 'MalformedPolicyDocument', e.message, requestId);
    case 'PolicyTooLarge':
      return stsError(400, 'PackedPolicyTooLarge', e.message, requestId);
    default:
      return stsError(400, 'InvalidParameterValue', e.message, requestId);
  }
}
