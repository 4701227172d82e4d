/**
 * notify_redis: MinIO's Redis target.
 *
 * namespace format: the hash `key` mirrors the bucket: HSET key "bucket/object"
 *   '{"Records":[record]}' for created/accessed events, HDEL key "bucket/object" for
 *   removals.
 * access format: RPUSH key '[{"Event":[record],"EventTime":"<eventTime>"}]' for every
 *   event (append only), exactly what MinIO/JuiceFS put in the list.
 *
 * address is host:port with an optional /db suffix ("127.0.0.1:6379/1"); without it
 * database 0 is used, as the JuiceFS docs say.
 */
import { Redis } from 'ioredis';
import { isRemoval, type EventTarget, type QueuedEvent } from '../target.js';
import { LazyConnection } from './connection.js';
import { DEFAULT_TARGET_TIMEOUT_MS, ONLINE_CHECK_TIMEOUT_MS, withTimeout } from './deadline.js';
import { COMMENT_OPTION, OptionReader, parseQueueOptions, QUEUE_OPTIONS, type TargetOptionSpec } from './options.js';
import { recordsDocument, recordText } from './payload.js';
import { parseHostPort } from './host-port.js';
import { runsOf } from './runs.js';

const SUBSYSTEM = 'notify_redis';

// MinIO/JuiceFS default order; `user` (Redis 6 ACL) is newer MinIO, kept off the default line.
export const REDIS_OPTIONS: TargetOptionSpec[] = [
  { key: 'format', default: 'namespace', type: 'namespace*|access', optional: false, help: "'namespace' reflects current bucket/object list and 'access' reflects a journal of object operations, defaults to 'namespace'" },
  { key: 'address', default: '', type: 'address', optional: false, help: "Redis server's address, e.g. 'localhost:6379', optionally with a database: 'localhost:6379/1'" },
  { key: 'key', default: '', type: 'string', optional: false, help: 'Redis key to store/update events, key is auto-created' },
  { key: 'password', default: '', type: 'string', optional: true, sensitive: true, help: 'Redis server password' },
  ...QUEUE_OPTIONS,
  { key: 'user', default: '', type: 'string', optional: true, extension: true, help: "Redis server user for the auth (Redis 6+ ACL), defaults to the 'default' user" },
  COMMENT_OPTION,
];

export interface RedisSettings {
  format: 'namespace' | 'access';
  host: string;
  port: number;
  db: number;
  key: string;
  user: string;
  password: string;
}

export function validateRedisOptions(id: string, options: Record<string, string>): RedisSettings {
  const r = new OptionReader(SUBSYSTEM, id, REDIS_OPTIONS, options);
  parseQueueOptions(SUBSYSTEM, id, options);
  const format = r.oneOf('format', ['namespace', 'access'] as const);
  let address = r.required('address');
  let db = 0;
  const slash = address.lastIndexOf('/');
  if (slash >= 0) {
    const dbText = address.slice(slash + 1);
    if (!/^\d+$/.test(dbText) || Number(dbText) > 65535) throw r.error('address', `has a bad database number '${dbText}' (expected host:port/<number>)`);
    db = Number(dbText);
    address = address.slice(0, slash);
  }
  const hp = parseHostPort(address, 6379);
  if (typeof hp === 'string') throw r.error('address', hp);
  return { format, host: hp.host, port: hp.port, db, key: r.required('key'), user: r.string('user'), password: r.string('password') };
}

/** An access-format list entry: MinIO's [{"Event": [record], "EventTime": ...}]. */
function accessEntry(event: QueuedEvent): string {
  return `[{"Event":[${recordText(event)}],"EventTime":${JSON.stringify(event.eventTime)}}]`;
}

class RedisTarget implements EventTarget {
  readonly type = 'redis' as const;
  private readonly conn: LazyConnection<Redis>;

  constructor(readonly id: string, private readonly settings: RedisSettings) {
    this.conn = new LazyConnection(`redis target ${id}`, DEFAULT_TARGET_TIMEOUT_MS, () => this.open(), (c) => { c.disconnect(); });
  }

  private async open(): Promise<Redis> {
    const s = this.settings;
    // No ioredis retry loop or offline queue: a command on a dead link must fail now
    // so the delivery loop keeps the event; we reconnect on the next call.
    const client = new Redis({
      host: s.host, port: s.port, db: s.db, connectionName: `s3gate-notify-redis-${this.id}`,
      username: s.user || undefined, password: s.password || undefined,
      lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0,
      retryStrategy: () => null, connectTimeout: DEFAULT_TARGET_TIMEOUT_MS,
      commandTimeout: DEFAULT_TARGET_TIMEOUT_MS, enableReadyCheck: true,
    });
    client.on('error', () => { /* surfaced through the failing command */ });
    client.on('end', () => this.conn.drop(client));
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw new Error(`redis target ${this.id}: cannot connect to ${s.host}:${s.port}: ${(err as Error).message}`);
    }
    return client;
  }

  async init(): Promise<void> {
    await this.conn.get();
  }

  /**
   * The whole batch in one MULTI/EXEC round trip, commands in event order. MULTI (not a
   * bare pipeline) so a link that breaks mid-batch applies nothing, and the delivery
   * loop's retry of the batch does not RPUSH a prefix twice.
   */
  async sendBatch(events: QueuedEvent[]): Promise<void> {
    const client = await this.conn.get();
    const { key, format } = this.settings;
    const multi = client.multi();
    // One command per run of like events: RPUSH and HSET take many values (applied in
    // order, so a key set twice keeps the later record), HDEL many fields.
    if (format === 'access') multi.rpush(key, ...events.map(accessEntry));
    else {
      for (const run of runsOf(events, (e) => isRemoval(e.eventName))) {
        if (isRemoval(run[0].eventName)) multi.hdel(key, ...run.map((e) => e.key));
        else multi.hset(key, ...run.flatMap((e) => [e.key, recordsDocument(e)]));
      }
    }
    try {
      const results = await withTimeout(multi.exec(), DEFAULT_TARGET_TIMEOUT_MS, `redis target ${this.id}: send batch`);
      if (results === null) throw new Error(`redis target ${this.id}: transaction aborted`);
      // A command error inside EXEC (e.g. WRONGTYPE) does not fail exec() itself.
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ReplyError')) this.conn.drop(client);
      throw err;
    }
  }

  async send(event: QueuedEvent): Promise<void> {
    const client = await this.conn.get();
    const { key, format } = this.settings;
    const work = format === 'access'
      ? client.rpush(key, accessEntry(event))
      : isRemoval(event.eventName)
        ? client.hdel(key, event.key)
        : client.hset(key, event.key, recordsDocument(event));
    try {
      await withTimeout(work, DEFAULT_TARGET_TIMEOUT_MS, `redis target ${this.id}: send`);
    } catch (err) {
      // WRONGTYPE and friends are server answers on a healthy link; anything else may
      // have broken the connection, so start afresh next time.
      if (!(err instanceof Error && err.name === 'ReplyError')) this.conn.drop(client);
      throw err;
    }
  }

  async isOnline(): Promise<boolean> {
    try {
      const client = await withTimeout(this.conn.get(), ONLINE_CHECK_TIMEOUT_MS, 'redis online check');
      return (await withTimeout(client.ping(), ONLINE_CHECK_TIMEOUT_MS, 'redis ping')) === 'PONG';
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

export function createRedisTarget(id: string, options: Record<string, string>): EventTarget {
  return new RedisTarget(id, validateRedisOptions(id, options));
}
