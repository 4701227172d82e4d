import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type IncomingMessage } from 'node:http';
import { createServer } from 'node:http';
import { PosixBackend } from '../../src/storage/posix/backend.js';
import { createConfigService } from '../../src/config/service.js';
import { createEventService } from '../../src/events/service.js';
import { notifySubsystems } from '../../src/events/notify-subsystems.js';
import { registerTargetModule } from '../../src/events/target-factory.js';
import { listenBucketNotification, parseListenRequest } from '../../src/events/listen.js';
import type { RequestInfo } from '../../src/events/publisher.js';
import { createHttpTestTarget, httpTestTargetOptions } from './fixtures/http-target.js';
import { freePort, startReceiver } from './fixtures/receiver.js';
import { until } from './e2e-helpers.js';

// The webhook type is served by the loopback HTTP test target here (see fixtures).
registerTargetModule({ type: 'webhook', create: createHttpTestTarget, options: httpTestTargetOptions });

const req = (): RequestInfo => ({
  principal: { kind: 'root', accessKey: 'admin', username: 'admin', userId: 'admin' },
  requestId: 'REQ1', region: '', sourceIp: '127.0.0.1', host: '127.0.0.1', port: '', userAgent: 'test', time: new Date(),
});

async function setup() {
  const dataDir = await mkdtemp(join(tmpdir(), 's3gate-events-'));
  const backend = await PosixBackend.open({ dataDir, instanceId: 'test-1', fsync: false }, true);
  await backend.createBucket('images');
  const subsystems = (await notifySubsystems()).filter((s) => s.name === 'notify_webhook');
  const config = await createConfigService({ sysDir: backend.sysDir, subsystems, env: {} });
  const announced: string[] = [];
  const events = await createEventService({ sysDir: backend.sysDir, backend, region: '', instanceId: 'host-9000', config, endpoint: 'http://127.0.0.1:9000', initialBackoffMs: 10, maxBackoffMs: 100, announce: (l) => announced.push(l) });
  return { dataDir, backend, config, events, announced };
}

test('config -> target without restart, bucket rules route events, unknown ARN refused, status', async () => {
  const { dataDir, backend, config, events, announced } = await setup();
  const port = await freePort();
  const receiver = await startReceiver(port);
  const mcAdd = (arn: string, suffix: string) => `<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event><Filter><S3Key><FilterRule><Name>suffix</Name><Value>${suffix}</Value></FilterRule></S3Key></Filter><Queue>${arn}</Queue></QueueConfiguration></NotificationConfiguration>`;

  await assert.rejects(events.putBucketNotification('images', mcAdd('arn:minio:sqs::1:webhook', '.jpg')), (e: any) => e.code === 'InvalidArgument' && /destination ARN does not exist/.test(e.message));
  await config.set({ subsys: 'notify_webhook', target: '1', kvs: { endpoint: `http://127.0.0.1:${port}/` } });
  await until(() => announced.length > 0, 5000, 'SQS ARNs line');
  assert.deepEqual(announced, ['SQS ARNs: arn:minio:sqs::1:webhook']);
  assert.deepEqual(events.listTargetArns(), ['arn:minio:sqs::1:webhook']);

  await events.putBucketNotification('images', mcAdd('arn:minio:sqs::1:webhook', '.jpg'));
  assert.match(await events.getBucketNotification('images'), /<Queue>arn:minio:sqs::1:webhook<\/Queue>/);
  await assert.rejects(events.putBucketNotification('nobucket', mcAdd('arn:minio:sqs::1:webhook', '.jpg')), (e: any) => e.code === 'NoSuchBucket');

  await events.publish({ name: 's3:ObjectCreated:Put', bucket: 'images', key: 'a.jpg', size: 1, etag: 'e', contentType: 'image/jpeg' }, req());
  await events.publish({ name: 's3:ObjectCreated:Put', bucket: 'images', key: 'a.png', size: 1, etag: 'e' }, req());
  await events.publish({ name: 's3:ObjectAccessed:Get', bucket: 'images', key: 'a.jpg' }, req());
  await events.publish({ name: 's3:ObjectRemoved:Delete', bucket: 'images', key: 'dir/b c.jpg' }, req());
  await until(() => receiver.keys.length >= 2, 5000, 'deliveries');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(receiver.keys, ['images/a.jpg', 'images/dir/b c.jpg']);
  assert.equal(receiver.bodies[1].Records[0].s3.object.key, 'dir%2Fb+c.jpg');
  assert.equal(receiver.bodies[0].Records[0].responseElements['x-minio-origin-endpoint'], 'http://127.0.0.1:9000');

  const [st] = await events.status();
  assert.equal(st.arn, 'arn:minio:sqs::1:webhook');
  assert.equal(st.delivered, 2);
  assert.equal(st.online, true);
  assert.equal(st.queueDir, join(backend.sysDir, 'queues', 'host-9000', 'journal'));

  // Bucket events: only to targets subscribed server-wide.
  await events.publish({ name: 's3:BucketCreated', bucket: 'newbucket' }, req());
  await config.set({ subsys: 'notify_webhook', target: '1', kvs: { bucket_events: 'on' } });
  await new Promise((r) => setTimeout(r, 100));
  await events.publish({ name: 's3:BucketCreated', bucket: 'newbucket2' }, req());
  await until(() => receiver.keys.length >= 3, 5000, 'bucket event');
  assert.deepEqual(receiver.keys.slice(2), ['newbucket2/']);

  // Disabling the target stops delivery; where it got to stays.
  await config.set({ subsys: 'notify_webhook', target: '1', kvs: { enable: 'off' } });
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(await events.status(), []);
  assert.deepEqual(events.listTargetArns(), []);
  assert.ok((await readdir(join(backend.sysDir, 'queues', 'host-9000', 'journal'))).includes('offset-webhook-1.json'));

  await events.close();
  config.close();
  await receiver.close();
  await rm(dataDir, { recursive: true });
});

