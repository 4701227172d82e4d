/**
 * Every event type through the real server to every real target, in both formats where
 * the seeds define them: Redis (namespace HSET/HDEL seen with MONITOR, access RPUSH),
 * MariaDB and PostgreSQL (namespace upsert/delete rows, access rows), a webhook receiver
 * that checks the Bearer token, RabbitMQ, Mosquitto, NATS core and JetStream.
 *
 * One server, one bucket whose rules send s3:ObjectCreated:*, s3:ObjectRemoved:* and
 * s3:ObjectAccessed:* to every target; s3:BucketCreated/s3:BucketRemoved go to the
 * targets subscribed server-wide with bucket_events=on (the access-format and message
 * targets here). The same scripted operations run once; each target's records are
 * checked field by field against what the S3 responses said (x-amz-request-id ...).
 *
 * s3:ObjectCreated:Post is not covered: PostObject still answers NotImplemented.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutBucketNotificationConfigurationCommand,
  PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { connect as natsConnect, type NatsConnection, type Subscription } from 'nats';
import { startServer, type TestServer } from '../helpers/server.js';
import { requireService } from '../helpers/services.js';
import { checkRecord, startWebhookReceiver, until, type ExpectedEvent, type WebhookReceiver } from './e2e-helpers.js';

const tag = `${process.pid}_${Date.now() % 100000}`;
const bucket = 'e2e-events';
const newBucket = 'e2e-events-new';
const token = 'e2e-secret-token';
const names = {
  redisNs: `e2e-ns-${tag}`, redisAcc: `e2e-acc-${tag}`,
  mysqlNs: `e2e_ns_${tag}`, mysqlAcc: `e2e_acc_${tag}`,
  pgNs: `e2e_ns_${tag}`, pgAcc: `e2e_acc_${tag}`,
  exchange: `e2e-ex-${tag}`, mqttTopic: `e2e/events/${tag}`, natsSubject: `e2e.events.${tag}`, jsSubject: `e2ejs.events.${tag}`, jsStream: `E2E_${tag}`,
};

/** ARN -> the bucket_events setting; every one gets a rule for all object events. */
const TARGETS: Array<{ arn: string; subsys: string; id: string; kvs: Record<string, string> }> = [];
function target(type: string, subsys: string, id: string, kvs: Record<string, string>) {
  TARGETS.push({ arn: `arn:minio:sqs::${id}:${type}`, subsys, id, kvs });
}
target('redis', 'REDIS', 'ns', { ADDRESS: '127.0.0.1:6379', KEY: names.redisNs, FORMAT: 'namespace' });
target('redis', 'REDIS', 'acc', { ADDRESS: '127.0.0.1:6379', KEY: names.redisAcc, FORMAT: 'access', BUCKET_EVENTS: 'on' });
target('mysql', 'MYSQL', 'ns', { DSN_STRING: 'root:@tcp(127.0.0.1:3306)/test', TABLE: names.mysqlNs, FORMAT: 'namespace' });
target('mysql', 'MYSQL', 'acc', { HOST: '127.0.0.1', PORT: '3306', USERNAME: 'root', DATABASE: 'test', TABLE: names.mysqlAcc, FORMAT: 'access', BUCKET_EVENTS: 'on' });
target('postgresql', 'POSTGRES', 'ns', { CONNECTION_STRING: 'host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable', TABLE: names.pgNs, FORMAT: 'namespace' });
target('postgresql', 'POSTGRES', 'acc', { HOST: '127.0.0.1', PORT: '5432', USERNAME: 'postgres', DATABASE: 'test', TABLE: names.pgAcc, FORMAT: 'access', BUCKET_EVENTS: 'on' });
target('webhook', 'WEBHOOK', 'hook', { AUTH_TOKEN: token, BUCKET_EVENTS: 'on' }); // ENDPOINT added once the receiver runs
target('amqp', 'AMQP', 'rmq', { URL: 'amqp://guest:guest@127.0.0.1:5672', EXCHANGE: names.exchange, EXCHANGE_TYPE: 'fanout', ROUTING_KEY: 'events', BUCKET_EVENTS: 'on' });
target('mqtt', 'MQTT', 'mosq', { BROKER: 'tcp://127.0.0.1:1883', TOPIC: names.mqttTopic, QOS: '1', BUCKET_EVENTS: 'on' });
target('nats', 'NATS', 'core', { ADDRESS: '127.0.0.1:4222', SUBJECT: names.natsSubject, BUCKET_EVENTS: 'on' });
target('nats', 'NATS', 'js', { ADDRESS: '127.0.0.1:4222', SUBJECT: names.jsSubject, JETSTREAM: 'on', BUCKET_EVENTS: 'on' });

