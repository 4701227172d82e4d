import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubsystemSpec, ConfigKeySpec } from '../../src/config/subsystem.js';
import {
  buildHelp, formatConfigLine, formatConfigTargets, formatHelp, parseConfigLine, parseConfigText, parseKvs,
  parseTargetNames, sanitizeValue, ConfigTextError,
} from '../../src/admin/config-text.js';
import { notifySubsystems } from '../../src/events/notify-subsystems.js';

// The JuiceFS-fork subsystems exactly as the spec's §3.6 table gives them.
const k = (key: string, def = '', optional = true, type = 'string'): ConfigKeySpec => ({ key, default: def, optional, type, help: `${key} help` });
const SPEC: SubsystemSpec[] = [
  { name: 'notify_webhook', description: 'publish bucket notifications to webhook endpoints', multipleTargets: true, keys: [k('enable', 'off', true, 'on|off'), k('endpoint', '', false, 'url'), k('auth_token'), k('queue_limit', '0', true, 'number'), k('queue_dir', '', true, 'path'), k('client_cert'), k('client_key')] },
  { name: 'notify_mysql', description: 'publish bucket notifications to MySQL databases', multipleTargets: true, keys: [k('enable', 'off', true, 'on|off'), k('format', 'namespace', false, 'namespace*|access'), k('dsn_string', '', false), k('table', '', false), k('queue_dir', '', true, 'path'), k('queue_limit', '0', true, 'number'), k('max_open_connections', '2', true, 'number')] },
  { name: 'notify_postgres', description: 'publish bucket notifications to Postgres databases', multipleTargets: true, keys: [k('enable', 'off', true, 'on|off'), k('format', 'namespace', false, 'namespace*|access'), k('connection_string', '', false), k('table', '', false), k('queue_dir', '', true, 'path'), k('queue_limit', '0', true, 'number'), k('max_open_connections', '2', true, 'number')] },
  { name: 'notify_redis', description: 'publish bucket notifications to Redis datastores', multipleTargets: true, keys: [k('enable', 'off', true, 'on|off'), k('format', 'namespace', false, 'namespace*|access'), k('address', '', false, 'address'), k('key', '', false), k('password'), k('queue_dir', '', true, 'path'), k('queue_limit', '0', true, 'number')] },
  { name: 'region', description: 'label the location of the server', multipleTargets: false, keys: [k('name')] },
];

const REDIS1 = { address: '127.0.0.1:6379/1', format: 'namespace', key: 'bucketevents', password: 'yoursecret', queue_dir: '', queue_limit: '0' };

test('spec §3.6: the line the server receives after mc config set notify_redis:1', () => {
  const line = 'notify_redis:1 address=127.0.0.1:6379/1 format=namespace key=bucketevents password=yoursecret queue_dir= queue_limit=0';
  assert.deepEqual(parseConfigLine(line, SPEC), { subsys: 'notify_redis', target: '1', kvs: REDIS1 });
});

test('seed 001: the quoted form (as typed, and as the JuiceFS docs show get output) parses the same', () => {
  const line = 'notify_redis:1 address="127.0.0.1:6379/1" format="namespace" key="bucketevents" password="yoursecret" queue_dir="" queue_limit="0"';
  assert.deepEqual(parseConfigLine(line, SPEC), { subsys: 'notify_redis', target: '1', kvs: REDIS1 });
  assert.deepEqual(parseConfigLine('notify_redis:1 queue_limit="1000"', SPEC), { subsys: 'notify_redis', target: '1', kvs: { queue_limit: '1000' } });
});

test('spec §3.6: get-config-kv output of two targets, byte for byte', () => {
  const text = formatConfigTargets([
    { subsys: 'notify_redis', target: '_', kvs: { enable: 'off', format: 'namespace', address: '', key: '', password: '', queue_dir: '', queue_limit: '0' } },
    { subsys: 'notify_redis', target: '1', kvs: { enable: 'on', format: 'namespace', address: '127.0.0.1:6379/1', key: 'bucketevents', password: 'yoursecret', queue_dir: '', queue_limit: '0' } },
  ]);
  assert.equal(text,
    'notify_redis enable=off format=namespace address= key= password= queue_dir= queue_limit=0 \n' +
    'notify_redis:1 format=namespace address=127.0.0.1:6379/1 key=bucketevents password=yoursecret queue_dir= queue_limit=0 \n');
  // And it parses back to the same settings (enable=on is implied by its absence).
  const back = parseConfigText(text, SPEC);
  assert.deepEqual(back[0], { subsys: 'notify_redis', kvs: { enable: 'off', format: 'namespace', address: '', key: '', password: '', queue_dir: '', queue_limit: '0' } });
  assert.deepEqual(back[1].kvs, REDIS1);
});

