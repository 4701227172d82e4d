/**
 * notify_mysql: MinIO's MySQL/MariaDB target.
 *
 * namespace format: one row per object, (key_name = 'bucket/object', value =
 *   '{"Records":[record]}'): INSERT ... ON DUPLICATE KEY UPDATE on create/access,
 *   DELETE on removal.
 * access format: (event_time DATETIME, event_data JSON '{"Records":[record]}') rows,
 *   append only; event_time is the event time in UTC, whole seconds (DATETIME).
 *
 * The table is created when missing. MinIO's old namespace DDL
 * (key_name VARCHAR(2048) PRIMARY KEY) fails on utf8mb4 servers ("max key length is
 * 3072 bytes"), so like current MinIO we index a stored SHA-256 of key_name instead
 * (a UNIQUE key, since MariaDB refuses a primary key on a generated column). An existing
 * table made by older MinIO (key_name as the key, no key_hash) is used as it is.
 *
 * Connection: dsn_string in Go-MySQL form, or host/port/username/password/database.
 */
import mysql from 'mysql2/promise';
import { isRemoval, type EventTarget, type QueuedEvent } from '../target.js';
import { LazyConnection } from './connection.js';
import { DEFAULT_TARGET_TIMEOUT_MS, ONLINE_CHECK_TIMEOUT_MS, withTimeout } from './deadline.js';
import { parseMysqlDsn, type MysqlEndpoint } from './mysql-dsn.js';
import { COMMENT_OPTION, OptionReader, parseQueueOptions, QUEUE_OPTIONS, type TargetOptionSpec } from './options.js';
import { recordsDocument } from './payload.js';
import { runsOf } from './runs.js';

const SUBSYSTEM = 'notify_mysql';

export const MYSQL_OPTIONS: TargetOptionSpec[] = [
  { key: 'format', default: 'namespace', type: 'namespace*|access', optional: false, help: "'namespace' reflects current bucket/object list and 'access' reflects a journal of object operations, defaults to 'namespace'" },
  { key: 'dsn_string', default: '', type: 'string', optional: true, sensitive: true, help: 'MySQL data-source-name connection string e.g. "<user>:<password>@tcp(<host>:<port>)/<database>" (or set host, port, username, password, database)' },
  { key: 'table', default: '', type: 'string', optional: false, help: 'DB table name to store/update events, table is auto-created' },
  ...QUEUE_OPTIONS,
  { key: 'max_open_connections', default: '2', type: 'number', optional: true, help: "maximum number of open connections to the database, defaults to '2'" },
  { key: 'host', default: '', type: 'string', optional: true, extension: true, help: 'MySQL server host (when dsn_string is not set)' },
  { key: 'port', default: '', type: 'string', optional: true, extension: true, help: "MySQL server port, defaults to '3306'" },
  { key: 'username', default: '', type: 'string', optional: true, extension: true, help: 'MySQL user name' },
  { key: 'password', default: '', type: 'string', optional: true, sensitive: true, extension: true, help: 'MySQL password' },
  { key: 'database', default: '', type: 'string', optional: true, extension: true, help: 'MySQL database name' },
  COMMENT_OPTION,
];

export interface MysqlSettings {
  format: 'namespace' | 'access';
  endpoint: MysqlEndpoint;
  /** [schema?, table] */
  table: string[];
  maxOpenConnections: number;
}

/** Table names go into SQL text, so only plain identifiers (optionally db.table). */
export const SQL_TABLE_NAME = /^[A-Za-z0-9_$]{1,64}(\.[A-Za-z0-9_$]{1,64})?$/;

