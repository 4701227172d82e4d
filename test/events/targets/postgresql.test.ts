import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createPostgresqlTarget, POSTGRESQL_OPTIONS, quoteLiteral, validatePostgresqlOptions } from '../../../src/events/targets/postgresql.js';
import { parsePgConnectionString } from '../../../src/events/targets/pg-conninfo.js';
import { closedPort, requireService } from '../../helpers/services.js';
import { lifecycle, rejectsWithin, uniqueName } from './fixtures.js';

const CONNINFO = 'host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable';

describe('postgresql target (real PostgreSQL)', () => {
  let db: pg.Client;
  const tables: string[] = [];

  before(async () => {
    await requireService('postgresql');
    db = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await db.connect();
  });
  after(async () => {
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t}`);
    await db.end();
  });

  it('namespace format: (key, value JSONB) upserted with ON CONFLICT, deleted on removal (libpq form)', async () => {
    const table = uniqueName('minio_images');
    tables.push(table);
    const target = createPostgresqlTarget('1', { table, connection_string: CONNINFO, format: 'namespace', queue_dir: '', queue_limit: '0' });
    await target.init();
    assert.equal(await target.isOnline(), true);
    const cols = await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table]);
    assert.deepEqual(cols.rows, [{ column_name: 'key', data_type: 'character varying' }, { column_name: 'value', data_type: 'jsonb' }]);

    const ev = lifecycle('images', 'photos/ümlaut photo.jpg');
    await target.send(ev.created);
    let r = await db.query(`SELECT key, value FROM ${table}`);
    assert.deepEqual(r.rows, [{ key: 'images/photos/ümlaut photo.jpg', value: { Records: [ev.created.record] } }]);
    await target.send(ev.accessed);
    r = await db.query(`SELECT key, value FROM ${table}`);
    assert.deepEqual(r.rows, [{ key: 'images/photos/ümlaut photo.jpg', value: { Records: [ev.accessed.record] } }]);
    await target.send(ev.removed);
    r = await db.query(`SELECT key FROM ${table}`);
    assert.equal(r.rowCount, 0);
    await target.close();
  });

  it('access format: (event_time timestamptz, event_data JSONB) appended (URL form)', async () => {
    const table = uniqueName('minio_access');
    tables.push(table);
    const target = createPostgresqlTarget('acc', { table, connection_string: 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable', format: 'access' });
    const ev = lifecycle('images', 'myphoto.jpg');
    for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
    const cols = await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table]);
    assert.deepEqual(cols.rows.map((c) => [c.column_name, c.data_type]), [['event_time', 'timestamp with time zone'], ['event_data', 'jsonb']]);
    const r = await db.query(`SELECT event_time, event_data FROM ${table} ORDER BY event_time`);
    assert.deepEqual(r.rows.map((row) => [(row.event_time as Date).toISOString(), row.event_data]),
      [ev.created, ev.accessed, ev.removed].map((e) => [e.eventTime, { Records: [e.record] }]));
    await target.close();
  });

  it('sendBatch lands exactly like one send() per event, in order, quotes and backslashes intact', async () => {
    const a = lifecycle('images', "it's a \\ back'slash.jpg");
    const b = lifecycle('images', 'b.jpg');
    const c = lifecycle('images', 'c.jpg');
    // a: created, accessed, removed (gone); b: accessed wins; c: removed then created (present).
    const batch = [a.created, b.created, a.accessed, c.removed, b.accessed, a.removed, c.created];
    const nsOne = uniqueName('ns_one'); const nsMany = uniqueName('ns_many');
    const accOne = uniqueName('acc_one'); const accMany = uniqueName('acc_many');
    tables.push(nsOne, nsMany, accOne, accMany);
    const targets = {
      nsOne: createPostgresqlTarget('n1', { table: nsOne, connection_string: CONNINFO }),
      nsMany: createPostgresqlTarget('n2', { table: nsMany, connection_string: CONNINFO }),
      accOne: createPostgresqlTarget('a1', { table: accOne, connection_string: CONNINFO, format: 'access' }),
      accMany: createPostgresqlTarget('a2', { table: accMany, connection_string: CONNINFO, format: 'access' }),
    };
    for (const e of batch) { await targets.nsOne.send(e); await targets.accOne.send(e); }
    await targets.nsMany.sendBatch!(batch);
    await targets.accMany.sendBatch!([a.created]); // a batch of one is fine too
    await targets.accMany.sendBatch!(batch.slice(1));

    const ns = async (t: string) => (await db.query(`SELECT key, value FROM ${t} ORDER BY key`)).rows;
    assert.deepEqual(await ns(nsMany), await ns(nsOne));
    assert.deepEqual(await ns(nsMany), [
      { key: 'images/b.jpg', value: { Records: [b.accessed.record] } },
      { key: 'images/c.jpg', value: { Records: [c.created.record] } },
    ]);
    // Insertion order is physical order (ctid) in a fresh append-only table.
    const acc = async (t: string) => (await db.query(`SELECT event_time, event_data FROM ${t} ORDER BY ctid`)).rows
      .map((row) => [(row.event_time as Date).toISOString(), row.event_data]);
    assert.deepEqual(await acc(accMany), await acc(accOne));
    assert.deepEqual(await acc(accMany), batch.map((e) => [e.eventTime, { Records: [e.record] }]));
    for (const t of Object.values(targets)) await t.close();
  });

  it('quotes literals exactly as pg.escapeLiteral does', () => {
    for (const text of ['', 'plain', "it's", "''", 'back\\slash', "both ' and \\", '\\\\', 'ünïcode \u2028 "dq"', "{\"a\":\"x\\\"y'z\"}"]) {
      assert.equal(quoteLiteral(text), pg.escapeLiteral(text), JSON.stringify(text));
    }
  });

  it('sendBatch is all-or-nothing: one bad event applies none of the batch', async () => {
    const table = uniqueName('atomic');
    tables.push(table);
    const target = createPostgresqlTarget('at', { table, connection_string: CONNINFO, format: 'access' });
    const ev = lifecycle('b', 'k');
    await assert.rejects(target.sendBatch!([ev.created, { ...ev.accessed, eventTime: 'not a time' }, ev.removed]));
    assert.equal((await db.query(`SELECT 1 FROM ${table}`)).rowCount, 0);
    await target.sendBatch!([ev.created, ev.removed]);
    assert.equal((await db.query(`SELECT 1 FROM ${table}`)).rowCount, 2);
    await target.close();
  });

  it('host/port/username/database keys, and an existing table keyed by key_name', async () => {
    const table = uniqueName('legacy');
    tables.push(table);
    await db.query(`CREATE TABLE ${table} (key_name VARCHAR PRIMARY KEY, value JSONB)`);
    const target = createPostgresqlTarget('h', { table, host: '127.0.0.1', port: '5432', username: 'postgres', database: 'test' });
    const ev = lifecycle('b', 'k.jpg');
    await target.send(ev.created);
    let r = await db.query(`SELECT key_name, value FROM ${table}`);
    assert.deepEqual(r.rows, [{ key_name: 'b/k.jpg', value: { Records: [ev.created.record] } }]);
    await target.send(ev.removed);
    r = await db.query(`SELECT key_name FROM ${table}`);
    assert.equal(r.rowCount, 0);
    await target.close();
  });

  it('rejects send() within the timeout against a closed port', async () => {
    const port = await closedPort();
    const down = createPostgresqlTarget('down', { table: 't', connection_string: `host=127.0.0.1 port=${port} user=postgres password=topsecret dbname=test` });
    const err = await rejectsWithin(down.send(lifecycle('b', 'k').created), 12000);
    assert.doesNotMatch(err.message, /topsecret/);
    assert.equal(await down.isOnline(), false);
    await down.close();
  });

  it('parses libpq strings and validates options naming the key', () => {
    assert.deepEqual(parsePgConnectionString("host=localhost port=5432 dbname=minio_events user=postgres password='pa ss\\'w' sslmode=disable"),
      { host: 'localhost', port: 5432, database: 'minio_events', user: 'postgres', password: "pa ss'w", sslmode: 'disable' });
    assert.deepEqual(parsePgConnectionString('host = h connect_timeout=3'), { host: 'h', connectTimeoutMs: 3000 });
    assert.throws(() => validatePostgresqlOptions('p', { table: 't', connection_string: 'host=h bogus=1' }), /notify_postgres:p: 'connection_string' has an unsupported keyword 'bogus'/);
    assert.throws(() => validatePostgresqlOptions('p', { table: 't', connection_string: 'host=h sslmode=maybe' }), /'connection_string' has a bad sslmode/);
    assert.throws(() => validatePostgresqlOptions('p', { table: 't', connection_string: 'just words' }), /'connection_string' must be 'keyword=value/);
    assert.throws(() => validatePostgresqlOptions('p', { table: 't' }), /'connection_string' is not optional/);
    assert.throws(() => validatePostgresqlOptions('p', { connection_string: CONNINFO, table: 'x"; drop' }), /'table' must be a plain table name/);
    assert.throws(() => validatePostgresqlOptions('p', { connection_string: CONNINFO, table: 't', format: 'log' }), /'format' must be one of/);
    assert.deepEqual(POSTGRESQL_OPTIONS.filter((o) => !o.extension).map((o) => `${o.key}=${o.default}`),
      ['format=namespace', 'connection_string=', 'table=', 'queue_dir=', 'queue_limit=0', 'max_open_connections=2', 'comment=']);
  });
});
