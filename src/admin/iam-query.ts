/**
 * The AWS IAM Query API (POST / with Action=...&Version=2010-05-08, SigV4 service "iam")
 * as a pure function over the IAM service, so `aws iam ...` and the AWS SDK IAM client work.
 *
 * Authorization: root may call everything. Any other principal (users, and service
 * accounts/STS sessions through their parent, narrowed as usual) needs the MinIO admin
 * action that corresponds to the IAM action (table ACTIONS below, e.g. CreateUser ->
 * admin:CreateUser, AttachUserPolicy -> admin:AttachUserOrGroupPolicy), so one policy
 * (consoleAdmin, or a custom admin:* policy) governs mc admin and aws iam alike. There are no
 * iam:* actions in our policy grammar. Self-service without a policy: a user may GetUser and
 * ListAccessKeys for itself.
 *
 * Mapping decisions:
 * - Managed policies: built-ins are arn:aws:iam::aws:policy/<name>, custom ones
 *   arn:aws:iam::<account>:policy/<name>. One version each (v1); updates replace it.
 * - Inline policies (Put/Get/Delete/ListUserPolicy, ...GroupPolicy) are stored as custom
 *   policies named user:<user>:<PolicyName> / group:<group>:<PolicyName>, attached to their
 *   owner (so mc admin sees them) and hidden from ListPolicies / ListAttached*Policies.
 * - DeleteUser removes the user's keys, inline policies, memberships and service accounts
 *   at once (MinIO semantics) instead of AWS's DeleteConflict; DeleteGroup refuses a group
 *   with members (DeleteConflict); DeletePolicy refuses an attached policy (DeleteConflict).
 * - Lists honour MaxItems (1..1000, default 100) and Marker.
 */
import type { Principal } from '../auth/principal.js';
import { isIamError, type IamError } from '../iam/errors.js';
import type { AccessKeyInfo, GroupInfo, IamService, PolicyInfo, UserInfo } from '../iam/service.js';
import { el, errorResponse, frag, members, opt, successResponse, text, type QueryResponse, type Xml } from './aws-query-xml.js';

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_VERSION = '2010-05-08';

export interface IamQueryContext {
  iam: IamService;
  requestId: string;
}

class QueryError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** IAM action -> the admin: action a non-root caller needs. */
const ACTIONS: Record<string, string> = {
  CreateUser: 'admin:CreateUser',
  GetUser: 'admin:GetUser',
  DeleteUser: 'admin:DeleteUser',
  ListUsers: 'admin:ListUsers',
  CreateAccessKey: 'admin:CreateUser',
  ListAccessKeys: 'admin:GetUser',
  DeleteAccessKey: 'admin:CreateUser',
  UpdateAccessKey: 'admin:CreateUser',
  PutUserPolicy: 'admin:AttachUserOrGroupPolicy',
  GetUserPolicy: 'admin:GetPolicy',
  DeleteUserPolicy: 'admin:AttachUserOrGroupPolicy',
  ListUserPolicies: 'admin:ListUserPolicies',
  CreatePolicy: 'admin:CreatePolicy',
  GetPolicy: 'admin:GetPolicy',
  GetPolicyVersion: 'admin:GetPolicy',
  DeletePolicy: 'admin:DeletePolicy',
  ListPolicies: 'admin:ListUserPolicies',
  AttachUserPolicy: 'admin:AttachUserOrGroupPolicy',
  DetachUserPolicy: 'admin:AttachUserOrGroupPolicy',
  ListAttachedUserPolicies: 'admin:ListUserPolicies',
  CreateGroup: 'admin:AddUserToGroup',
  GetGroup: 'admin:GetGroup',
  DeleteGroup: 'admin:RemoveUserFromGroup',
  ListGroups: 'admin:ListGroups',
  AddUserToGroup: 'admin:AddUserToGroup',
  RemoveUserFromGroup: 'admin:RemoveUserFromGroup',
  ListGroupsForUser: 'admin:ListGroups',
  AttachGroupPolicy: 'admin:AttachUserOrGroupPolicy',
  DetachGroupPolicy: 'admin:AttachUserOrGroupPolicy',
  ListAttachedGroupPolicies: 'admin:ListUserPolicies',
  PutGroupPolicy: 'admin:AttachUserOrGroupPolicy',
  GetGroupPolicy: 'admin:GetPolicy',
  DeleteGroupPolicy: 'admin:AttachUserOrGroupPolicy',
  ListGroupPolicies: 'admin:ListUserPolicies',
};