export function validateMysqlOptions(id: string, options: Record<string, string>): MysqlSettings {
  const r = new OptionReader(SUBSYSTEM, id, MYSQL_OPTIONS, options);
  parseQueueOptions(SUBSYSTEM, id, options);
  const format = r.oneOf('format', ['namespace', 'access'] as const);
  const table = r.required('table');
  if (!SQL_TABLE_NAME.test(table)) throw r.error('table', `must be a plain table name (letters, digits, _ and $, optionally db.table), got '${table}'`);
  const maxOpen = r.int('max_open_connections', 0, 1000);

  let endpoint: MysqlEndpoint;
  const dsn = r.string('dsn_string');
  if (dsn !== '') {
    const parsed = parseMysqlDsn(dsn);
    if (typeof parsed === 'string') throw r.error('dsn_string', parsed);
    endpoint = parsed;
  } else {
    if (r.string('host') === '') throw r.error('dsn_string', "is not optional for 'notify_mysql' sub-system unless host and database are set");
    endpoint = {
      host: r.string('host'),
      port: r.string('port') === '' ? 3306 : r.int('port', 1, 65535),
      user: r.string('username'),
      password: r.string('password'),
      database: r.required('database'),
    };
  }
  return { format, endpoint, table: table.split('.'), maxOpenConnections: maxOpen === 0 ? 10 : maxOpen };
}

interface MysqlState {
  pool: mysql.Pool;
  removeByHash: boolean;
  upsert: string;
  remove: string;
  insert: string;
}

class MysqlTarget implements EventTarget {
  readonly type = 'mysql' as const;
  private readonly conn: LazyConnection<MysqlState>;
  private readonly quotedTable: string;

  constructor(readonly id: string, private readonly settings: MysqlSettings) {
    this.quotedTable = settings.table.map((p) => '`' + p + '`').join('.');
    this.conn = new LazyConnection(`mysql target ${id}`, DEFAULT_TARGET_TIMEOUT_MS, () => this.open(), (s) => s.pool.end());
  }

  private async open(): Promise<MysqlState> {
    const e = this.settings.endpoint;
    const pool = mysql.createPool({
      host: e.host, port: e.port, socketPath: e.socketPath, user: e.user, password: e.password, database: e.database,
      connectionLimit: this.settings.maxOpenConnections, connectTimeout: e.connectTimeoutMs ?? DEFAULT_TARGET_TIMEOUT_MS,
      waitForConnections: true, enableKeepAlive: true, charset: 'utf8mb4',
    });
    try {
      const removeByHash = await this.prepareTable(pool);
      const t = this.quotedTable;
      return {
        pool,
        removeByHash,
        upsert: `INSERT INTO ${t} (key_name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value=VALUES(value)`,
        remove: removeByHash ? `DELETE FROM ${t} WHERE key_hash = SHA2(?, 256)` : `DELETE FROM ${t} WHERE key_name = ?`,
        insert: `INSERT INTO ${t} (event_time, event_data) VALUES (?, ?)`,
      };
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(`mysql target ${this.id}: ${(err as Error).message}`);
    }
  }

  /** Creates the table when missing, checks its columns; true when it has key_hash. */
  private async prepareTable(pool: mysql.Pool): Promise<boolean> {
    const [schema, name] = this.settings.table.length === 2 ? this.settings.table : [null, this.settings.table[0]];
    const columnsSql = 'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?';
    let [rows] = await pool.query<mysql.RowDataPacket[]>(columnsSql, [schema, name]);
    if (rows.length === 0) {
      await pool.query(this.settings.format === 'namespace'
        ? `CREATE TABLE IF NOT EXISTS ${this.quotedTable} (key_name VARCHAR(2048) NOT NULL, key_hash CHAR(64) AS (SHA2(key_name, 256)) STORED, value JSON, UNIQUE KEY key_hash_unique (key_hash)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`
        : `CREATE TABLE IF NOT EXISTS ${this.quotedTable} (event_time DATETIME NOT NULL, event_data JSON) CHARACTER SET utf8mb4`);
      [rows] = await pool.query<mysql.RowDataPacket[]>(columnsSql, [schema, name]);
    }
    const have = new Set(rows.map((r) => String(r.c).toLowerCase()));
    const need = this.settings.format === 'namespace' ? ['key_name', 'value'] : ['event_time', 'event_data'];
    const missing = need.filter((c) => !have.has(c));
    if (missing.length) {
      throw new Error(`table ${this.settings.table.join('.')} exists but lacks column(s) ${missing.join(', ')} needed by format ${this.settings.format}`);
    }
    return have.has('key_hash');
  }

