import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { createMysqlTarget, MYSQL_OPTIONS, validateMysqlOptions } from '../../../src/events/targets/mysql.js';
import { parseMysqlDsn } from '../../../src/events/targets/mysql-dsn.js';
import { closedPort, requireService } from '../../helpers/services.js';
import { lifecycle, rejectsWithin, uniqueName } from './fixtures.js';

const DSN = 'root:@tcp(127.0.0.1:3306)/test';

/** MariaDB returns JSON columns as text, MySQL as objects: compare as values. */
function json(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

describe('mysql target (real MariaDB)', () => {
  let db: mysql.Connection;
  const tables: string[] = [];

  before(async () => {
    await requireService('mariadb');
    db = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
  });
  after(async () => {
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS \`${t}\``);
    await db.end();
  });

  it('namespace format: one row per object, upserted, deleted on removal (dsn_string)', async () => {
    const table = uniqueName('minio_images');
    tables.push(table);
    const target = createMysqlTarget('myinstance', { table, dsn_string: DSN, format: 'namespace', queue_dir: '', queue_limit: '0' });
    await target.init();
    assert.equal(await target.isOnline(), true);
    const ev = lifecycle('images', 'photos/ümlaut photo.jpg');

    await target.send(ev.created);
    let [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name, value FROM \`${table}\``);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].key_name, 'images/photos/ümlaut photo.jpg');
    assert.deepEqual(json(rows[0].value), { Records: [ev.created.record] });

    await target.send(ev.accessed);
    [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name, value FROM \`${table}\``);
    assert.equal(rows.length, 1, 'upsert keeps one row per object');
    assert.deepEqual(json(rows[0].value), { Records: [ev.accessed.record] });

    await target.send(ev.removed);
    [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name FROM \`${table}\``);
    assert.equal(rows.length, 0);

    // A long key (over 768 chars, what a plain utf8mb4 VARCHAR primary key could not hold).
    const long = lifecycle('images', 'd/'.repeat(500) + 'x.jpg');
    await target.send(long.created);
    [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name FROM \`${table}\``);
    assert.deepEqual(rows.map((r) => r.key_name), [long.created.key]);
    await target.close();
  });

  it('access format: (event_time, event_data) rows appended for every event (host/port/...)', async () => {
    const table = uniqueName('minio_access');
    tables.push(table);
    const target = createMysqlTarget('acc', { table, format: 'access', host: '127.0.0.1', port: '3306', username: 'root', password: '', database: 'test' });
    const ev = lifecycle('images', 'myphoto.jpg');
    for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
    const [cols] = await db.query<mysql.RowDataPacket[]>(`SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='test' AND TABLE_NAME=? ORDER BY ORDINAL_POSITION`, [table]);
    assert.deepEqual(cols.map((c) => c.COLUMN_NAME), ['event_time', 'event_data']);
    assert.equal(cols[0].DATA_TYPE, 'datetime');
    const [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT DATE_FORMAT(event_time, '%Y-%m-%dT%H:%i:%s') AS t, event_data FROM \`${table}\``);
    assert.deepEqual(rows.map((r) => [r.t, json(r.event_data)]),
      [ev.created, ev.accessed, ev.removed].map((e) => [e.eventTime.slice(0, 19), { Records: [e.record] }]));
    await target.close();
  });

  it('uses an existing MinIO-style namespace table (key_name primary key, no key_hash)', async () => {
    const table = uniqueName('legacy');
    tables.push(table);
    await db.query(`CREATE TABLE \`${table}\` (key_name VARCHAR(700), value JSON, PRIMARY KEY (key_name))`);
    const target = createMysqlTarget('legacy', { table, dsn_string: DSN });
    const ev = lifecycle('b', 'k.jpg');
    await target.send(ev.created);
    await target.send(ev.accessed);
    let [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name, value FROM \`${table}\``);
    assert.deepEqual(rows.map((r) => [r.key_name, json(r.value)]), [['b/k.jpg', { Records: [ev.accessed.record] }]]);
    await target.send(ev.removed);
    [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name FROM \`${table}\``);
    assert.equal(rows.length, 0);
    await target.close();
  });

  it('sendBatch lands exactly like one send() per event, in order (key_hash, legacy and access tables)', async () => {
    const a = lifecycle('images', "it's a \\ back'slash.jpg");
    const b = lifecycle('images', 'b.jpg');
    const c = lifecycle('images', 'c.jpg');
    // a: created, accessed, removed (gone); b: accessed wins; c: removed then created (present).
    const batch = [a.created, b.created, a.accessed, c.removed, b.accessed, a.removed, c.created];
    const upserts = [a.created, b.created, a.accessed, b.accessed]; // one multi-row statement, repeated keys
    const names = { hash1: uniqueName('h1'), hashN: uniqueName('hn'), leg1: uniqueName('l1'), legN: uniqueName('ln'), acc1: uniqueName('a1'), accN: uniqueName('an') };
    tables.push(...Object.values(names));
    for (const t of [names.leg1, names.legN]) await db.query(`CREATE TABLE \`${t}\` (key_name VARCHAR(700), value JSON, PRIMARY KEY (key_name))`);
    const make = (table: string, format = 'namespace') => createMysqlTarget(table, { table, dsn_string: DSN, format });
    const t = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, make(v, k.startsWith('acc') ? 'access' : 'namespace')]));
    for (const [single, batched] of [['hash1', 'hashN'], ['leg1', 'legN'], ['acc1', 'accN']]) {
      for (const e of [...upserts, ...batch]) await t[single].send(e);
      await t[batched].sendBatch!(upserts);
      await t[batched].sendBatch!(batch);
    }
    const ns = async (table: string) => (await db.query<mysql.RowDataPacket[]>(`SELECT key_name, value FROM \`${table}\` ORDER BY key_name`))[0]
      .map((r) => [r.key_name, json(r.value)]);
    for (const [single, batched] of [[names.hash1, names.hashN], [names.leg1, names.legN]]) {
      assert.deepEqual(await ns(batched), await ns(single));
      assert.deepEqual(await ns(batched), [['images/b.jpg', { Records: [b.accessed.record] }], ['images/c.jpg', { Records: [c.created.record] }]]);
    }
    const acc = async (table: string) => (await db.query<mysql.RowDataPacket[]>(`SELECT DATE_FORMAT(event_time, '%Y-%m-%dT%H:%i:%s') AS t, event_data FROM \`${table}\``))[0]
      .map((r) => [r.t, json(r.event_data)]);
    assert.deepEqual(await acc(names.accN), await acc(names.acc1));
    assert.deepEqual(await acc(names.accN), [...upserts, ...batch].map((e) => [e.eventTime.slice(0, 19), { Records: [e.record] }]));
    for (const target of Object.values(t)) await target.close();
  });

  it('sendBatch is all-or-nothing across statements: a failing one rolls back the earlier ones', async () => {
    const table = uniqueName('atomic');
    tables.push(table);
    const target = createMysqlTarget('at', { table, dsn_string: DSN });
    await target.init();
    const ev = lifecycle('b', 'k');
    // upsert, delete (of another key), then an upsert of a key too long for key_name
    // (strict mode): three statements, the last fails, and b/k must not stay behind.
    const other = lifecycle('b', 'other').removed;
    await assert.rejects(target.sendBatch!([ev.created, other, { ...ev.accessed, key: 'b/' + 'x'.repeat(3000) }]), /too long/i);
    const [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name FROM \`${table}\``);
    assert.equal(rows.length, 0);
    await target.sendBatch!([ev.created, ev.removed, ev.accessed]);
    const [after] = await db.query<mysql.RowDataPacket[]>(`SELECT key_name, value FROM \`${table}\``);
    assert.deepEqual(after.map((r) => [r.key_name, json(r.value)]), [['b/k', { Records: [ev.accessed.record] }]]);
    await target.close();
  });

  it('refuses a table whose columns do not fit the format', async () => {
    const table = uniqueName('wrongshape');
    tables.push(table);
    await db.query(`CREATE TABLE \`${table}\` (event_time DATETIME, event_data JSON)`);
    const target = createMysqlTarget('w', { table, dsn_string: DSN, format: 'namespace' });
    await assert.rejects(target.init(), /lacks column\(s\) key_name, value needed by format namespace/);
    await target.close();
  });

  it('rejects send() within the timeout against a closed port; bad password is not echoed', async () => {
    const port = await closedPort();
    const down = createMysqlTarget('down', { table: 't', dsn_string: `root:topsecret@tcp(127.0.0.1:${port})/test` });
    const err = await rejectsWithin(down.send(lifecycle('b', 'k').created), 12000);
    assert.doesNotMatch(err.message, /topsecret/);
    assert.equal(await down.isOnline(), false);
    await down.close();
  });

  it('parses Go-MySQL DSNs and validates options naming the key', () => {
    assert.deepEqual(parseMysqlDsn('root:123456@tcp(172.17.0.1:3306)/miniodb'),
      { user: 'root', password: '123456', host: '172.17.0.1', port: 3306, database: 'miniodb' });
    assert.deepEqual(parseMysqlDsn('u:p@ss:w@rd@tcp([::1]:3307)/db?timeout=5s&parseTime=true'),
      { user: 'u', password: 'p@ss:w@rd', host: '::1', port: 3307, database: 'db', connectTimeoutMs: 5000 });
    assert.deepEqual(parseMysqlDsn('u@unix(/run/mysqld/mysqld.sock)/db'),
      { user: 'u', password: '', socketPath: '/run/mysqld/mysqld.sock', database: 'db' });
    assert.deepEqual(parseMysqlDsn('/db'), { user: '', password: '', host: '127.0.0.1', port: 3306, database: 'db' });
    assert.throws(() => validateMysqlOptions('x', { table: 't', dsn_string: 'root@localhost' }), /notify_mysql:x: 'dsn_string' must look like/);
    assert.throws(() => validateMysqlOptions('x', { table: 't' }), /'dsn_string' is not optional .* unless host and database/);
    assert.throws(() => validateMysqlOptions('x', { dsn_string: DSN }), /'table' is not optional/);
    assert.throws(() => validateMysqlOptions('x', { dsn_string: DSN, table: 'a; DROP TABLE b' }), /'table' must be a plain table name/);
    assert.throws(() => validateMysqlOptions('x', { dsn_string: DSN, table: 't', max_open_connections: 'many' }), /'max_open_connections' must be an integer/);
    assert.deepEqual(MYSQL_OPTIONS.filter((o) => !o.extension).map((o) => `${o.key}=${o.default}`),
      ['format=namespace', 'dsn_string=', 'table=', 'queue_dir=', 'queue_limit=0', 'max_open_connections=2', 'comment=']);
  });
});