let server: TestServer;
let s3: S3Client;
let hook: WebhookReceiver;
let redis: Redis;
let monitor: Redis;
let my: mysql.Connection;
let pgc: pg.Client;
let nats: NatsConnection;
let natsSub: Subscription;
const natsMessages: any[] = [];
const mqttMessages: any[] = [];
let mqttClient: mqtt.MqttClient;
const redisNsCommands: string[][] = [];
/** ARNs the server announced; a target type whose module is missing is absent. */
let available = new Set<string>();
const expected: ExpectedEvent[] = [];
const expectedBucketEvents: ExpectedEvent[] = [];
let accessKey = '';

const KEY_JPG = 'dir/a b+ü(1).jpg';
const KEY_TXT = 'plain.txt';
const KEY_COPY = 'copy/plain copy.txt';
const KEY_MP = 'mp/big.bin';

function envFor(endpoint: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const t of TARGETS) {
    const kvs = t.subsys === 'WEBHOOK' ? { ...t.kvs, ENDPOINT: endpoint } : t.kvs;
    env[`MINIO_NOTIFY_${t.subsys}_ENABLE_${t.id}`] = 'on';
    for (const [k, v] of Object.entries(kvs)) env[`MINIO_NOTIFY_${t.subsys}_${k}_${t.id}`] = v;
  }
  return env;
}

/** MONITOR prints non-ASCII bytes as \xHH; back to the UTF-8 text the gateway sent. */
function unescapeMonitor(arg: string): string {
  if (!/\\x[0-9a-f]{2}/i.test(arg)) return arg;
  const bytes: number[] = [];
  for (let i = 0; i < arg.length; i++) {
    const m = /^\\x([0-9a-f]{2})/i.exec(arg.slice(i, i + 4));
    if (m) { bytes.push(parseInt(m[1], 16)); i += 3; } else bytes.push(...Buffer.from(arg[i]));
  }
  return Buffer.from(bytes).toString('utf8');
}

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

/** The scripted operations; fills `expected` with what each target must receive. */
async function runOperations(): Promise<void> {
  const meta = (ct: string) => ({ 'X-Amz-Meta-Color': 'blue', 'X-Amz-Meta-Multi-Word': 'hello world', 'content-type': ct });
  const jpg = randomBytes(1234);
  let r: any = await s3.send(new CreateBucketCommand({ Bucket: newBucket }));
  expectedBucketEvents.push({ eventName: 's3:BucketCreated', bucket: newBucket, key: '', requestId: r.$metadata.requestId });

  r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY_JPG, Body: jpg, ContentType: 'image/jpeg', Metadata: { color: 'blue', 'multi-word': 'hello world' } }));
  expected.push({ eventName: 's3:ObjectCreated:Put', bucket, key: KEY_JPG, requestId: r.$metadata.requestId, size: jpg.length, eTag: md5(jpg), contentType: 'image/jpeg', userMetadata: meta('image/jpeg') });

  r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY_TXT, Body: 'hello text', ContentType: 'text/plain' }));
  expected.push({ eventName: 's3:ObjectCreated:Put', bucket, key: KEY_TXT, requestId: r.$metadata.requestId, size: 10, eTag: md5('hello text'), contentType: 'text/plain', userMetadata: { 'content-type': 'text/plain' } });

  r = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: KEY_COPY, CopySource: `${bucket}/${encodeURIComponent(KEY_TXT)}` }));
  expected.push({ eventName: 's3:ObjectCreated:Copy', bucket, key: KEY_COPY, requestId: r.$metadata.requestId, size: 10, eTag: md5('hello text'), contentType: 'text/plain', userMetadata: { 'content-type': 'text/plain' } });

  const part1 = randomBytes(5 * 1024 * 1024);
  const part2 = randomBytes(1000);
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: KEY_MP, ContentType: 'application/x-big' }));
  const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: KEY_MP, UploadId: up.UploadId, PartNumber: 1, Body: part1 }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: KEY_MP, UploadId: up.UploadId, PartNumber: 2, Body: part2 }));
  r = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: KEY_MP, UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
  const mpTag = md5(Buffer.concat([Buffer.from(md5(part1), 'hex'), Buffer.from(md5(part2), 'hex')])) + '-2';
  expected.push({ eventName: 's3:ObjectCreated:CompleteMultipartUpload', bucket, key: KEY_MP, requestId: r.$metadata.requestId, size: part1.length + part2.length, eTag: mpTag, contentType: 'application/x-big' });

  r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: KEY_JPG }));
  await r.Body.transformToByteArray();
  expected.push({ eventName: 's3:ObjectAccessed:Get', bucket, key: KEY_JPG, requestId: r.$metadata.requestId, size: jpg.length, eTag: md5(jpg), contentType: 'image/jpeg', userMetadata: meta('image/jpeg') });

  r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY_TXT }));
  expected.push({ eventName: 's3:ObjectAccessed:Head', bucket, key: KEY_TXT, requestId: r.$metadata.requestId, size: 10, eTag: md5('hello text'), contentType: 'text/plain' });

  r = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEY_TXT }));
  expected.push({ eventName: 's3:ObjectRemoved:Delete', bucket, key: KEY_TXT, requestId: r.$metadata.requestId });

  r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: KEY_COPY }, { Key: KEY_MP }] } }));
  assert.equal(r.Deleted?.length, 2);
  expected.push({ eventName: 's3:ObjectRemoved:Delete', bucket, key: KEY_COPY, requestId: r.$metadata.requestId });
  expected.push({ eventName: 's3:ObjectRemoved:Delete', bucket, key: KEY_MP, requestId: r.$metadata.requestId });

  r = await s3.send(new DeleteBucketCommand({ Bucket: newBucket }));
  expectedBucketEvents.push({ eventName: 's3:BucketRemoved', bucket: newBucket, key: '', requestId: r.$metadata.requestId });
}

