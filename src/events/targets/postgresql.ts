/**
 * notify_postgres (ARN type "postgresql"): MinIO's PostgreSQL target.
 *
 * namespace format: table (key VARCHAR PRIMARY KEY, value JSONB), MinIO's own column
 *   names; INSERT ... ON CONFLICT (key) DO UPDATE on create/access, DELETE on removal.
 *   An existing table whose key column is called key_name (like the MySQL target's)
 *   is used as it is.
 * access format: (event_time TIMESTAMP WITH TIME ZONE, event_data JSONB) rows, append only.
 * value/event_data is '{"Records":[record]}' in both formats.
 *
 * Connection: connection_string (libpq keyword form or postgres:// URL) or
 * host/port/username/password/database. Unlike lib/pq (MinIO), a missing sslmode means
 * no TLS (node-postgres' default); "prefer" and "allow" also connect without TLS.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { isRemoval, type EventTarget, type QueuedEvent } from '../target.js';
import { LazyConnection } from './connection.js';
import { DEFAULT_TARGET_TIMEOUT_MS, ONLINE_CHECK_TIMEOUT_MS, withTimeout } from './deadline.js';
import { COMMENT_OPTION, OptionReader, parseQueueOptions, QUEUE_OPTIONS, type TargetOptionSpec } from './options.js';
import { recordsDocument } from './payload.js';
import { parsePgConnectionString, type PgEndpoint } from './pg-conninfo.js';
import { runsOf } from './runs.js';

const SUBSYSTEM = 'notify_postgres';

export const POSTGRESQL_OPTIONS: TargetOptionSpec[] = [
  { key: 'format', default: 'namespace', type: 'namespace*|access', optional: false, help: "'namespace' reflects current bucket/object list and 'access' reflects a journal of object operations, defaults to 'namespace'" },
  { key: 'connection_string', default: '', type: 'string', optional: true, sensitive: true, help: 'Postgres server connection-string e.g. "host=localhost port=5432 dbname=minio_events user=postgres password=password sslmode=disable" (or a postgres:// URL, or set host, port, username, password, database)' },
  { key: 'table', default: '', type: 'string', optional: false, help: 'DB table name to store/update events, table is auto-created' },
  ...QUEUE_OPTIONS,
  { key: 'max_open_connections', default: '2', type: 'number', optional: true, help: "maximum number of open connections to the database, defaults to '2'" },
  { key: 'host', default: '', type: 'string', optional: true, extension: true, help: 'Postgres server host (when connection_string is not set)' },
  { key: 'port', default: '', type: 'string', optional: true, extension: true, help: "Postgres server port, defaults to '5432'" },
  { key: 'username', default: '', type: 'string', optional: true, extension: true, help: 'Postgres user name' },
  { key: 'password', default: '', type: 'string', optional: true, sensitive: true, extension: true, help: 'Postgres password' },
  { key: 'database', default: '', type: 'string', optional: true, extension: true, help: 'Postgres database name' },
  COMMENT_OPTION,
];

export interface PostgresqlSettings {
  format: 'namespace' | 'access';
  endpoint: PgEndpoint;
  table: string;
  maxOpenConnections: number;
}

/** Unquoted SQL identifiers only (optionally schema.table): the name goes into SQL text. */
const PG_TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$/;

export function validatePostgresqlOptions(id: string, options: Record<string, string>): PostgresqlSettings {
  const r = new OptionReader(SUBSYSTEM, id, POSTGRESQL_OPTIONS, options);
  parseQueueOptions(SUBSYSTEM, id, options);
  const format = r.oneOf('format', ['namespace', 'access'] as const);
  const table = r.required('table');
  if (!PG_TABLE_NAME.test(table)) throw r.error('table', `must be a plain table name (letters, digits, _ and $, optionally schema.table), got '${table}'`);
  const maxOpen = r.int('max_open_connections', 0, 1000);
  let endpoint: PgEndpoint;
  const cs = r.string('connection_string');
  if (cs !== '') {
    const parsed = parsePgConnectionString(cs);
    if (typeof parsed === 'string') throw r.error('connection_string', parsed);
    endpoint = parsed;
  } else {
    if (r.string('host') === '') throw r.error('connection_string', `is not optional for '${SUBSYSTEM}' sub-system unless host and database are set`);
    endpoint = {
      host: r.string('host'),
      port: r.string('port') === '' ? 5432 : r.int('port', 1, 65535),
      user: r.string('username') || undefined,
      password: r.string('password') || undefined,
      database: r.required('database'),
      sslmode: 'disable',
    };
  }
  return { format, endpoint, table, maxOpenConnections: maxOpen === 0 ? 10 : maxOpen };
}

