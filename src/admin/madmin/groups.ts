/**
 * Groups (spec §3.3): update-group-members (add, remove members, or delete the group with
 * an empty/null member list), group (info), groups (list), set-group-status. Bodies are
 * plain JSON in both mc generations.
 *
 * Admin actions: admin:AddUserToGroup (adding), RemoveUserFromGroup or AddUserToGroup
 * (removing), GetGroup, ListGroups, EnableGroup / DisableGroup.
 */
import type { AdminCall } from './call.js';
import { adminErrors } from './errors.js';
import type { AdminRoute } from './route.js';

interface MembersBody { group?: unknown; members?: unknown; isRemove?: unknown; groupStatus?: unknown }

function groupExists(call: AdminCall, name: string): boolean {
  return call.iam.listGroups().some((g) => g.name === name);
}

export const groupRoutes: AdminRoute[] = [
  {
    method: 'PUT', op: 'update-group-members',
    async handle(call) {
      const body = call.plainJson<MembersBody>();
      const isRemove = body.isRemove === true;
      await call.authorize(isRemove ? ['admin:RemoveUserFromGroup', 'admin:AddUserToGroup'] : 'admin:AddUserToGroup');
      const group = typeof body.group === 'string' ? body.group : '';
      if (group === '') throw adminErrors.invalidArgument('The group name must not be empty');
      if (body.members !== null && body.members !== undefined && !Array.isArray(body.members)) throw adminErrors.badJSON('members must be a list');
      const members = ((body.members as unknown[] | null | undefined) ?? []).filter((m): m is string => typeof m === 'string');
      if (!isRemove) {
        for (const m of members) if (!call.iam.hasUser(m)) throw adminErrors.noSuchUser(`The specified user '${m}' does not exist.`);
        await call.iam.addGroupMembers(group, members);
        return call.ok();
      }
      if (!groupExists(call, group)) throw adminErrors.noSuchGroup();
      if (members.length === 0) await call.iam.removeGroup(group);
      else await call.iam.removeGroupMembers(group, members);
      return call.ok();
    },
  },
  {
    method: 'GET', op: 'group', query: ['group'],
    async handle(call) {
      await call.authorize('admin:GetGroup');
      const name = call.param('group');
      if (!groupExists(call, name)) throw adminErrors.noSuchGroup();
      const g = call.iam.getGroup(name);
      return call.json({ name: g.name, status: g.status, members: g.members, policy: g.policies.join(','), updatedAt: g.updatedAt.toISOString() });
    },
  },
  {
    method: 'GET', op: 'groups',
    async handle(call) {
      await call.authorize('admin:ListGroups');
      return call.json(call.iam.listGroups().map((g) => g.name));
    },
  },
  {
    method: 'PUT', op: 'set-group-status', query: ['group', 'status'],
    async handle(call) {
      const status = call.param('status');
      await call.authorize(status === 'disabled' ? ['admin:DisableGroup', 'admin:EnableGroup'] : 'admin:EnableGroup');
      if (status !== 'enabled' && status !== 'disabled') throw adminErrors.invalidArgument(`status must be 'enabled' or 'disabled', not '${status}'`);
      const name = call.param('group');
      if (!groupExists(call, name)) throw adminErrors.noSuchGroup();
      await call.iam.setGroupStatus(name, status);
      return call.ok();
    },
  },
];
