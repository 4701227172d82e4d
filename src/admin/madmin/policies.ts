/**
 * Canned policies and policy mappings (spec §3.2): add/remove/list/info-canned-policy,
 * set-user-or-group-policy (2021 mc: replaces the list) and the current mc's
 * idp/builtin/policy/attach|detach (enveloped both ways) and policy-entities.
 *
 * Admin actions: admin:CreatePolicy, DeletePolicy, ListUserPolicies (list), GetPolicy
 * (info, entities), AttachUserOrGroupPolicy (set, attach, detach).
 * Only canned (named) policies are listed; the IAM API's inline policies are not.
 */
import { isIamError } from '../../iam/errors.js';
import type { PolicyTarget } from '../../iam/service.js';
import type { AdminCall } from './call.js';
import { AdminError, adminErrors } from './errors.js';
import type { AdminRoute } from './route.js';

export const POLICY_MAX_BYTES = 20 * 1024;

function cannedPolicies(call: AdminCall) {
  return call.iam.listPolicies().filter((p) => !p.inline);
}

function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Unknown user/group -> 404; service-account or STS keys -> 403 (MinIO's answers). */
function checkTarget(call: AdminCall, target: PolicyTarget): void {
  if ('group' in target) {
    call.iam.getGroup(target.group);
    return;
  }
  if (!call.iam.hasUser(target.user)) {
    try {
      call.iam.getServiceAccount(target.user);
    } catch {
      throw adminErrors.noSuchUser();
    }
    throw adminErrors.notAllowed('Policies cannot be attached to a service account');
  }
}

function splitNames(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

interface AttachBody { policies?: unknown; user?: unknown; group?: unknown }

async function attachOrDetach(call: AdminCall, attach: boolean) {
  await call.authorize('admin:AttachUserOrGroupPolicy');
  const body = await call.decryptedJson<AttachBody>();
  const policies = Array.isArray(body.policies) ? body.policies.filter((p): p is string => typeof p === 'string' && p !== '') : [];
  if (policies.length === 0) throw adminErrors.invalidArgument('No policy names given');
  const user = typeof body.user === 'string' ? body.user : '';
  const group = typeof body.group === 'string' ? body.group : '';
  if ((user === '') === (group === '')) throw adminErrors.invalidArgument('Exactly one of user or group must be given');
  const target: PolicyTarget = user ? { user } : { group };
  checkTarget(call, target);
  const changed = attach ? await call.iam.attachPolicies(target, policies) : await call.iam.detachPolicies(target, policies);
  if (changed.length === 0) {
    throw new AdminError('XMinioAdminPolicyChangeAlreadyApplied', attach ? 'The specified policy change is already in effect.' : 'The specified policy change is already in effect.', 400);
  }
  return call.encrypted({ [attach ? 'policiesAttached' : 'policiesDetached']: changed, updatedAt: new Date().toISOString() });
}

export const policyRoutes: AdminRoute[] = [
  {
    method: 'PUT', op: 'add-canned-policy', query: ['name'],
    async handle(call) {
      await call.authorize('admin:CreatePolicy');
      const name = call.param('name');
      if (name === '') throw adminErrors.invalidArgument('The policy name must not be empty');
      if (call.req.body.length === 0) throw new AdminError('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411);
      if (call.req.body.length > POLICY_MAX_BYTES) throw new AdminError('EntityTooLarge', `Policy documents are limited to ${POLICY_MAX_BYTES} bytes`, 400);
      const text = call.req.body.toString('utf8');
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw new AdminError('XMinioMalformedIAMPolicy', `The policy is not valid JSON: ${(e as Error).message}`, 400);
      }
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new AdminError('XMinioMalformedIAMPolicy', 'A policy must be a JSON object', 400);
      if (!(doc as Record<string, unknown>).Version) throw new AdminError('MalformedPolicy', 'Policy is missing the required field Version', 400);
      await call.iam.putPolicy(name, text);
      return call.ok();
    },
  },
  {
    method: 'DELETE', op: 'remove-canned-policy', query: ['name'],
    async handle(call) {
      await call.authorize('admin:DeletePolicy');
      try {
        await call.iam.removePolicy(call.param('name'));
      } catch (e) {
        // Removing an unknown canned policy is not an error (spec §3.2).
        if (!(isIamError(e) && e.code === 'NoSuchPolicy')) throw e;
      }
      return call.ok();
    },
  },
  {
    method: 'GET', op: 'list-canned-policies',
    async handle(call) {
      await call.authorize('admin:ListUserPolicies');
      const out: Record<string, unknown> = {};
      for (const p of cannedPolicies(call)) {
        // v2 answers base64 of the document text; v3 the document itself.
        out[p.name] = call.req.version === 'v2' ? Buffer.from(p.document).toString('base64') : parseDocument(p.document);
      }
      return call.json(out);
    },
  },
  {
    method: 'GET', op: 'info-canned-policy', query: ['name'],
    async handle(call) {
      await call.authorize('admin:GetPolicy');
      const v = call.query.get('v');
      if (v !== null && v !== '2') throw adminErrors.invalidArgument(`Unsupported version '${v}'`);
      const name = call.param('name');
      let p;
      try {
        p = call.iam.getPolicy(name);
      } catch (e) {
        if (isIamError(e) && e.code === 'NoSuchPolicy') throw adminErrors.noSuchPolicy();
        throw e;
      }
      if (p.inline) throw adminErrors.noSuchPolicy();
      if (v === '2') {
        return call.json({
          PolicyName: p.name,
          Policy: parseDocument(p.document),
          ...(p.createdAt ? { CreateDate: p.createdAt.toISOString() } : {}),
          ...(p.updatedAt ? { UpdateDate: p.updatedAt.toISOString() } : {}),
        });
      }
      return call.raw(`${JSON.stringify(parseDocument(p.document))}\n`);
    },
  },
  {
    method: 'PUT', op: 'set-user-or-group-policy', query: ['policyName', 'userOrGroup', 'isGroup'],
    async handle(call) {
      await call.authorize('admin:AttachUserOrGroupPolicy');
      const entity = call.param('userOrGroup');
      if (entity === '') throw adminErrors.invalidArgument('userOrGroup must not be empty');
      const target: PolicyTarget = call.param('isGroup') === 'true' ? { group: entity } : { user: entity };
      checkTarget(call, target);
      await call.iam.setPolicies(target, splitNames(call.param('policyName')));
      return call.ok();
    },
  },
  { method: 'POST', op: 'idp/builtin/policy/attach', handle: (call) => attachOrDetach(call, true) },
  { method: 'POST', op: 'idp/builtin/policy/detach', handle: (call) => attachOrDetach(call, false) },
  {
    method: 'GET', op: 'idp/builtin/policy-entities',
    async handle(call) {
      await call.authorize('admin:GetPolicy');
      const users = call.query.getAll('user').filter(Boolean);
      const groups = call.query.getAll('group').filter(Boolean);
      const policies = call.query.getAll('policy').filter(Boolean);
      const all = users.length + groups.length + policies.length === 0;
      const iam = call.iam;
      const groupMapping = (g: string) => ({ group: g, policies: iam.attachedPolicies({ group: g }) });
      const userMappings = (all ? iam.listUsers().map((u) => u.name) : users).filter((u) => iam.hasUser(u)).map((u) => ({
        user: u,
        policies: iam.attachedPolicies({ user: u }),
        memberOfMappings: iam.groupsForUser(u).map(groupMapping),
      }));
      const groupMappings = (all ? iam.listGroups().map((g) => g.name) : groups)
        .filter((g) => iam.listGroups().some((x) => x.name === g)).map(groupMapping);
      const policyMappings = (all ? cannedPolicies(call).map((p) => p.name) : policies).map((p) => ({ policy: p, ...iam.policyEntities(p) }));
      return call.encrypted({ timestamp: new Date().toISOString(), userMappings, groupMappings, policyMappings });
    },
  },
];
