import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigService } from '../../src/config/service.js';
import { parseEnvSettings } from '../../src/config/env.js';
import { ConfigError, type SubsystemSpec } from '../../src/config/subsystem.js';

const redis: SubsystemSpec = {
  name: 'notify_redis',
  description: 'publish bucket notifications to Redis datastores',
  multipleTargets: true,
  keys: [
    { key: 'enable', default: 'off', help: '', type: 'on|off', optional: true },
    { key: 'format', default: 'namespace', help: '', type: 'namespace*|access', optional: false },
    { key: 'address', default: '', help: '', type: 'address', optional: false },
    { key: 'key', default: '', help: '', type: 'string', optional: false },
    { key: 'password', default: '', help: '', type: 'string', optional: true, sensitive: true },
    { key: 'queue_dir', default: '', help: '', type: 'path', optional: true },
    { key: 'queue_limit', default: '0', help: '', type: 'number', optional: true },
    { key: 'db', default: '0', help: '', type: 'number', optional: true, extension: true },
    { key: 'comment', default: '', help: '', type: 'sentence', optional: true },
  ],
};

async function sysDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 's3gate-config-'));
}

test('env vars: MINIO_ and S3GATE_ names, multi-word keys, default and named targets', () => {
  const settings = parseEnvSettings({
    MINIO_NOTIFY_REDIS_ENABLE_1: 'on',
    MINIO_NOTIFY_REDIS_ADDRESS_1: '127.0.0.1:6379',
    MINIO_NOTIFY_REDIS_QUEUE_DIR_my_target: '/var/q',
    MINIO_NOTIFY_REDIS_KEY: 'events',
    S3GATE_NOTIFY_REDIS_ADDRESS_1: '10.0.0.1:6379',
    MINIO_NOTIFY_REDISX_KEY_1: 'ignored',
  }, [redis]);
  const byVar = Object.fromEntries(settings.map((s) => [`${s.target}.${s.key}`, s.value]));
  assert.deepEqual(byVar, { '1.enable': 'on', '1.address': '10.0.0.1:6379', 'my_target.queue_dir': '/var/q', '_.key': 'events' });
});

test('set persists atomically, env overrides stored values, get reports defaults and order', async () => {
  const dir = await sysDir();
  const cfg = await createConfigService({ sysDir: dir, subsystems: [redis], env: { MINIO_NOTIFY_REDIS_KEY_1: 'from-env' } });
  await cfg.set({ subsys: 'notify_redis', target: '1', kvs: { address: '127.0.0.1:6379', key: 'bucketevents', comment: 'hi' } });
  const [t] = cfg.get('notify_redis', '1');
  assert.deepEqual(t.kvs, { enable: 'on', format: 'namespace', address: '127.0.0.1:6379', key: 'from-env', password: '', queue_dir: '', queue_limit: '0', comment: 'hi' });
  assert.deepEqual(t.env, { key: 'MINIO_NOTIFY_REDIS_KEY_1' });
  assert.equal(t.enabled, true);
  // default target first, then named
  assert.deepEqual(cfg.get('notify_redis').map((x) => x.target), ['_', '1']);
  assert.deepEqual(cfg.get('notify').map((x) => x.target), ['_', '1'], 'a bare prefix matches the subsystem');
  const doc = JSON.parse(await readFile(join(dir, 'config', 'config.json'), 'utf8'));
  assert.equal(doc.subsystems.notify_redis['1'].key, 'bucketevents', 'the stored value is kept under the env override');
  cfg.close();
  await rm(dir, { recursive: true });
});