function poolConfig(e: PgEndpoint, max: number): pg.PoolConfig {
  const common: pg.PoolConfig = {
    max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: e.connectTimeoutMs ?? DEFAULT_TARGET_TIMEOUT_MS,
    query_timeout: DEFAULT_TARGET_TIMEOUT_MS, application_name: e.applicationName ?? 's3gate',
  };
  if (e.url !== undefined) return { ...common, connectionString: e.url };
  let ssl: pg.PoolConfig['ssl'] = false;
  if (e.sslmode === 'require' || e.sslmode === 'verify-ca' || e.sslmode === 'verify-full') {
    ssl = {
      rejectUnauthorized: e.sslmode !== 'require',
      ca: e.sslrootcert ? readFileSync(e.sslrootcert, 'utf8') : undefined,
      cert: e.sslcert ? readFileSync(e.sslcert, 'utf8') : undefined,
      key: e.sslkey ? readFileSync(e.sslkey, 'utf8') : undefined,
      // verify-ca checks the chain only, not the host name.
      checkServerIdentity: e.sslmode === 'verify-ca' ? () => undefined : undefined,
    };
  }
  return { ...common, host: e.host, port: e.port, user: e.user, password: e.password, database: e.database, ssl };
}

interface PgState {
  pool: pg.Pool;
  keyColumn: string;
  upsert: string;
  remove: string;
  insert: string;
}

/**
 * A string as an SQL literal, the same text pg.escapeLiteral (libpq's PQescapeLiteral)
 * makes: quotes doubled, and E'' with doubled backslashes when there are any. With
 * native replace() instead of its loop over every character: a record is a kilobyte.
 */