export function iamError(status: number, code: string, message: string, requestId: string): QueryResponse {
  return errorResponse(IAM_NAMESPACE, status, code, message, requestId);
}

export async function handleIamQueryRequest(params: URLSearchParams, principal: Principal, ctx: IamQueryContext): Promise<QueryResponse> {
  const action = params.get('Action') ?? '';
  if (params.get('Version') !== IAM_VERSION) {
    return iamError(400, 'InvalidParameterValue', `Version must be ${IAM_VERSION}`, ctx.requestId);
  }
  const needed = ACTIONS[action];
  if (!needed) return iamError(400, 'InvalidAction', `Could not find operation ${action}`, ctx.requestId);
  try {
    if (!(await mayCall(ctx.iam, principal, action, needed, params))) {
      throw new QueryError(403, 'AccessDenied', `User: ${principal.username || 'anonymous'} is not authorized to perform: ${needed} (${action})`);
    }
    const result = await dispatch(action, params, principal, ctx.iam);
    return successResponse(IAM_NAMESPACE, action, result, ctx.requestId);
  } catch (e) {
    if (e instanceof QueryError) return iamError(e.status, e.code, e.message, ctx.requestId);
    if (isIamError(e)) {
      const { status, code } = mapIamError(e);
      return iamError(status, code, e.message, ctx.requestId);
    }
    throw e;
  }
}

async function mayCall(iam: IamService, p: Principal, action: string, needed: string, params: URLSearchParams): Promise<boolean> {
  if (p.kind === 'anonymous') return false;
  if (p.kind === 'root') return true;
  const target = params.get('UserName');
  const self = p.kind === 'user' && (target === null || target === p.username);
  if (self && (action === 'GetUser' || action === 'ListAccessKeys')) return true;
  return iam.isAllowed(p, needed);
}