test('a single target has no trailing newline but keeps the trailing space; whitespace values are quoted', () => {
  assert.equal(formatConfigTargets([{ subsys: 'notify_redis', target: '_', kvs: { enable: 'off', format: 'namespace', address: '' } }]), 'notify_redis enable=off format=namespace address= ');
  const line = formatConfigLine('notify_webhook', 'a', { endpoint: 'http://h/x', auth_token: 'Bearer abc def' });
  assert.equal(line, 'notify_webhook:a endpoint=http://h/x auth_token="Bearer abc def" ');
  assert.deepEqual(parseConfigLine(line, SPEC)!.kvs, { endpoint: 'http://h/x', auth_token: 'Bearer abc def' });
  assert.deepEqual(parseConfigLine(line)!.kvs, { endpoint: 'http://h/x', auth_token: 'Bearer abc def' });
});

const SEED_LINES: Array<[string, { subsys: string; target?: string; kvs: Record<string, string> }]> = [
  ['notify_mysql:myinstance table="minio_images" dsn_string="root:123456@tcp(172.17.0.1:3306)/miniodb"',
    { subsys: 'notify_mysql', target: 'myinstance', kvs: { table: 'minio_images', dsn_string: 'root:123456@tcp(172.17.0.1:3306)/miniodb' } }],
  ['notify_mysql:myinstance table="minio_images" dsn_string="root:xxxx@tcp(127.0.0.1:3306)/miniodb"',
    { subsys: 'notify_mysql', target: 'myinstance', kvs: { table: 'minio_images', dsn_string: 'root:xxxx@tcp(127.0.0.1:3306)/miniodb' } }],
  ['notify_webhook:1 queue_limit="0"  endpoint="http://localhost:3000" queue_dir=""',
    { subsys: 'notify_webhook', target: '1', kvs: { queue_limit: '0', endpoint: 'http://localhost:3000', queue_dir: '' } }],
  ['notify_redis:2 address="" password="abc123abc" key="bucketevents"',
    { subsys: 'notify_redis', target: '2', kvs: { address: '', password: 'abc123abc', key: 'bucketevents' } }],
  ['notify_redis enable=off format=namespace address= key= password= queue_dir= queue_limit=0',
    { subsys: 'notify_redis', kvs: { enable: 'off', format: 'namespace', address: '', key: '', password: '', queue_dir: '', queue_limit: '0' } }],
];

test('every config line of the seeds parses, and printing then parsing gives the same settings', () => {
  for (const [line, want] of SEED_LINES) {
    const got = parseConfigLine(line, SPEC)!;
    assert.deepEqual(got, want, line);
    const printed = formatConfigLine(got.subsys, got.target, got.kvs);
    assert.deepEqual(parseConfigLine(printed, SPEC), want, printed);
    assert.deepEqual(parseConfigLine(printed), want, `token mode: ${printed}`);
  }
});

test('seed 001 mysql lines with the older host/port/... keys parse with the server\'s real notify specs', async () => {
  const real = (await notifySubsystems()).filter((s) => ['notify_mysql', 'notify_redis', 'notify_webhook', 'notify_postgres'].includes(s.name));
  const line = 'notify_mysql:myinstance enable=off format=namespace host= port= username= password= database= dsn_string= table= queue_dir= queue_limit=0';
  assert.deepEqual(parseConfigLine(line, real), { subsys: 'notify_mysql', target: 'myinstance', kvs: { enable: 'off', format: 'namespace', host: '', port: '', username: '', password: '', database: '', dsn_string: '', table: '', queue_dir: '', queue_limit: '0' } });
  const mysql = real.find((s) => s.name === 'notify_mysql')!;
  assert.deepEqual(parseKvs('format=namespace dsn_string= table= queue_dir= queue_limit=0 max_open_connections=2', mysql),
    { format: 'namespace', dsn_string: '', table: '', queue_dir: '', queue_limit: '0', max_open_connections: '2' });
  for (const [l, want] of SEED_LINES) assert.deepEqual(parseConfigLine(l, real), want, l);
});

