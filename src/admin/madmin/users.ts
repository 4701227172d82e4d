/**
 * Users (spec §3.1): add-user (enveloped; also a password change), remove-user,
 * list-users (enveloped reply), user-info, set-user-status.
 *
 * Admin actions: admin:CreateUser, DeleteUser, ListUsers, GetUser, EnableUser /
 * DisableUser. Self-service: a user may read its own info and change its own password
 * through add-user unless a policy explicitly denies it.
 */
import type { UserInfo } from '../../iam/service.js';
import type { AdminCall } from './call.js';
import { AdminError, adminErrors } from './errors.js';
import type { AdminRoute } from './route.js';

interface AddUserBody {
  secretKey?: unknown;
  status?: unknown;
  policyName?: unknown;
  policy?: unknown;
}

/** madmin UserInfo as both mc generations read it. */
export function userInfoJson(u: UserInfo): Record<string, unknown> {
  return {
    ...(u.policies.length ? { policyName: u.policies.join(',') } : {}),
    status: u.status,
    ...(u.memberOf.length ? { memberOf: u.memberOf } : {}),
    updatedAt: u.updatedAt.toISOString(),
  };
}

function splitPolicies(v: unknown): string[] | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** 404 for names that are not regular users (root, service accounts, STS keys). */
function requireRegularUser(call: AdminCall, name: string): UserInfo {
  if (!call.iam.hasUser(name)) throw adminErrors.noSuchUser();
  return call.iam.getUser(name);
}

function checkNotServiceAccount(call: AdminCall, name: string): void {
  try {
    call.iam.getServiceAccount(name);
  } catch {
    return;
  }
  throw adminErrors.notAllowed(`'${name}' is a service account`);
}

export const userRoutes: AdminRoute[] = [
  {
    method: 'PUT', op: 'add-user', query: ['accessKey'],
    async handle(call) {
      const name = call.param('accessKey');
      const self = call.principal.kind !== 'root' && name === call.callerUser;
      await call.authorize('admin:CreateUser', { self: self && call.principal.kind === 'user' });
      if (name === call.iam.rootUser) throw adminErrors.invalidCredentials('User is not allowed to be same as admin access key');
      if (self && call.principal.kind !== 'user') throw adminErrors.invalidCredentials('Temporary and service account credentials cannot change their parent user');
      if (name === '') throw adminErrors.invalidArgument('The access key must not be empty');
      checkNotServiceAccount(call, name);
      const body = await call.decryptedJson<AddUserBody>();
      if (typeof body.secretKey !== 'string') throw adminErrors.badJSON('secretKey is missing');
      // MinIO: anything but "enabled" (absent included) stores a disabled user.
      const status = body.status === 'enabled' ? 'enabled' : 'disabled';
      const policies = splitPolicies(body.policyName) ?? splitPolicies(body.policy);
      await call.iam.addUser(name, body.secretKey, { status, ...(policies ? { policies } : {}) });
      return call.ok();
    },
  },
  {
    method: 'DELETE', op: 'remove-user', query: ['accessKey'],
    async handle(call) {
      await call.authorize('admin:DeleteUser');
      const name = call.param('accessKey');
      checkNotServiceAccount(call, name);
      if (name === call.iam.rootUser) throw adminErrors.notAllowed('The root user cannot be removed');
      requireRegularUser(call, name);
      await call.iam.removeUser(name);
      return call.ok();
    },
  },
  {
    method: 'GET', op: 'list-users',
    async handle(call) {
      await call.authorize('admin:ListUsers');
      const out: Record<string, unknown> = {};
      for (const u of call.iam.listUsers()) out[u.name] = userInfoJson(u);
      return call.encrypted(out);
    },
  },
  {
    method: 'GET', op: 'user-info', query: ['accessKey'],
    async handle(call) {
      const name = call.param('accessKey');
      await call.authorize('admin:GetUser', { self: name === call.callerUser });
      return call.json(userInfoJson(requireRegularUser(call, name)));
    },
  },
  {
    method: 'PUT', op: 'set-user-status', query: ['accessKey', 'status'],
    async handle(call) {
      const name = call.param('accessKey');
      const status = call.param('status');
      await call.authorize(status === 'disabled' ? ['admin:DisableUser', 'admin:EnableUser'] : 'admin:EnableUser');
      if (status !== 'enabled' && status !== 'disabled') throw adminErrors.invalidArgument(`status must be 'enabled' or 'disabled', not '${status}'`);
      if (name === call.iam.rootUser) throw new AdminError('InvalidRequest', 'The root user cannot be disabled', 400);
      requireRegularUser(call, name);
      await call.iam.setUserStatus(name, status);
      return call.ok();
    },
  },
];