async function dispatch(action: string, q: URLSearchParams, caller: Principal, iam: IamService): Promise<Xml | undefined> {
  switch (action) {
    // ---- users
    case 'CreateUser': {
      const u = await iam.createUser(req(q, 'UserName'), { path: q.get('Path') ?? undefined });
      return el('User', userXml(u));
    }
    case 'GetUser': {
      const name = q.get('UserName') ?? selfName(caller);
      if (caller.kind === 'root' && name === caller.username && !iam.hasUser(name)) {
        return el('User', el('UserId', iam.accountId), el('Arn', `arn:aws:iam::${iam.accountId}:root`), el('CreateDate', new Date(0)));
      }
      return el('User', userXml(iam.getUser(name)));
    }
    case 'DeleteUser':
      await iam.removeUser(req(q, 'UserName'));
      return undefined;
    case 'ListUsers': {
      const prefix = q.get('PathPrefix') ?? '/';
      const page = paginate(iam.listUsers().filter((u) => u.path.startsWith(prefix)), (u) => u.name, q);
      return frag(members('Users', page.items.map(userXml)), ...page.tail);
    }
    case 'CreateAccessKey': {
      const user = q.get('UserName') ?? selfName(caller);
      const k = await iam.createAccessKey(user);
      return el('AccessKey', el('UserName', user), el('AccessKeyId', k.accessKey), el('Status', k.status), el('SecretAccessKey', k.secretKey), el('CreateDate', k.createdAt));
    }
    case 'ListAccessKeys': {
      const user = q.get('UserName') ?? selfName(caller);
      const page = paginate(iam.listAccessKeys(user), (k) => k.accessKey, q);
      return frag(el('UserName', user), members('AccessKeyMetadata', page.items.map((k) => keyXml(user, k))), ...page.tail);
    }
    case 'DeleteAccessKey':
      await iam.deleteAccessKey(keyOwner(iam, q, caller), req(q, 'AccessKeyId'));
      return undefined;
    case 'UpdateAccessKey': {
      const status = req(q, 'Status');
      if (status !== 'Active' && status !== 'Inactive') throw new QueryError(400, 'ValidationError', "Status must be 'Active' or 'Inactive'");
      await iam.updateAccessKey(keyOwner(iam, q, caller), req(q, 'AccessKeyId'), status);
      return undefined;
    }

    // ---- inline policies
    case 'PutUserPolicy':
      await iam.putInlinePolicy('user', req(q, 'UserName'), req(q, 'PolicyName'), req(q, 'PolicyDocument'));
      return undefined;
    case 'GetUserPolicy': {
      const [user, name] = [req(q, 'UserName'), req(q, 'PolicyName')];
      const doc = iam.getInlinePolicy('user', user, name);
      return frag(el('UserName', user), el('PolicyName', name), el('PolicyDocument', encodeURIComponent(doc)));
    }
    case 'DeleteUserPolicy':
      await iam.deleteInlinePolicy('user', req(q, 'UserName'), req(q, 'PolicyName'));
      return undefined;
    case 'ListUserPolicies': {
      const page = paginate(iam.listInlinePolicies('user', req(q, 'UserName')), (n) => n, q);
      return frag(members('PolicyNames', page.items.map(text)), ...page.tail);
    }
    case 'PutGroupPolicy':
      await iam.putInlinePolicy('group', req(q, 'GroupName'), req(q, 'PolicyName'), req(q, 'PolicyDocument'));
      return undefined;
    case 'GetGroupPolicy': {
      const [group, name] = [req(q, 'GroupName'), req(q, 'PolicyName')];
      const doc = iam.getInlinePolicy('group', group, name);
      return frag(el('GroupName', group), el('PolicyName', name), el('PolicyDocument', encodeURIComponent(doc)));
    }
    case 'DeleteGroupPolicy':
      await iam.deleteInlinePolicy('group', req(q, 'GroupName'), req(q, 'PolicyName'));
      return undefined;
    case 'ListGroupPolicies': {
      const page = paginate(iam.listInlinePolicies('group', req(q, 'GroupName')), (n) => n, q);
      return frag(members('PolicyNames', page.items.map(text)), ...page.tail);
    }

    // ---- managed policies
    case 'CreatePolicy': {
      const path = q.get('Path');
      if (path !== null && path !== '/') throw new QueryError(400, 'ValidationError', 'only the path "/" is supported for policies');
      const p = await iam.putPolicy(req(q, 'PolicyName'), req(q, 'PolicyDocument'), { createOnly: true, description: q.get('Description') ?? undefined });
      return el('Policy', policyXml(p));
    }
    case 'GetPolicy':
      return el('Policy', policyXml(policyByArn(iam, req(q, 'PolicyArn'))));
    case 'GetPolicyVersion': {
      const p = policyByArn(iam, req(q, 'PolicyArn'));
      if (req(q, 'VersionId') !== 'v1') throw new QueryError(404, 'NoSuchEntity', `Policy ${p.arn} version ${q.get('VersionId')} does not exist`);
      return el('PolicyVersion', el('Document', encodeURIComponent(p.document)), el('VersionId', 'v1'), el('IsDefaultVersion', true), opt('CreateDate', p.updatedAt ?? new Date(0)));
    }
    case 'DeletePolicy': {
      const p = policyByArn(iam, req(q, 'PolicyArn'));
      if (p.builtin) throw new QueryError(400, 'InvalidInput', `${p.arn} is a built-in policy and cannot be deleted`);
      if (p.attachmentCount > 0) throw new QueryError(409, 'DeleteConflict', 'Cannot delete a policy attached to entities.');
      await iam.removePolicy(p.name);
      return undefined;
    }
    case 'ListPolicies': {
      const scope = q.get('Scope') ?? 'All';
      if (!['All', 'AWS', 'Local'].includes(scope)) throw new QueryError(400, 'ValidationError', "Scope must be 'All', 'AWS' or 'Local'");
      const onlyAttached = q.get('OnlyAttached') === 'true';
      const list = iam.listPolicies().filter((p) => !p.inline
        && (scope === 'All' || (scope === 'AWS') === p.builtin)
        && (!onlyAttached || p.attachmentCount > 0));
      const page = paginate(list, (p) => p.arn, q);
      return frag(members('Policies', page.items.map(policyXml)), ...page.tail);
    }
    case 'AttachUserPolicy':
      await iam.attachPolicies({ user: req(q, 'UserName') }, [policyByArn(iam, req(q, 'PolicyArn')).name]);
      return undefined;
    case 'DetachUserPolicy':
      return detach(iam, { user: req(q, 'UserName') }, req(q, 'PolicyArn'));
    case 'ListAttachedUserPolicies':
      return attachedXml(iam, iam.attachedPolicies({ user: req(q, 'UserName') }), q);
    case 'AttachGroupPolicy':
      await iam.attachPolicies({ group: req(q, 'GroupName') }, [policyByArn(iam, req(q, 'PolicyArn')).name]);
      return undefined;
    case 'DetachGroupPolicy':
      return detach(iam, { group: req(q, 'GroupName') }, req(q, 'PolicyArn'));
    case 'ListAttachedGroupPolicies':
      return attachedXml(iam, iam.attachedPolicies({ group: req(q, 'GroupName') }), q);

    // ---- groups
    case 'CreateGroup':
      return el('Group', groupXml(await iam.createGroup(req(q, 'GroupName'), { path: q.get('Path') ?? undefined })));
    case 'GetGroup': {
      const g = iam.getGroup(req(q, 'GroupName'));
      const users = g.members.filter((m) => iam.hasUser(m)).map((m) => iam.getUser(m));
      const page = paginate(users, (u) => u.name, q);
      return frag(el('Group', groupXml(g)), members('Users', page.items.map(userXml)), ...page.tail);
    }
    case 'DeleteGroup': {
      const name = req(q, 'GroupName');
      if (iam.getGroup(name).members.length > 0) throw new QueryError(409, 'DeleteConflict', 'Cannot delete entity, must remove users from group first.');
      await iam.removeGroup(name);
      return undefined;
    }
    case 'ListGroups': {
      const prefix = q.get('PathPrefix') ?? '/';
      const page = paginate(iam.listGroups().filter((g) => g.path.startsWith(prefix)), (g) => g.name, q);
      return frag(members('Groups', page.items.map(groupXml)), ...page.tail);
    }
    case 'AddUserToGroup': {
      const [group, user] = [req(q, 'GroupName'), req(q, 'UserName')];
      iam.getGroup(group); // AWS: the group must exist (MinIO's add-members would create it)
      await iam.addGroupMembers(group, [user]);
      return undefined;
    }
    case 'RemoveUserFromGroup': {
      const [group, user] = [req(q, 'GroupName'), req(q, 'UserName')];
      iam.getUser(user);
      if (!iam.getGroup(group).members.includes(user)) throw new QueryError(404, 'NoSuchEntity', `The user ${user} is not a member of group ${group}.`);
      await iam.removeGroupMembers(group, [user]);
      return undefined;
    }
    case 'ListGroupsForUser': {
      const groups = iam.groupsForUser(req(q, 'UserName')).map((g) => iam.getGroup(g));
      const page = paginate(groups, (g) => g.name, q);
      return frag(members('Groups', page.items.map(groupXml)), ...page.tail);
    }
  }
  throw new QueryError(400, 'InvalidAction', `Could not find operation ${action}`);
}

