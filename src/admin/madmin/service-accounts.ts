/**
 * Service accounts (spec §3.4): add (enveloped both ways), list (enveloped; the old
 * `{"accounts":["AK"]}` shape for mc before RELEASE.2023-05-26T23-31-54Z, objects for newer
 * clients), info (enveloped), update (enveloped request, 204), delete (204).
 *
 * Parent: `targetUser` when given, else the caller (the parent user for an STS caller).
 * Root may own service accounts, as current MinIO allows (the 2021 server refused). A
 * service account cannot create service accounts.
 * Admin actions: admin:CreateServiceAccount (for another user), ListServiceAccounts
 * (list/info of others'), UpdateServiceAccount, RemoveServiceAccount; one's own accounts
 * need none. Somebody else's account without the action answers 404, like MinIO.
 */
import { isIamError } from '../../iam/errors.js';
import type { ServiceAccountInfo } from '../../iam/service.js';
import type { AdminCall } from './call.js';
import { adminErrors } from './errors.js';
import type { AdminRoute } from './route.js';

const NEVER_OLD = '0001-01-01T00:00:00Z';
const NEVER_NEW = '1970-01-01T00:00:00Z';

function never(call: AdminCall): string {
  return call.client.legacy ? NEVER_OLD : NEVER_NEW;
}

function expirationJson(call: AdminCall, d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : never(call);
}

/** RFC 3339 (any offset); the zero times mean "never". */
function parseExpiration(v: unknown): Date | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw adminErrors.invalidArgument('expiration must be an RFC 3339 time');
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw adminErrors.invalidArgument(`invalid expiration '${v}'`);
  if (d.getTime() <= 0) return undefined;
  return d;
}

