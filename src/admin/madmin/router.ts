/**
 * The madmin router: `/minio/admin/<v2|v3>/<op>` requests, already authenticated, to
 * the endpoint modules (users, policies, groups, service accounts, config, info). A
 * request matches on method + op + presence of the route's query keys, as MinIO routes;
 * anything else (including v4 and unknown ops) answers 426 XMinioAdminVersionMismatch,
 * which also makes madmin-go v4 fall back to v3.
 *
 * Pure: (request) -> response value; src/admin/madmin/http-route.ts does the HTTP part.
 */
import { AdminCall, type AdminDeps, type AdminRequest, type AdminResponse } from './call.js';
import { adminErrors, errorBody, toAdminError } from './errors.js';
import type { AdminRoute } from './route.js';
import { userRoutes } from './users.js';
import { policyRoutes } from './policies.js';
import { groupRoutes } from './groups.js';
import { serviceAccountRoutes } from './service-accounts.js';
import { configRoutes } from './config.js';
import { infoRoutes } from './info.js';

export const ADMIN_PREFIX = '/minio/admin/';
const VERSIONS = new Set(['v2', 'v3']);

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  ...userRoutes, ...policyRoutes, ...groupRoutes, ...serviceAccountRoutes, ...configRoutes, ...infoRoutes,
];

export interface AdminHandler {
  handle(req: AdminRequest): Promise<AdminResponse>;
  /** Error reply in the admin JSON shape (for failures before routing, e.g. authentication). */
  error(e: unknown, resource: string, requestId: string): AdminResponse;
}

/** Splits `/minio/admin/v3/add-user` into version and op; undefined if not an admin path. */
export function parseAdminPath(pathname: string): { version: string; op: string } | undefined {
  if (!pathname.startsWith(ADMIN_PREFIX)) return undefined;
  const rest = pathname.slice(ADMIN_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return { version: rest, op: '' };
  return { version: rest.slice(0, slash), op: rest.slice(slash + 1).replace(/\/+$/, '') };
}

export function findRoute(method: string, version: string, op: string, query: URLSearchParams): AdminRoute | undefined {
  if (!VERSIONS.has(version)) return undefined;
  return ADMIN_ROUTES.find((r) => r.method === method && r.op === op && (r.query ?? []).every((q) => query.has(q)));
}

export function createAdminHandler(deps: AdminDeps): AdminHandler {
  const error = (e: unknown, resource: string, requestId: string): AdminResponse => {
    const err = toAdminError(e);
    return { status: err.status, headers: { 'content-type': 'application/json' }, body: errorBody(err, resource, requestId, deps.deploymentId) };
  };
  return {
    error,
    async handle(req) {
      const resource = `${ADMIN_PREFIX}${req.version}/${req.op}`;
      try {
        const route = findRoute(req.method, req.version, req.op, req.query);
        if (!route) throw adminErrors.versionMismatch();
        return await route.handle(new AdminCall(req, deps));
      } catch (e) {
        const out = error(e, resource, req.requestId);
        if (out.status === 500) {
          console.error(JSON.stringify({ level: 'error', msg: 'admin request failed', requestId: req.requestId, op: req.op, error: String((e as Error)?.stack ?? e) }));
        }
        return out;
      }
    },
  };
}

export type { AdminDeps, AdminRequest, AdminResponse } from './call.js';
