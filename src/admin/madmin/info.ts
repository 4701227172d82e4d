/**
 * Server info and the s3gate extensions.
 *
 * GET /info (2021) and /info?metrics=false (current mc): a minimal FS-type InfoMessage
 * that both mc generations print (spec §3.7): one online server, backendType FS, the
 * target ARNs in sqsARN. Admin action admin:ServerInfo.
 * POST /service (restart/stop) and the storage/usage ops answer 501 as the JuiceFS
 * gateway does: restart s3gate with your service manager.
 *
 * Extensions (s3gate CLI; not in MinIO, so under /s3gate/):
 *   GET  s3gate/target-status    per-target queue and delivery state (admin:ServerInfo)
 *   POST s3gate/policy-simulate  {"user"|"accessKey", "action", "resource"?, "context"?}
 *        -> the IAM explanation; own identity free, others need admin:GetPolicy
 */
import type { Principal } from '../../auth/principal.js';
import type { AdminCall } from './call.js';
import { adminErrors } from './errors.js';
import type { AdminRoute } from './route.js';

async function serverInfo(call: AdminCall) {
  await call.authorize('admin:ServerInfo');
  const d = call.deps;
  const usage = d.usage ? await d.usage().catch(() => undefined) : undefined;
  const endpoint = call.req.host ?? 'localhost';
  const uptime = d.startedAt ? Math.max(0, Math.floor((Date.now() - d.startedAt.getTime()) / 1000)) : 0;
  return call.json({
    mode: 'online',
    region: d.region || 'us-east-1',
    deploymentID: d.deploymentId,
    sqsARN: d.events?.listTargetArns() ?? [],
    buckets: { count: usage?.buckets ?? 0 },
    objects: { count: usage?.objects ?? 0 },
    usage: { size: usage?.size ?? 0 },
    backend: { backendType: 'FS' },
    servers: [{
      state: 'online',
      endpoint,
      uptime,
      version: d.version ?? 's3gate',
      commitID: d.commitId ?? '',
      network: { [endpoint]: 'online' },
      drives: [],
    }],
  });
}

const notImplemented = async (call: AdminCall) => {
  await call.authorize('admin:ServerInfo');
  throw adminErrors.notImplemented();
};

interface SimulateBody { user?: unknown; accessKey?: unknown; action?: unknown; resource?: unknown; context?: unknown }

async function simulate(call: AdminCall) {
  const body = call.plainJson<SimulateBody>();
  const action = typeof body.action === 'string' ? body.action : '';
  if (action === '') throw adminErrors.invalidArgument('action is required');
  const resource = typeof body.resource === 'string' && body.resource !== '' ? body.resource : undefined;
  const context = body.context && typeof body.context === 'object' ? body.context as Record<string, string | string[]> : undefined;
  let principal: Principal = call.principal;
  const user = typeof body.user === 'string' ? body.user : '';
  const accessKey = typeof body.accessKey === 'string' ? body.accessKey : '';
  if (user || accessKey) {
    const self = user ? user === call.callerUser && call.principal.kind === 'user' : accessKey === call.principal.accessKey;
    if (!self) await call.authorize('admin:GetPolicy');
    if (user) {
      if (user === call.iam.rootUser) principal = call.iam.rootPrincipal();
      else {
        if (!call.iam.hasUser(user)) throw adminErrors.noSuchUser();
        const u = call.iam.getUser(user);
        principal = { kind: 'user', accessKey: u.accessKeys[0]?.accessKey ?? u.name, username: u.name, userId: u.id };
      }
    } else {
      const cred = await call.iam.lookup(accessKey);
      if (!cred) throw adminErrors.invalidCredentials(`The access key '${accessKey}' is unknown or disabled`, 404);
      principal = cred.principal;
    }
  }
  return call.json(await call.iam.explain(principal, action, resource, context));
}

export const infoRoutes: AdminRoute[] = [
  { method: 'GET', op: 'info', handle: serverInfo },
  { method: 'POST', op: 'service', query: ['action'], handle: notImplemented },
  { method: 'POST', op: 'update', handle: notImplemented },
  { method: 'GET', op: 'storageinfo', handle: notImplemented },
  { method: 'GET', op: 'datausageinfo', handle: notImplemented },
  {
    method: 'GET', op: 's3gate/target-status',
    async handle(call) {
      await call.authorize('admin:ServerInfo');
      if (!call.deps.events) throw adminErrors.notImplemented('Event notifications are not available on this server');
      return call.json({ targets: await call.deps.events.status() });
    },
  },
  { method: 'POST', op: 's3gate/policy-simulate', handle: simulate },
];
