/**
 * The `s3gate alias` / `s3gate admin` CLI against the madmin HTTP route served in-process
 * (real IamService and ConfigService on a temp dir, real SigV4 and envelopes over HTTP).
 * The end-to-end journey against the full server is test/cli/admin-journey.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IamService } from '../../src/iam/service.js';
import { createConfigService, type ConfigService } from '../../src/config/service.js';
import { notifySubsystems } from '../../src/events/notify-subsystems.js';
import { madminRoute } from '../../src/admin/madmin/http-route.js';
import { closeArgon2Pool } from '../../src/admin/madmin/argon2-derive.js';
import { runAdminCli, runAliasCli } from '../../src/cli/admin/index.js';
import { runCli, type CliEntry } from '../helpers/admin-cli.js';

let dir: string;
let iam: IamService;
let config: ConfigService;
let server: Server;
let url: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 's3gate-cli-'));
  iam = await IamService.open({ sysDir: join(dir, 'sys'), rootUser: 'admin', rootPassword: 'admin-secret-1', bus: null, refreshIntervalMs: 0, log: () => {} });
  const specs = (await notifySubsystems()).filter((s) => ['notify_redis', 'notify_webhook'].includes(s.name));
  config = await createConfigService({ sysDir: join(dir, 'sys'), subsystems: specs, env: {}, refreshIntervalMs: 3_600_000 });
  const route = madminRoute({
    iam, config, credentials: iam, region: '', deploymentId: 'dep', version: 'test', startedAt: new Date(),
    events: { listTargetArns: () => [], status: async () => [] },
  });
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    if (route.matches(req, u)) void route.handle(req, res, u, 'rid-1');
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  env = { S3GATE_CONFIG_DIR: join(dir, 'cfg') };
});

after(async () => {
  await new Promise((ok) => server.close(ok));
  config.close();
  iam.close();
  await closeArgon2Pool();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (fn: CliEntry, ...argv: string[]) => runCli(fn, env, argv);
const admin = (...a: string[]) => cli(runAdminCli, ...a);
const alias = (...a: string[]) => cli(runAliasCli, ...a);
async function ok(p: Promise<{ code: number; out: string; err: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}: ${r.err}${r.out}`);
  return r.out;
}

test('alias set/list/remove, stored with mode 0600', async () => {
  assert.equal(await ok(alias('set', 'local', url, 'admin', 'admin-secret-1')), 'Added `local` successfully.\n');
  assert.equal(statSync(join(dir, 'cfg', 'config.json')).mode & 0o777, 0o600);
  const list = await ok(alias('list'));
  assert.match(list, new RegExp(`^local\\n  URL       : ${url.replace(/[.]/g, '\\.')}\\n  AccessKey : admin\\n`));
  await ok(alias('set', 'tmp', url, 'x', 'y'));
  assert.equal(await ok(alias('remove', 'tmp')), 'Removed `tmp` successfully.\n');
  const missing = await admin('user', 'list', 'tmp');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /No such alias `tmp`/);
});

test('user add/list/info/disable/enable, plain and --json output as mc prints them', async () => {
  assert.equal(await ok(admin('user', 'add', 'local', 'tom', 'abc123abc')), 'Added user `tom` successfully.\n');
  assert.equal(await ok(admin('user', 'list', 'local')), 'enabled    tom\n');
  assert.deepEqual(JSON.parse(await ok(admin('user', 'list', 'local', '--json'))), { status: 'success', accessKey: 'tom', userStatus: 'enabled' });
  assert.equal(await ok(admin('user', 'disable', 'local', 'tom')), 'Disabled user `tom` successfully.\n');
  assert.match(await ok(admin('user', 'info', 'local/', 'tom')), /^AccessKey: tom\nStatus: disabled\n/);
  assert.equal(await ok(admin('user', 'enable', 'local', 'tom')), 'Enabled user `tom` successfully.\n');
  const r = await admin('user', 'info', 'local', 'ghost');
  assert.equal(r.code, 1);
  assert.equal(r.err, 's3gate: <ERROR> The specified user does not exist.\n');
  const j = await admin('--json', 'user', 'info', 'local', 'ghost');
  assert.equal(JSON.parse(j.out).status, 'error');
});

test('policy add from a JSON file, info, list, set readonly user=..., attach/detach, simulate', async () => {
  const file = join(dir, 'writeonly.json');
  writeFileSync(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['arn:aws:s3:::*'] }] }));
  assert.equal(await ok(admin('policy', 'add', 'local', 'mywrite', file)), 'Added policy `mywrite` successfully.\n');
  assert.deepEqual(JSON.parse(await ok(admin('policy', 'info', 'local', 'mywrite'))).Statement[0].Action, ['s3:PutObject']);
  assert.match(await ok(admin('policy', 'info', 'local', 'readonly')), /^\{\n "Version": "2012-10-17",\n "Statement": \[\n {2}\{\n {3}"Effect": "Allow",/);
  assert.deepEqual((await ok(admin('policy', 'list', 'local'))).trim().split('\n'), ['consoleAdmin', 'diagnostics', 'mywrite', 'readonly', 'readwrite', 'writeonly']);
  assert.equal(await ok(admin('policy', 'set', 'local', 'readonly', 'user=tom')), 'Policy `readonly` is set on user `tom`\n');
  assert.equal(await ok(admin('user', 'list', 'local')), 'enabled    tom                   readonly\n');
  assert.equal(await ok(admin('policy', 'attach', 'local', 'mywrite', '--user', 'tom')), 'Attached Policies: [mywrite]\nTo User: tom\n');
  assert.match(await ok(admin('user', 'info', 'local', 'tom')), /PolicyName: readonly,mywrite/);
  assert.match(await ok(admin('policy', 'simulate', 'local', 's3:PutObject', 'arn:aws:s3:::b/k', '--user', 'tom')), /^Allowed: s3:PutObject on arn:aws:s3:::b\/k/);
  assert.equal(await ok(admin('policy', 'detach', 'local', 'mywrite', '--user', 'tom')), 'Detached Policies: [mywrite]\nFrom User: tom\n');
  assert.match(await ok(admin('policy', 'simulate', 'local', 's3:PutObject', 'arn:aws:s3:::b/k', '--user', 'tom')), /^Denied: /);
  assert.equal(await ok(admin('policy', 'unset', 'local', 'readonly', 'user=tom')), 'Policy `readonly` is unset on user `tom`\n');
  assert.equal(await ok(admin('policy', 'update', 'local', 'readonly', 'user=tom')), 'Policy `readonly` is attached to user `tom`\n');
  assert.equal(await ok(admin('policy', 'remove', 'local', 'mywrite')), 'Removed policy `mywrite` successfully.\n');
});

test('group add/info/list/disable/remove', async () => {
  await ok(admin('user', 'add', 'local', 'jerry', 'jerry-secret'));
  assert.equal(await ok(admin('group', 'add', 'local', 'devs', 'tom', 'jerry')), 'Added members `tom, jerry` to group `devs` successfully.\n');
  assert.equal(await ok(admin('group', 'info', 'local', 'devs')), 'Group: devs\nStatus: enabled\nPolicy: \nMembers: tom,jerry\n');
  assert.equal(await ok(admin('group', 'disable', 'local', 'devs')), 'Disabled group `devs` successfully.\n');
  assert.match(await ok(admin('group', 'info', 'local', 'devs')), /Status: disabled/);
  assert.equal(await ok(admin('group', 'list', 'local')), 'devs\n');
  const notEmpty = await admin('group', 'remove', 'local', 'devs');
  assert.equal(notEmpty.code, 1);
  assert.equal(await ok(admin('group', 'remove', 'local', 'devs', 'tom', 'jerry')), 'Removed members `tom, jerry` from group `devs` successfully.\n');
  assert.equal(await ok(admin('group', 'remove', 'local', 'devs')), 'Removed group `devs` successfully.\n');
  assert.equal(await ok(admin('group', 'list', 'local')), '');
});

test('svcacct add with chosen keys, ls, info, disable/enable, edit, rm; the account signs with its keys', async () => {
  assert.equal(await ok(admin('user', 'svcacct', 'add', 'local', 'tom', '--access-key', 'tom-sc1', '--secret-key', 'abc123abc', '--name', 'ci')),
    'Access Key: tom-sc1\nSecret Key: abc123abc\nExpiration: no-expiry\n');
  assert.equal((await iam.lookup('tom-sc1'))?.principal.parentUser, 'tom');
  assert.match(await ok(admin('user', 'svcacct', 'ls', 'local', 'tom')), /^tom-sc1\s+on\s+no-expiry\n$/);
  assert.match(await ok(admin('user', 'svcacct', 'info', 'local', 'tom-sc1')), /^AccessKey: tom-sc1\nParentUser: tom\nStatus: on\nName: ci\n/);
  assert.equal(await ok(admin('user', 'svcacct', 'disable', 'local', 'tom-sc1')), 'Disabled service account `tom-sc1` successfully.\n');
  assert.equal(await iam.lookup('tom-sc1'), undefined);
  assert.equal(await ok(admin('user', 'svcacct', 'enable', 'local', 'tom-sc1')), 'Enabled service account `tom-sc1` successfully.\n');
  assert.equal(await ok(admin('user', 'svcacct', 'edit', 'local', 'tom-sc1', '--secret-key', 'newsecret123')), 'Edited service account `tom-sc1` successfully.\n');
  // The service account's own keys work for admin calls on itself (self-service).
  await ok(alias('set', 'sa', url, 'tom-sc1', 'newsecret123'));
  assert.match(await ok(admin('user', 'svcacct', 'info', 'sa', 'tom-sc1')), /ParentUser: tom/);
  const denied = await admin('user', 'list', 'sa');
  assert.equal(denied.code, 1);
  assert.match(denied.err, /Access Denied/);
  assert.equal(await ok(admin('user', 'svcacct', 'rm', 'local', 'tom-sc1')), 'Removed service account `tom-sc1` successfully.\n');
});

test('config set/get/reset/help for notify_redis, applied at once', async () => {
  assert.equal(await ok(admin('config', 'set', 'local', 'notify_redis:1', 'address=127.0.0.1:6379', 'key=bucketevents', 'format=namespace', 'queue_dir=', 'queue_limit=0')),
    'Successfully applied new settings.\n');
  assert.equal(config.get('notify_redis', '1')[0].enabled, true);
  assert.equal(await ok(admin('config', 'get', 'local', 'notify_redis:1')), 'notify_redis:1 format=namespace address=127.0.0.1:6379 key=bucketevents password= queue_dir= queue_limit=0 \n');
  assert.match(await ok(admin('config', 'get', 'local')), /^notify_webhook {8}publish bucket notifications to webhook endpoints\nnotify_redis {10}publish/);
  assert.match(await ok(admin('config', 'set', 'local', 'notify_redis')), /^KEY:\nnotify_redis\[:name\] {2}publish bucket notifications to Redis datastores\n\nARGS:\n/);
  assert.match(await ok(admin('config', 'help', 'local', 'notify_redis', '--env')), /MINIO_NOTIFY_REDIS_ADDRESS/);
  const parsed = JSON.parse(await ok(admin('config', 'get', 'local', 'notify_redis:1', '--json')));
  assert.deepEqual(parsed.config[0].kvs.address, '127.0.0.1:6379');
  // A value with spaces survives through the CLI's re-quoting.
  await ok(admin('config', 'set', 'local', 'notify_webhook:w', 'endpoint=http://127.0.0.1:1/x', 'auth_token=Bearer a b'));
  assert.equal(config.get('notify_webhook', 'w')[0].kvs.auth_token, 'Bearer a b');
  assert.equal(await ok(admin('config', 'reset', 'local', 'notify_redis:1')), "'notify_redis:1' is successfully reset.\n");
  const gone = await admin('config', 'get', 'local', 'notify_redis:1');
  assert.equal(gone.code, 1);
  assert.match(gone.err, /doesn't exist/);
  const bad = await admin('config', 'set', 'local', 'notify_redis:2', 'key=x');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /'address' is not optional/);
});

test('info and target status; a wrong secret is refused by the signature check', async () => {
  assert.match(await ok(admin('info', 'local')), /^● {2}127\.0\.0\.1:\d+\n {3}Uptime: /);
  assert.equal(await ok(admin('target', 'status', 'local')), 'No notification targets are enabled.\n');
  await ok(alias('set', 'bad', url, 'admin', 'wrong-secret'));
  const r = await admin('user', 'list', 'bad');
  assert.equal(r.code, 1);
  assert.match(r.err, /signature/i);
});
