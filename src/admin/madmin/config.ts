/**
 * Config KV (spec §3.5) for the subsystems the config service knows (notify_*):
 * get-config-kv (enveloped text), set-config-kv (enveloped text; applied at once, so the
 * reply carries `x-minio-config-applied: true` and mc does not ask for a restart),
 * del-config-kv (enveloped `subsys[:target]` lines), help-config-kv (plain JSON), and the
 * whole-config export/import (GET/PUT /config). Admin action: admin:ConfigUpdate for all.
 *
 * PUT /config merges the given targets into the current settings (it does not remove
 * targets missing from the text; `config reset` does that).
 */
import type { ConfigService } from '../../config/service.js';
import { buildHelp, formatConfigLine, formatConfigTargets, parseConfigText, parseTargetName, parseTargetNames } from '../config-text.js';
import type { AdminCall } from './call.js';
import { adminErrors } from './errors.js';
import type { AdminRoute } from './route.js';

function service(call: AdminCall): ConfigService {
  if (!call.deps.config) throw adminErrors.notImplemented('The config API is not available on this server');
  return call.deps.config;
}

async function setText(call: AdminCall, text: string): Promise<void> {
  const cfg = service(call);
  const lines = parseConfigText(text, cfg.subsystems);
  if (lines.length === 0) throw adminErrors.invalidArgument('No configuration lines given');
  await cfg.set(lines);
}

export const configRoutes: AdminRoute[] = [
  {
    method: 'GET', op: 'get-config-kv', query: ['key'],
    async handle(call) {
      await call.authorize('admin:ConfigUpdate');
      const cfg = service(call);
      const key = call.param('key').trim().split(/\s+/)[0] ?? '';
      if (key === '') throw adminErrors.invalidArgument('A sub-system name is required');
      const { subsys, target } = parseTargetName(key);
      const explicitDefault = key.endsWith(':_');
      return call.encrypted(formatConfigTargets(cfg.get(subsys, explicitDefault ? '_' : target)));
    },
  },
  {
    method: 'PUT', op: 'set-config-kv',
    async handle(call) {
      await call.authorize('admin:ConfigUpdate');
      await setText(call, (await call.decrypted()).toString('utf8'));
      return call.ok(200, { 'x-minio-config-applied': 'true' });
    },
  },
  {
    method: 'DELETE', op: 'del-config-kv',
    async handle(call) {
      await call.authorize('admin:ConfigUpdate');
      const cfg = service(call);
      const names = parseTargetNames((await call.decrypted()).toString('utf8'));
      if (names.length === 0) throw adminErrors.invalidArgument('A sub-system name is required');
      for (const n of names) await cfg.reset(n.subsys, n.target);
      return call.ok(200, { 'x-minio-config-applied': 'true' });
    },
  },
  {
    method: 'GET', op: 'help-config-kv', query: ['subSys', 'key'],
    async handle(call) {
      await call.authorize('admin:ConfigUpdate');
      const cfg = service(call);
      return call.json(buildHelp(cfg.subsystems, call.param('subSys'), call.param('key'), call.query.has('env')));
    },
  },
  {
    method: 'GET', op: 'config',
    async handle(call) {
      await call.authorize('admin:ConfigUpdate');
      const text = service(call).list().map((t) => `${formatConfigLine(t.subsys, t.target, t.kvs)}\n`).join('');
      return call.encrypted(text);
    },
  },
  {
    method: 'PUT', op: 'config',
    async handle(call) {
      await call.authorize('admin:ConfigUpdate');
      await setText(call, (await call.decrypted()).toString('utf8'));
      return call.ok(200, { 'x-minio-config-applied': 'true' });
    },
  },
];