  async init(): Promise<void> {
    await this.conn.get();
  }

  async send(event: QueuedEvent): Promise<void> {
    const state = await this.conn.get();
    let work: Promise<unknown>;
    if (this.settings.format === 'access') {
      work = state.pool.query(state.insert, [mysqlDatetime(event.eventTime), recordsDocument(event)]);
    } else if (isRemoval(event.eventName)) {
      work = state.pool.query(state.remove, [event.key]);
    } else {
      work = state.pool.query(state.upsert, [event.key, recordsDocument(event)]);
    }
    try {
      await withTimeout(work, DEFAULT_TARGET_TIMEOUT_MS, `mysql target ${this.id}: send`);
    } catch (err) {
      // Start afresh next time: re-checks the table too (it may have been dropped).
      this.conn.drop(state);
      throw err;
    }
  }

  /**
   * The batch as few statements as its order allows: consecutive events of one kind
   * (upserts, deletes, access rows) become one multi-row statement, applied row by row in
   * event order (a later upsert of the same key in one statement updates the earlier
   * one). One statement is atomic by itself; several run in one transaction.
   */
  async sendBatch(events: QueuedEvent[]): Promise<void> {
    const state = await this.conn.get();
    const statements = this.batchStatements(state, events);
    const work = statements.length === 1
      ? state.pool.query(statements[0].sql, statements[0].values).then(() => undefined)
      : this.inTransaction(state.pool, statements);
    try {
      await withTimeout(work, DEFAULT_TARGET_TIMEOUT_MS, `mysql target ${this.id}: send batch`);
    } catch (err) {
      this.conn.drop(state);
      throw err;
    }
  }

  private batchStatements(state: MysqlState, events: QueuedEvent[]): { sql: string; values: string[] }[] {
    const t = this.quotedTable;
    const access = this.settings.format === 'access';
    return runsOf(events, (e) => !access && isRemoval(e.eventName)).map((run) => {
      const n = run.length;
      if (access) {
        return { sql: `INSERT INTO ${t} (event_time, event_data) VALUES ${Array(n).fill('(?, ?)').join(', ')}`, values: run.flatMap((e) => [mysqlDatetime(e.eventTime), recordsDocument(e)]) };
      }
      if (isRemoval(run[0].eventName)) {
        const sql = state.removeByHash
          ? `DELETE FROM ${t} WHERE key_hash IN (${Array(n).fill('SHA2(?, 256)').join(', ')})`
          : `DELETE FROM ${t} WHERE key_name IN (${Array(n).fill('?').join(', ')})`;
        return { sql, values: run.map((e) => e.key) };
      }
      return { sql: `INSERT INTO ${t} (key_name, value) VALUES ${Array(n).fill('(?, ?)').join(', ')} ON DUPLICATE KEY UPDATE value=VALUES(value)`, values: run.flatMap((e) => [e.key, recordsDocument(e)]) };
    });
  }

  private async inTransaction(pool: mysql.Pool, statements: { sql: string; values: string[] }[]): Promise<void> {
    const c = await pool.getConnection();
    try {
      await c.beginTransaction();
      for (const st of statements) await c.query(st.sql, st.values);
      await c.commit();
      c.release();
    } catch (err) {
      // The caller drops the whole pool; no rollback round trip on a link that may be dead.
      c.destroy();
      throw err;
    }
  }

  async isOnline(): Promise<boolean> {
    try {
      const state = await withTimeout(this.conn.get(), ONLINE_CHECK_TIMEOUT_MS, 'mysql online check');
      await withTimeout(state.pool.query('SELECT 1'), ONLINE_CHECK_TIMEOUT_MS, 'mysql ping');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

/** RFC 3339 -> 'YYYY-MM-DD HH:MM:SS' in UTC (DATETIME keeps whole seconds). */
export function mysqlDatetime(eventTime: string): string {
  const d = new Date(eventTime);
  if (Number.isNaN(d.getTime())) throw new Error(`bad event time '${eventTime}'`);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

export function createMysqlTarget(id: string, options: Record<string, string>): EventTarget {
  return new MysqlTarget(id, validateMysqlOptions(id, options));
}