/** All records a message/access target must hold, in delivery order. */
function expectedWithBucketEvents(): ExpectedEvent[] {
  const [ownBucket, created, removed] = expectedBucketEvents;
  return [ownBucket, created, ...expected, removed];
}

/**
 * Records must arrive in the order the operations ran. Change events are queued before
 * their response; a read event (Get/Head) is queued just after its response, so it is
 * only checked to be present, and every change event strictly in order.
 */
function checkSequence(records: any[], want: ExpectedEvent[], where: string): void {
  assert.equal(records.length, want.length, `${where}: ${records.length} records, want ${want.length}: ${records.map((r) => r.eventName).join(', ')}`);
  const isRead = (n: string) => n.startsWith('s3:ObjectAccessed:');
  const got = records.filter((r) => !isRead(r.eventName));
  const exp = want.filter((w) => !isRead(w.eventName));
  got.forEach((rec, i) => checkRecord(rec, exp[i], accessKey, where));
  for (const w of want.filter((x) => isRead(x.eventName))) {
    const rec = records.find((r) => r.responseElements?.['x-amz-request-id'] === w.requestId);
    assert.ok(rec, `${where}: no record for ${w.eventName} ${w.key}`);
    checkRecord(rec, w, accessKey, where);
  }
}

function requireTarget(arn: string): void {
  if (!available.has(arn)) {
    assert.fail(`${arn} was not configured by the server (SQS ARNs: ${[...available].join(' ')}); see the server log:\n${server.output().split('\n').filter((l) => /error/.test(l)).join('\n')}`);
  }
}

async function brokerSetup(): Promise<{ amqpConn?: amqp.ChannelModel; amqpMessages: any[] }> {
  const amqpMessages: any[] = [];
  let amqpConn: amqp.ChannelModel | undefined;
  if (available.has('arn:minio:sqs:us-east-1:rmq:amqp')) {
    amqpConn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    // The target declares its exchange when it connects; bind once it exists.
    await until(async () => {
      const ch = await amqpConn!.createChannel();
      ch.on('error', () => {});
      try { await ch.checkExchange(names.exchange); await ch.close(); return true; } catch { return false; }
    }, 15_000, `AMQP exchange ${names.exchange} declared by the target`);
    const ch = await amqpConn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, names.exchange, 'events');
    await ch.consume(queue, (m) => { if (m) { amqpMessages.push({ ...JSON.parse(m.content.toString()), $headers: m.properties.headers }); ch.ack(m); } });
  }
  return { amqpConn, amqpMessages };
}

let amqpState: { amqpConn?: amqp.ChannelModel; amqpMessages: any[] } = { amqpMessages: [] };