/** The embedded policy as text: JSON object (both mc generations) or a string. */
function policyText(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function isEmptyPolicy(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const st = (v as Record<string, unknown>).Statement;
  return Object.keys(v).length === 0 || (Array.isArray(st) && st.length === 0);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The account if the caller may act on it (own, or holding `action`); else 404. */
async function accessible(call: AdminCall, accessKey: string, action: string): Promise<ServiceAccountInfo> {
  let sa: ServiceAccountInfo;
  try {
    sa = call.iam.getServiceAccount(accessKey);
  } catch (e) {
    if (isIamError(e) && e.code === 'NoSuchServiceAccount') {
      await call.authorize(action).catch(() => { throw adminErrors.svcNotFound(); });
      throw adminErrors.svcNotFound();
    }
    throw e;
  }
  if (sa.parent !== call.callerUser) await call.authorize(action).catch(() => { throw adminErrors.svcNotFound(); });
  return sa;
}

/** The policy an account without its own has: its parent's policies merged into one document. */
function impliedPolicy(call: AdminCall, parent: string): string {
  if (parent === call.iam.rootUser) {
    return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['admin:*'] }, { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] }] });
  }
  const statements: unknown[] = [];
  for (const name of call.iam.effectivePolicyNames(parent)) {
    try {
      const doc = JSON.parse(call.iam.getPolicy(name).document) as { Statement?: unknown };
      if (Array.isArray(doc.Statement)) statements.push(...doc.Statement);
      else if (doc.Statement) statements.push(doc.Statement);
    } catch { /* unknown or unparsable: contributes nothing */ }
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

interface AddBody {
  policy?: unknown; targetUser?: unknown; accessKey?: unknown; secretKey?: unknown;
  name?: unknown; description?: unknown; comment?: unknown; expiration?: unknown;
}

interface UpdateBody {
  newPolicy?: unknown; newSecretKey?: unknown; newStatus?: unknown;
  newName?: unknown; newDescription?: unknown; newExpiration?: unknown;
}

export const serviceAccountRoutes: AdminRoute[] = [
  {
    method: 'PUT', op: 'add-service-account',
    async handle(call) {
      if (call.principal.kind === 'serviceAccount') throw adminErrors.notAllowed('Service accounts cannot create service accounts');
      const body = await call.decryptedJson<AddBody>();
      const target = str(body.targetUser) ?? '';
      const parent = target !== '' ? target : call.callerUser;
      if (parent !== call.callerUser) await call.authorize('admin:CreateServiceAccount');
      if (parent !== call.iam.rootUser && !call.iam.hasUser(parent)) throw adminErrors.noSuchUser();
      const accessKey = str(body.accessKey) || undefined;
      const secretKey = str(body.secretKey) || undefined;
      const description = str(body.description) || str(body.comment) || undefined;
      const created = await call.iam.addServiceAccount({
        parent,
        ...(accessKey ? { accessKey } : {}),
        ...(secretKey ? { secretKey } : {}),
        ...(str(body.name) ? { name: str(body.name) } : {}),
        ...(description ? { description } : {}),
        ...(parseExpiration(body.expiration) ? { expiration: parseExpiration(body.expiration) } : {}),
        ...(policyText(body.policy) !== undefined && !isEmptyPolicy(body.policy) ? { policy: policyText(body.policy) } : {}),
      });
      return call.encrypted({ credentials: { accessKey: created.accessKey, secretKey: created.secretKey, expiration: expirationJson(call, created.expiration) } });
    },
  },
  {
    method: 'GET', op: 'list-service-accounts',
    async handle(call) {
      const user = call.query.get('user') || call.callerUser;
      if (user !== call.callerUser) await call.authorize('admin:ListServiceAccounts');
      if (user !== call.iam.rootUser && !call.iam.hasUser(user)) throw adminErrors.noSuchUser();
      const list = call.iam.listServiceAccounts(user);
      if (call.client.oldServiceAccountList) {
        return call.encrypted({ accounts: list.length ? list.map((s) => s.accessKey) : null });
      }
      return call.encrypted({
        accounts: list.map((s) => ({
          parentUser: s.parent,
          accountStatus: s.status,
          impliedPolicy: s.impliedPolicy,
          accessKey: s.accessKey,
          ...(s.name ? { name: s.name } : {}),
          ...(s.description ? { description: s.description } : {}),
          expiration: expirationJson(call, s.expiration),
        })),
      });
    },
  },
  {
    method: 'GET', op: 'info-service-account', query: ['accessKey'],
    async handle(call) {
      const sa = await accessible(call, call.param('accessKey'), 'admin:ListServiceAccounts');
      return call.encrypted({
        parentUser: sa.parent,
        accountStatus: sa.status,
        impliedPolicy: sa.impliedPolicy,
        policy: sa.policy ?? impliedPolicy(call, sa.parent),
        ...(sa.name ? { name: sa.name } : {}),
        ...(sa.description ? { description: sa.description } : {}),
        ...(call.client.legacy ? {} : { expiration: expirationJson(call, sa.expiration) }),
      });
    },
  },
  {
    method: 'POST', op: 'update-service-account', query: ['accessKey'],
    async handle(call) {
      const accessKey = call.param('accessKey');
      await accessible(call, accessKey, 'admin:UpdateServiceAccount');
      const body = await call.decryptedJson<UpdateBody>();
      const status = str(body.newStatus) ?? '';
      if (status !== '' && status !== 'on' && status !== 'off') throw adminErrors.invalidArgument(`newStatus must be 'on' or 'off', not '${status}'`);
      // 2021 mc always sends newStatus (and may send empty strings): '' means unchanged.
      const newSecret = str(body.newSecretKey) ?? '';
      const update: Parameters<typeof call.iam.updateServiceAccount>[1] = {
        ...(status ? { status: status as 'on' | 'off' } : {}),
        ...(newSecret ? { secretKey: newSecret } : {}),
        ...(body.newName !== undefined && str(body.newName) !== undefined ? { name: str(body.newName) } : {}),
        ...(body.newDescription !== undefined && str(body.newDescription) !== undefined ? { description: str(body.newDescription) } : {}),
      };
      if (body.newPolicy !== undefined && body.newPolicy !== null) {
        update.policy = isEmptyPolicy(body.newPolicy) ? null : policyText(body.newPolicy) ?? null;
      }
      if (body.newExpiration !== undefined && body.newExpiration !== null && body.newExpiration !== '') {
        update.expiration = parseExpiration(body.newExpiration) ?? null;
      }
      await call.iam.updateServiceAccount(accessKey, update);
      return call.ok(204);
    },
  },
  {
    method: 'DELETE', op: 'delete-service-account', query: ['accessKey'],
    async handle(call) {
      const accessKey = call.param('accessKey');
      await accessible(call, accessKey, 'admin:RemoveServiceAccount');
      await call.iam.removeServiceAccount(accessKey);
      return call.ok(204);
    },
  },
];