// ---------------------------------------------------------------- helpers

function req(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === '') throw new QueryError(400, 'ValidationError', `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The caller's own user name, for actions whose UserName defaults to the caller. */
function selfName(p: Principal): string {
  if (p.kind === 'user' || p.kind === 'root') return p.username;
  throw new QueryError(400, 'ValidationError', 'UserName is required when the caller is not an IAM user');
}

/** UserName, or the owner of AccessKeyId (AWS infers the user from the key). */
function keyOwner(iam: IamService, q: URLSearchParams, caller: Principal): string {
  const user = q.get('UserName');
  if (user) return user;
  const owner = iam.userForAccessKey(req(q, 'AccessKeyId'));
  if (owner && (caller.kind === 'root' || owner === caller.username)) return owner;
  return selfName(caller);
}

/** Resolves a managed-policy ARN to a (non-inline) policy, or NoSuchEntity. */
function policyByArn(iam: IamService, arn: string): PolicyInfo {
  const m = /^arn:aws:iam::([^:]*):policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (!m) throw new QueryError(400, 'InvalidInput', `ARN ${arn} is not valid.`);
  const [, account, name] = m as unknown as [string, string, string];
  const builtinArn = account === 'aws';
  if (!builtinArn && account !== iam.accountId) throw new QueryError(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
  let p: PolicyInfo;
  try {
    p = iam.getPolicy(name);
  } catch (e) {
    if (isIamError(e) && e.code === 'NoSuchPolicy') throw new QueryError(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
    throw e;
  }
  if (p.builtin !== builtinArn || p.inline) throw new QueryError(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
  return p;
}

async function detach(iam: IamService, target: { user: string } | { group: string }, arn: string): Promise<undefined> {
  const p = policyByArn(iam, arn);
  const removed = await iam.detachPolicies(target, [p.name]);
  if (removed.length === 0) {
    const who = 'user' in target ? `user ${target.user}` : `group ${target.group}`;
    throw new QueryError(404, 'NoSuchEntity', `Policy ${arn} was not found or is not attached to ${who}.`);
  }
  return undefined;
}

function attachedXml(iam: IamService, names: string[], q: URLSearchParams): Xml {
  const list = names.map((n) => { try { return iam.getPolicy(n); } catch { return undefined; } })
    .filter((p): p is PolicyInfo => !!p && !p.inline);
  const page = paginate(list, (p) => p.arn, q);
  return frag(members('AttachedPolicies', page.items.map((p) => frag(el('PolicyName', p.name), el('PolicyArn', p.arn)))), ...page.tail);
}

interface Page<T> {
  items: T[];
  /** IsTruncated and, when truncated, Marker. */
  tail: Xml[];
}

/** MaxItems (1..1000, default 100) and Marker (the sort key of the last item returned). */
function paginate<T>(all: T[], key: (t: T) => string, q: URLSearchParams): Page<T> {
  const mi = q.get('MaxItems');
  const max = mi === null ? 100 : Number(mi);
  if (!Number.isInteger(max) || max < 1 || max > 1000) throw new QueryError(400, 'ValidationError', 'MaxItems must be between 1 and 1000');
  const marker = q.get('Marker');
  let start = 0;
  if (marker) {
    let after: string;
    try { after = Buffer.from(marker, 'base64url').toString('utf8'); } catch { throw new QueryError(400, 'ValidationError', 'invalid Marker'); }
    const sorted = all.map(key);
    start = sorted.findIndex((k) => k > after);
    if (start < 0) start = all.length;
  }
  const items = all.slice(start, start + max);
  const truncated = start + max < all.length;
  const tail = [el('IsTruncated', truncated)];
  if (truncated) tail.push(el('Marker', Buffer.from(key(items[items.length - 1]!)).toString('base64url')));
  return { items, tail };
}

function userXml(u: UserInfo): Xml {
  return frag(el('Path', u.path), el('UserName', u.name), el('UserId', u.id), el('Arn', u.arn), el('CreateDate', u.createdAt));
}

function groupXml(g: GroupInfo): Xml {
  return frag(el('Path', g.path), el('GroupName', g.name), el('GroupId', g.id), el('Arn', g.arn), el('CreateDate', g.createdAt));
}

function keyXml(user: string, k: AccessKeyInfo): Xml {
  return frag(el('UserName', user), el('AccessKeyId', k.accessKey), el('Status', k.status), el('CreateDate', k.createdAt));
}

function policyXml(p: PolicyInfo): Xml {
  return frag(
    el('PolicyName', p.name),
    el('DefaultVersionId', 'v1'),
    el('PolicyId', p.id ?? `ANPA${p.name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 21)),
    el('Path', '/'),
    el('Arn', p.arn),
    el('AttachmentCount', p.attachmentCount),
    el('PermissionsBoundaryUsageCount', 0),
    el('IsAttachable', true),
    opt('Description', p.description),
    el('CreateDate', p.createdAt ?? new Date(0)),
    el('UpdateDate', p.updatedAt ?? new Date(0)),
  );
}

function mapIamError(e: IamError): { status: number; code: string } {
  switch (e.code) {
    case 'NoSuchUser': case 'NoSuchGroup': case 'NoSuchPolicy': case 'NoSuchServiceAccount': case 'NoSuchAccessKey':
      return { status: 404, code: 'NoSuchEntity' };
    case 'UserAlreadyExists': case 'GroupAlreadyExists': case 'PolicyAlreadyExists': case 'AccessKeyInUse':
      return { status: 409, code: 'EntityAlreadyExists' };
    case 'GroupNotEmpty':
      return { status: 409, code: 'DeleteConflict' };
    case 'MalformedPolicy':
      return { status: 400, code: 'MalformedPolicyDocument' };
    case 'PolicyTooLarge': case 'LimitExceeded':
      return { status: 409, code: 'LimitExceeded' };
    case 'NotAllowed': case 'AccessDenied':
      return { status: 403, code: 'AccessDenied' };
    default:
      return { status: 400, code: 'ValidationError' };
  }
}