before(async () => {
  for (const s of ['redis', 'mariadb', 'postgresql', 'rabbitmq', 'mosquitto', 'nats'] as const) await requireService(s);
  hook = await startWebhookReceiver(token);
  redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  await redis.connect();
  monitor = await redis.monitor();
  // A batch sets (or deletes) several fields per HSET (HDEL): one entry per field here.
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[1] !== names.redisNs) return;
    const [op, key, ...rest] = args.map(unescapeMonitor);
    const step = op.toLowerCase() === 'hset' ? 2 : 1;
    for (let i = 0; i < rest.length; i += step) redisNsCommands.push([op, key, ...rest.slice(i, i + step)]);
  });
  my = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: 'test' });
  pgc = new pg.Client({ host: '127.0.0.1', user: 'postgres', database: 'test' });
  await pgc.connect();
  nats = await natsConnect({ servers: '127.0.0.1:4222' });
  natsSub = nats.subscribe(names.natsSubject, { callback: (_e, m) => natsMessages.push(JSON.parse(m.string())) });
  const jsm = await nats.jetstreamManager();
  await jsm.streams.add({ name: names.jsStream, subjects: [names.jsSubject] });
  mqttClient = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `e2e-${tag}` });
  await mqttClient.subscribeAsync(names.mqttTopic, { qos: 1 });
  mqttClient.on('message', (_t, payload) => mqttMessages.push(JSON.parse(payload.toString())));

  // Two workers: events go through the workers' spools and the primary's merge, as on a multi-core machine by default.
  server = await startServer({ env: envFor(hook.url), workers: 2 });
  s3 = server.s3();
  accessKey = server.accessKey;
  const line = await until(() => server.output().split('\n').find((l) => l.startsWith('SQS ARNs:')), 20_000, 'the SQS ARNs line');
  available = new Set(line.slice('SQS ARNs: '.length).split(' '));
  amqpState = await brokerSetup();

  const created = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  expectedBucketEvents.push({ eventName: 's3:BucketCreated', bucket, key: '', requestId: created.$metadata.requestId! });
  const all = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectAccessed:*'] as any[];
  await s3.send(new PutBucketNotificationConfigurationCommand({
    Bucket: bucket,
    NotificationConfiguration: {
      QueueConfigurations: TARGETS.map((t) => t.arn.replace('::', ':us-east-1:')).filter((a) => available.has(a)).map((QueueArn) => ({ QueueArn, Events: all })),
    },
  }));
  await runOperations();
});

after(async () => {
  await server?.stop();
  await hook?.close();
  monitor?.disconnect();
  if (redis) { await redis.del(names.redisNs, names.redisAcc); redis.disconnect(); }
  if (my) { await my.query(`DROP TABLE IF EXISTS ${names.mysqlNs}, ${names.mysqlAcc}`); await my.end(); }
  if (pgc) { await pgc.query(`DROP TABLE IF EXISTS ${names.pgNs}, ${names.pgAcc}`); await pgc.end(); }
  if (nats) {
    natsSub?.unsubscribe();
    await (await nats.jetstreamManager()).streams.delete(names.jsStream).catch(() => {});
    await nats.close();
  }
  await mqttClient?.endAsync();
  await amqpState.amqpConn?.close();
});

const ALL = expectedWithBucketEvents;
const WAIT = 20_000;