test('values are cut at known keys only: spaces and unknown k=v inside unquoted values survive', () => {
  // mc joins its arguments with spaces, so a quoted conninfo arrives unquoted.
  const got = parseConfigLine('notify_postgres:1 connection_string=host=localhost user=postgres dbname=test sslmode=disable table=events format=access', SPEC)!;
  assert.deepEqual(got.kvs, { connection_string: 'host=localhost user=postgres dbname=test sslmode=disable', table: 'events', format: 'access' });
  // A known key name inside a quoted value is not a cut.
  assert.deepEqual(parseConfigLine('notify_webhook:1 endpoint="http://h/?a=1 queue_dir=x" queue_dir=/q', SPEC)!.kvs, { endpoint: 'http://h/?a=1 queue_dir=x', queue_dir: '/q' });
  // A key glued to other text is not a key (the spec's auth_token= pitfall).
  assert.deepEqual(parseConfigLine('notify_webhook:1 endpoint=http://h/?auth_token=x', SPEC)!.kvs, { endpoint: 'http://h/?auth_token=x' });
});

test('sanitizing strips one leading and one trailing quote independently', () => {
  assert.equal(sanitizeValue('"abc'), 'abc');
  assert.equal(sanitizeValue('  "a b"  '), 'a b');
  assert.equal(sanitizeValue(`"'x'"`), 'x');
});

test('bad input gets a clear error', () => {
  assert.throws(() => parseConfigLine('notify_foo:1 a=b', SPEC), (e: Error) => e instanceof ConfigTextError && /unknown sub-system notify_foo/.test(e.message));
  assert.throws(() => parseConfigLine('region:1 name=x', SPEC), /does not support multiple targets/);
  assert.throws(() => parseConfigLine('notify_redis:1 adress=x key=y', SPEC), /invalid key 'adress'/);
  assert.throws(() => parseConfigLine('notify_redis:1 address="a" bogus=1', SPEC), /invalid key 'bogus'/);
  assert.throws(() => parseConfigLine('address=x', SPEC), /not a sub-system name/);
});

test('comments, blank lines and several lines; del-config-kv target names', () => {
  const text = '# comment\n\nnotify_redis:1 address=a:1 key=k\r\nnotify_webhook endpoint=http://x\n';
  assert.deepEqual(parseConfigText(text, SPEC), [
    { subsys: 'notify_redis', target: '1', kvs: { address: 'a:1', key: 'k' } },
    { subsys: 'notify_webhook', kvs: { endpoint: 'http://x' } },
  ]);
  assert.deepEqual(parseTargetNames('notify_redis:1\nnotify_webhook\n'), [{ subsys: 'notify_redis', target: '1' }, { subsys: 'notify_webhook' }]);
});

test('help: subsystem list prints as in seed 001 (`mc admin config get myjfs | grep notify`)', () => {
  const notify = SPEC.filter((s) => s.name.startsWith('notify_'));
  const help = buildHelp(notify, '', '', false);
  assert.deepEqual(Object.keys(help), ['subSys', 'description', 'multipleTargets', 'keysHelp']);
  assert.deepEqual(Object.keys(help.keysHelp[0]), ['key', 'description', 'optional', 'type', 'multipleTargets']);
  assert.equal(formatHelp(help),
    'notify_webhook        publish bucket notifications to webhook endpoints\n' +
    'notify_mysql          publish bucket notifications to MySQL databases\n' +
    'notify_postgres       publish bucket notifications to Postgres databases\n' +
    'notify_redis          publish bucket notifications to Redis datastores\n');
});

test('help: one subsystem prints KEY/ARGS columns like mc, required keys starred; env names', () => {
  const help = buildHelp(SPEC, 'notify_redis', '', false);
  assert.deepEqual(help.keysHelp.map((h) => h.key), ['format', 'address', 'key', 'password', 'queue_dir', 'queue_limit', 'comment']);
  const lines = formatHelp(help).split('\n');
  assert.equal(lines[0], 'KEY:');
  assert.equal(lines[1], 'notify_redis[:name]  publish bucket notifications to Redis datastores');
  assert.equal(lines[3], 'ARGS:');
  assert.equal(lines[4], 'format*      (namespace*|access)  format help');
  assert.equal(lines[5], 'address*     (address)            address help');
  assert.equal(lines[7], 'password     (string)             password help');
  const env = buildHelp(SPEC, 'notify_redis', '', true);
  assert.equal(env.keysHelp[0].key, 'MINIO_NOTIFY_REDIS_ENABLE');
  assert.ok(env.keysHelp.some((h) => h.key === 'MINIO_NOTIFY_REDIS_ADDRESS'));
  assert.deepEqual(buildHelp(SPEC, 'notify_redis', 'address', false).keysHelp.map((h) => h.key), ['address']);
  assert.throws(() => buildHelp(SPEC, 'nope', '', false), /unknown sub-system/);
});