test('validation: unknown subsystem, unknown key, required key, missing target; nothing stored on error', async () => {
  const dir = await sysDir();
  const cfg = await createConfigService({ sysDir: dir, subsystems: [redis], env: {} });
  await assert.rejects(cfg.set({ subsys: 'notify_nope', target: '1', kvs: {} }), (e: any) => e instanceof ConfigError && e.code === 'XMinioConfigError' && /unknown sub-system/.test(e.message));
  await assert.rejects(cfg.set({ subsys: 'notify_redis', target: '1', kvs: { address: 'h:1', key: 'k', foo: 'bar' } }), /found invalid keys \(foo=bar\)/);
  await assert.rejects(cfg.set({ subsys: 'notify_redis', target: '1', kvs: { key: 'k' } }), /'address' is not optional for 'notify_redis' sub-system/);
  assert.throws(() => cfg.get('notify_redis', '1'), /sub-system target 'notify_redis:1' doesn't exist/);
  // A disabled target does not need its required keys.
  await cfg.set({ subsys: 'notify_redis', target: 'off', kvs: { enable: 'off' } });
  assert.equal(cfg.get('notify_redis', 'off')[0].enabled, false);
  // Validators see the merged settings and can refuse.
  cfg.addValidator('notify_', (t) => { if (t.kvs.address === 'bad:1') throw new Error('dial tcp bad:1: connection refused'); });
  await assert.rejects(cfg.set({ subsys: 'notify_redis', target: '2', kvs: { address: 'bad:1', key: 'k' } }), /connection refused/);
  assert.throws(() => cfg.get('notify_redis', '2'));
  cfg.close();
  await rm(dir, { recursive: true });
});

test('changes reach onChange listeners, other service instances (refresh) and reset', async () => {
  const dir = await sysDir();
  const a = await createConfigService({ sysDir: dir, subsystems: [redis], env: {} });
  const b = await createConfigService({ sysDir: dir, subsystems: [redis], env: {}, refreshIntervalMs: 50 });
  const seenA: string[][] = [];
  const seenB: string[][] = [];
  a.onChange((c) => seenA.push(c));
  b.onChange((c) => seenB.push(c));
  await a.set([{ subsys: 'notify_redis', target: '1', kvs: { address: 'h:1', key: 'k' } }, { subsys: 'notify_redis', kvs: { enable: 'off', key: 'x' } }]);
  assert.deepEqual(seenA, [['notify_redis', 'notify_redis:1']]);
  // b shares the process bus and the file: it converges without a restart.
  for (let i = 0; i < 50 && seenB.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(b.get('notify_redis', '1')[0].kvs.address, 'h:1');
  await a.set({ subsys: 'notify_redis', target: '1', kvs: { queue_limit: '1000' } });
  assert.equal(a.get('notify_redis', '1')[0].kvs.address, 'h:1', 'set merges into the existing target');
  await a.reset('notify_redis', '1');
  assert.throws(() => a.get('notify_redis', '1'));
  await a.reset('notify_redis');
  assert.equal(a.get('notify_redis')[0].kvs.key, '', 'reset of the default target restores defaults');
  await b.refresh();
  assert.deepEqual(b.list().map((t) => t.target), ['_']);
  a.close();
  b.close();
  await rm(dir, { recursive: true });
});

test('config file (JSON): targets enabled by default, below stored values', async () => {
  const dir = await sysDir();
  const file = join(dir, 's3gate.json');
  await writeFile(file, JSON.stringify({ 'notify_redis:f': { address: 'file:1', key: 'fk', db: 2 } }));
  const cfg = await createConfigService({ sysDir: dir, subsystems: [redis], env: {}, configFile: file });
  const [t] = cfg.get('notify_redis', 'f');
  assert.equal(t.enabled, true);
  assert.equal(t.kvs.db, '2', 'extension keys appear once set');
  await cfg.set({ subsys: 'notify_redis', target: 'f', kvs: { key: 'stored' } });
  assert.equal(cfg.get('notify_redis', 'f')[0].kvs.key, 'stored');
  assert.equal(cfg.get('notify_redis', 'f')[0].kvs.address, 'file:1');
  cfg.close();
  await rm(dir, { recursive: true });
});