test('redis namespace: HSET bucket/object = {"Records":[...]} on create/access, HDEL on removal (MONITOR)', async () => {
  requireTarget('arn:minio:sqs:us-east-1:ns:redis');
  await until(() => redisNsCommands.length >= expected.length, WAIT, 'redis namespace commands');
  await new Promise((r) => setTimeout(r, 300));
  const show = redisNsCommands.map((c) => c.slice(0, 3).join(' ')).join('\n');
  assert.equal(redisNsCommands.length, expected.length, show);
  const byRequest = (rec: any) => expected.find((e) => e.requestId === rec.responseElements['x-amz-request-id'] && e.eventName === rec.eventName);
  const seen: ExpectedEvent[] = redisNsCommands.map((cmd) => {
    const op = cmd[0].toLowerCase();
    if (op === 'hdel') {
      assert.equal(cmd.length, 3, show);
      return expected.find((e) => e.eventName.startsWith('s3:ObjectRemoved:') && `${bucket}/${e.key}` === cmd[2])!;
    }
    assert.equal(op, 'hset', show);
    const doc = JSON.parse(cmd[3]);
    assert.equal(doc.Records.length, 1);
    const w = byRequest(doc.Records[0]);
    assert.ok(w, `unexpected record ${cmd[3]}`);
    assert.equal(cmd[2], `${bucket}/${w.key}`, 'hash field is bucket/object (not encoded)');
    checkRecord(doc.Records[0], w, accessKey, 'redis namespace');
    return w;
  });
  const changes = (l: ExpectedEvent[]) => l.filter((e) => !e.eventName.startsWith('s3:ObjectAccessed:')).map((e) => `${e.eventName} ${e.key}`);
  assert.deepEqual(changes(seen), changes(expected), 'HSET/HDEL in operation order');
  assert.equal(new Set(seen).size, expected.length, 'each event once');
  // The hash mirrors the bucket: only the object still there, with its latest record.
  const hash = await redis.hgetall(names.redisNs);
  assert.deepEqual(Object.keys(hash), [`${bucket}/${KEY_JPG}`]);
  assert.equal(JSON.parse(hash[`${bucket}/${KEY_JPG}`]).Records[0].eventName, 's3:ObjectAccessed:Get');
});

test('redis access: RPUSH [{"Event":[record],"EventTime":...}] for every event, bucket events included', async () => {
  requireTarget('arn:minio:sqs:us-east-1:acc:redis');
  const want = ALL();
  const items = await until(async () => { const l = await redis.lrange(names.redisAcc, 0, -1); return l.length >= want.length && l; }, WAIT, 'redis access list');
  await new Promise((r) => setTimeout(r, 300));
  const final = await redis.lrange(names.redisAcc, 0, -1);
  assert.equal(final.length, items.length);
  const records = final.map((raw) => {
    const doc = JSON.parse(raw);
    assert.ok(Array.isArray(doc) && doc.length === 1, 'each element is a one-item JSON list');
    assert.deepEqual(Object.keys(doc[0]), ['Event', 'EventTime']);
    assert.equal(doc[0].Event.length, 1);
    assert.equal(doc[0].EventTime, doc[0].Event[0].eventTime);
    return doc[0].Event[0];
  });
  checkSequence(records, want, 'redis access');
});

test('mysql namespace: one row per object (key_name, value JSON), upserted and deleted', async () => {
  requireTarget('arn:minio:sqs:us-east-1:ns:mysql');
  const rows = await until(async () => {
    try {
      const [r] = await my.query(`SELECT key_name, value FROM ${names.mysqlNs}`) as any[];
      return r.length === 1 && JSON.parse(typeof r[0].value === 'string' ? r[0].value : JSON.stringify(r[0].value)).Records[0].eventName === 's3:ObjectAccessed:Get' && r;
    } catch { return false; }
  }, WAIT, 'the mysql namespace table to mirror the bucket');
  const [st] = await my.query(`SELECT COUNT(*) AS n FROM ${names.mysqlNs}`) as any[];
  assert.equal(Number(st[0].n), 1, 'deleted objects have no row');
  assert.equal(rows[0].key_name, `${bucket}/${KEY_JPG}`);
  const value = typeof rows[0].value === 'string' ? JSON.parse(rows[0].value) : rows[0].value;
  checkRecord(value.Records[0], expected.find((e) => e.eventName === 's3:ObjectAccessed:Get')!, accessKey, 'mysql ns');
});

test('mysql access: (event_time, event_data) appended for every event', async () => {
  requireTarget('arn:minio:sqs:us-east-1:acc:mysql');
  const want = ALL();
  const rows = await until(async () => {
    try { const [r] = await my.query(`SELECT event_time, event_data FROM ${names.mysqlAcc}`) as any[]; return r.length >= want.length && r; } catch { return false; }
  }, WAIT, 'mysql access rows');
  const records = rows.map((row: any) => {
    const doc = typeof row.event_data === 'string' ? JSON.parse(row.event_data) : row.event_data;
    const t = new Date(doc.Records[0].eventTime);
    const et = row.event_time instanceof Date ? row.event_time : new Date(`${row.event_time}Z`);
    assert.ok(Math.abs(et.getTime() - t.getTime()) < 1500, `event_time ${row.event_time} is the event's time ${doc.Records[0].eventTime}`);
    return doc.Records[0];
  });
  checkSequence(records, want, 'mysql access');
});