test('a target that is down at start-up does not block start; its events are queued and arrive later', async () => {
  const { dataDir, config, events } = await setup();
  const port = await freePort();
  await config.set({ subsys: 'notify_webhook', target: 'w', kvs: { endpoint: `http://127.0.0.1:${port}/` } });
  await events.putBucketNotification('images', '<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:Put</Event><Queue>arn:minio:sqs::w:webhook</Queue></QueueConfiguration></NotificationConfiguration>');
  for (let i = 0; i < 50; i++) await events.publish({ name: 's3:ObjectCreated:Put', bucket: 'images', key: `k${i}` }, req());
  const [st] = await events.status();
  assert.equal(st.queued, 50);
  const receiver = await startReceiver(port);
  await until(() => receiver.keys.length >= 50, 10000, 'replay');
  assert.deepEqual(receiver.keys, Array.from({ length: 50 }, (_, i) => `images/k${i}`));
  await events.close();
  config.close();
  await receiver.close();
  await rm(dataDir, { recursive: true });
});

test('ListenBucketNotification streams matching records as JSON lines with keep-alive spaces', async () => {
  const { dataDir, config, events } = await setup();
  const filter = parseListenRequest('images', new URLSearchParams('events=s3:ObjectCreated:*&prefix=photos/&suffix='));
  assert.throws(() => parseListenRequest('images', new URLSearchParams('events=s3:Nope')), (e: any) => e.code === 'InvalidArgument');
  assert.throws(() => parseListenRequest('images', new URLSearchParams('events=s3:ObjectCreated:*&prefix=a&prefix=b')), (e: any) => e.code === 'InvalidArgument');
  let done: Promise<void> | undefined;
  const server = createServer((_req, res) => { done = listenBucketNotification(events.live, filter, res); });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const res = await new Promise<IncomingMessage>((resolve) => request({ host: '127.0.0.1', port, path: '/images?events=...' }, resolve).end());
  assert.equal(res.headers['content-type'], 'text/event-stream');
  let body = '';
  res.on('data', (c) => (body += c));
  await until(() => events.live.active, 2000, 'listener');
  await events.publish({ name: 's3:ObjectCreated:Put', bucket: 'images', key: 'photos/a b.jpg', size: 3 }, req());
  await events.publish({ name: 's3:ObjectCreated:Put', bucket: 'images', key: 'other/x.jpg' }, req());
  await events.publish({ name: 's3:ObjectRemoved:Delete', bucket: 'images', key: 'photos/a b.jpg' }, req());
  await events.publish({ name: 's3:ObjectCreated:Put', bucket: 'other', key: 'photos/y' }, req());
  await new Promise((r) => setTimeout(r, 1200));
  res.destroy();
  await until(() => done !== undefined, 1000, 'handler');
  await done;
  assert.ok(!events.live.active, 'listener removed after disconnect');
  const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
  assert.equal(lines.length, 1, body);
  const rec = JSON.parse(lines[0]).Records[0];
  assert.equal(rec.s3.object.key, 'photos/a b.jpg', 'raw key on the watch stream');
  assert.ok(/^ +/.test(body.split('\n')[1] ?? body), 'keep-alive spaces were sent');
  server.close();
  await events.close();
  config.close();
  await rm(dataDir, { recursive: true });
});

test('queue location honours queue_dir, one directory per instance', async () => {
  const { dataDir, config, events } = await setup();
  const qdir = join(dataDir, 'qd');
  await mkdir(qdir);
  await config.set({ subsys: 'notify_webhook', target: 'q', kvs: { endpoint: 'http://127.0.0.1:1/', queue_dir: qdir, queue_limit: '5' } });
  await new Promise((r) => setTimeout(r, 50));
  const [st] = await events.status();
  assert.equal(st.queueDir, join(qdir, 'host-9000', 'journal'));
  assert.equal(st.queueLimit, 5);
  await events.close();
  config.close();
  await rm(dataDir, { recursive: true });
});