export function quoteLiteral(text: string): string {
  const quoted = text.replace(/'/g, "''");
  return text.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

class PostgresqlTarget implements EventTarget {
  readonly type = 'postgresql' as const;
  private readonly conn: LazyConnection<PgState>;

  constructor(readonly id: string, private readonly settings: PostgresqlSettings) {
    this.conn = new LazyConnection(`postgresql target ${id}`, DEFAULT_TARGET_TIMEOUT_MS, () => this.open(), (s) => s.pool.end());
  }

  private async open(): Promise<PgState> {
    const pool = new pg.Pool(poolConfig(this.settings.endpoint, this.settings.maxOpenConnections));
    pool.on('error', () => { /* an idle client died; the next query reconnects */ });
    try {
      const keyColumn = await this.prepareTable(pool);
      const t = this.settings.table;
      return {
        pool,
        keyColumn,
        upsert: `INSERT INTO ${t} (${keyColumn}, value) VALUES ($1, $2) ON CONFLICT (${keyColumn}) DO UPDATE SET value = EXCLUDED.value`,
        remove: `DELETE FROM ${t} WHERE ${keyColumn} = $1`,
        insert: `INSERT INTO ${t} (event_time, event_data) VALUES ($1, $2)`,
      };
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(`postgresql target ${this.id}: ${(err as Error).message}`);
    }
  }

  /** Creates the table when missing and checks its columns; returns the key column name. */
  private async prepareTable(pool: pg.Pool): Promise<string> {
    const columnsSql = `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`;
    const t = this.settings.table;
    let { rows } = await pool.query<{ attname: string }>(columnsSql, [t]);
    if (rows.length === 0) {
      await pool.query(this.settings.format === 'namespace'
        ? `CREATE TABLE IF NOT EXISTS ${t} (key VARCHAR PRIMARY KEY, value JSONB)`
        : `CREATE TABLE IF NOT EXISTS ${t} (event_time TIMESTAMP WITH TIME ZONE NOT NULL, event_data JSONB)`);
      ({ rows } = await pool.query<{ attname: string }>(columnsSql, [t]));
    }
    const have = new Set(rows.map((r) => r.attname));
    if (this.settings.format === 'access') {
      const missing = ['event_time', 'event_data'].filter((c) => !have.has(c));
      if (missing.length) throw new Error(`table ${t} exists but lacks column(s) ${missing.join(', ')} needed by format access`);
      return '';
    }
    const key = have.has('key') ? 'key' : have.has('key_name') ? 'key_name' : undefined;
    if (key === undefined || !have.has('value')) throw new Error(`table ${t} exists but lacks the key and value columns needed by format namespace`);
    return key;
  }

  async init(): Promise<void> {
    await this.conn.get();
  }

  async send(event: QueuedEvent): Promise<void> {
    const state = await this.conn.get();
    const work = this.settings.format === 'access'
      ? state.pool.query(state.insert, [event.eventTime, recordsDocument(event)])
      : isRemoval(event.eventName)
        ? state.pool.query(state.remove, [event.key])
        : state.pool.query(state.upsert, [event.key, recordsDocument(event)]);
    try {
      await withTimeout(work, DEFAULT_TARGET_TIMEOUT_MS, `postgresql target ${this.id}: send`);
    } catch (err) {
      this.conn.drop(state);
      throw err;
    }
  }

  /**
   * The batch as one simple query: one round trip, and PostgreSQL runs a multi-statement
   * query as a single implicit transaction, so a failure applies none of it. Access
   * format: one multi-row INSERT. Namespace format: each run of consecutive upserts is one
   * multi-row INSERT ... ON CONFLICT (the last event of a key wins, as it would one by
   * one; a key may appear only once per statement) and each run of removals one DELETE,
   * in event order. A statement per run rather than per event costs the server about a
   * third less CPU per event. The simple protocol takes no parameters, hence the values
   * are quoted as pg's escapeLiteral would (quoteLiteral).
   */
  async sendBatch(events: QueuedEvent[]): Promise<void> {
    const state = await this.conn.get();
    const t = this.settings.table;
    const k = state.keyColumn;
    const q = quoteLiteral;
    const statements: string[] = [];
    if (this.settings.format === 'access') {
      statements.push(`INSERT INTO ${t} (event_time, event_data) VALUES ${events.map((e) => `(${q(e.eventTime)}, ${q(recordsDocument(e))})`).join(', ')}`);
    } else {
      for (const run of runsOf(events, (e) => isRemoval(e.eventName))) {
        if (isRemoval(run[0].eventName)) {
          statements.push(`DELETE FROM ${t} WHERE ${k} IN (${[...new Set(run.map((e) => q(e.key)))].join(', ')})`);
        } else {
          const last = new Map(run.map((e) => [e.key, e]));
          statements.push(`INSERT INTO ${t} (${k}, value) VALUES ${[...last.values()].map((e) => `(${q(e.key)}, ${q(recordsDocument(e))})`).join(', ')} ON CONFLICT (${k}) DO UPDATE SET value = EXCLUDED.value`);
        }
      }
    }
    try {
      await withTimeout(state.pool.query(statements.join(';\n')), DEFAULT_TARGET_TIMEOUT_MS, `postgresql target ${this.id}: send batch`);
    } catch (err) {
      this.conn.drop(state);
      throw err;
    }
  }

  async isOnline(): Promise<boolean> {
    try {
      const state = await withTimeout(this.conn.get(), ONLINE_CHECK_TIMEOUT_MS, 'postgresql online check');
      await withTimeout(state.pool.query('SELECT 1'), ONLINE_CHECK_TIMEOUT_MS, 'postgresql ping');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

export function createPostgresqlTarget(id: string, options: Record<string, string>): EventTarget {
  return new PostgresqlTarget(id, validatePostgresqlOptions(id, options));
}