test('postgresql namespace: (key, value JSONB) INSERT ... ON CONFLICT, DELETE on removal', async () => {
  requireTarget('arn:minio:sqs:us-east-1:ns:postgresql');
  const rows = await until(async () => {
    try {
      const r = await pgc.query(`SELECT key, value FROM ${names.pgNs}`);
      return r.rows.length === 1 && r.rows[0].value.Records[0].eventName === 's3:ObjectAccessed:Get' && r.rows;
    } catch { return false; }
  }, WAIT, 'the postgresql namespace table to mirror the bucket');
  assert.equal(rows[0].key, `${bucket}/${KEY_JPG}`);
  checkRecord(rows[0].value.Records[0], expected.find((e) => e.eventName === 's3:ObjectAccessed:Get')!, accessKey, 'pg ns');
  assert.equal((await pgc.query(`SELECT count(*)::int AS n FROM ${names.pgNs}`)).rows[0].n, 1);
});

test('postgresql access: (event_time timestamptz, event_data JSONB) appended for every event', async () => {
  requireTarget('arn:minio:sqs:us-east-1:acc:postgresql');
  const want = ALL();
  const rows = await until(async () => {
    try { const r = await pgc.query(`SELECT event_time, event_data FROM ${names.pgAcc}`); return r.rows.length >= want.length && r.rows; } catch { return false; }
  }, WAIT, 'postgresql access rows');
  const records = rows.map((row: any) => {
    assert.equal((row.event_time as Date).toISOString(), row.event_data.Records[0].eventTime);
    return row.event_data.Records[0];
  });
  checkSequence(records, want, 'postgresql access');
});

test('webhook: POST {"EventName","Key","Records"} with the Bearer token', async () => {
  requireTarget('arn:minio:sqs:us-east-1:hook:webhook');
  const want = ALL();
  await until(() => hook.bodies.length >= want.length, WAIT, 'webhook deliveries');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(hook.unauthorized, 0, 'every request carried the token');
  for (const [i, b] of hook.bodies.entries()) {
    assert.equal(b.EventName, b.Records[0].eventName, `#${i}`);
    assert.equal(b.Key, `${b.Records[0].s3.bucket.name}/${decodeURIComponent(b.Records[0].s3.object.key.replace(/\+/g, ' '))}`, `#${i} Key is bucket/object unencoded`);
  }
  checkSequence(hook.bodies.map((b) => b.Records[0]), want, 'webhook');
});

test('amqp (RabbitMQ): event log messages published to the exchange', async () => {
  requireTarget('arn:minio:sqs:us-east-1:rmq:amqp');
  const want = ALL();
  await until(() => amqpState.amqpMessages.length >= want.length, WAIT, 'AMQP messages');
  checkSequence(amqpState.amqpMessages.map((m) => m.Records[0]), want, 'amqp');
  const put = amqpState.amqpMessages.find((m) => m.EventName === 's3:ObjectCreated:Put');
  assert.equal(put.Key, `${bucket}/${KEY_JPG}`, 'Key is bucket/object, not encoded');
  assert.deepEqual(put.$headers, { 'minio-bucket': bucket, 'minio-event': 's3:ObjectCreated:Put' });
});

test('mqtt (Mosquitto): event log messages on the topic', async () => {
  requireTarget('arn:minio:sqs:us-east-1:mosq:mqtt');
  const want = ALL();
  await until(() => mqttMessages.length >= want.length, WAIT, 'MQTT messages');
  checkSequence(mqttMessages.map((m) => m.Records[0]), want, 'mqtt');
});

test('nats core: event log messages on the subject', async () => {
  requireTarget('arn:minio:sqs:us-east-1:core:nats');
  const want = ALL();
  await until(() => natsMessages.length >= want.length, WAIT, 'NATS messages');
  checkSequence(natsMessages.map((m) => m.Records[0]), want, 'nats');
});

test('nats JetStream: messages stored in the stream', async () => {
  requireTarget('arn:minio:sqs:us-east-1:js:nats');
  const want = ALL();
  const jsm = await nats.jetstreamManager();
  await until(async () => (await jsm.streams.info(names.jsStream)).state.messages >= want.length, WAIT, 'JetStream messages');
  const records: any[] = [];
  for (let seq = 1; seq <= want.length; seq++) records.push(JSON.parse(new TextDecoder().decode((await jsm.streams.getMessage(names.jsStream, { seq })).data)).Records[0]);
  checkSequence(records, want, 'jetstream');
});
