/**
 * ListenBucketNotification / ListenNotification (what `mc watch` uses) through the real
 * server, with one process and with --workers 2 (the listener and the writer then sit
 * on different workers): the exact mc request shape (presigned by minio-js), the
 * event-stream headers, keep-alive spaces, one `{"Records":[...]}` JSON line per
 * matching event with the key not URL-escaped, filters, and minio-js's own listener.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { get, type IncomingMessage } from 'node:http';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as Minio from 'minio';
import { startServer, type TestServer } from '../helpers/server.js';
import { sleep, until } from './e2e-helpers.js';

const servers: TestServer[] = [];
after(async () => { await Promise.all(servers.map((s) => s.stop())); });

interface Stream { res: IncomingMessage; raw: () => string; records: () => any[]; ended: Promise<void>; close(): void }

function openStream(url: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { raw += d; });
      res.on('error', () => {});
      const ended = new Promise<void>((ok) => { res.once('end', ok); res.once('close', ok); });
      resolve({
        ended,
        res,
        raw: () => raw,
        records: () => raw.split('\n').map((l) => l.trim()).filter(Boolean).flatMap((l) => JSON.parse(l).Records),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

/** SigV4 query presign of GET /?<params> (minio-js cannot presign without a bucket). */
function presignRoot(server: TestServer, params: Array<[string, string]>): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = now.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const host = `127.0.0.1:${server.port}`;
  const q: Array<[string, string]> = [...params, ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'], ['X-Amz-Credential', `${server.accessKey}/${scope}`], ['X-Amz-Date', now], ['X-Amz-Expires', '600'], ['X-Amz-SignedHeaders', 'host']];
  const query = q.map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  const canonical = ['GET', '/', query, `host:${host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', now, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = Buffer.from(`AWS4${server.secretKey}`);
  for (const part of [day, 'us-east-1', 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return `http://${host}/?${query}&X-Amz-Signature=${createHmac('sha256', key).update(toSign).digest('hex')}`;
}

function minioClient(server: TestServer) {
  return new Minio.Client({ endPoint: '127.0.0.1', port: server.port, useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' });
}

for (const workers of [1, 2]) {
  test(`mc watch stream with ${workers} worker(s): filters, JSON lines, keep-alive, raw keys`, async () => {
    const server = await startServer({ workers });
    servers.push(server);
    const s3: S3Client = server.s3();
    const bucket = `e2e-listen-${workers}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const mc = minioClient(server);

    // mc watch A/bucket --events put --prefix photos/  (no notification configuration needed)
    const url = await mc.presignedUrl('GET', bucket, '', 600, { events: ['s3:ObjectCreated:*'] as any, prefix: 'photos/', suffix: '' });
    const stream = await openStream(url);
    assert.equal(stream.res.statusCode, 200);
    assert.equal(stream.res.headers['content-type'], 'text/event-stream');
    assert.equal(stream.res.headers['cache-control'], 'no-cache');
    assert.equal(stream.res.headers['x-accel-buffering'], 'no');

    const all = await mc.presignedUrl('GET', bucket, '', 600, { events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectAccessed:*'] as any, prefix: '', suffix: '.jpg' });
    const jpgs = await openStream(all);

    // minio-js's listener (minio-go's shape) on the same bucket.
    const poller = mc.listenBucketNotification(bucket, 'photos/', '', ['s3:ObjectCreated:*']);
    const polled: any[] = [];
    poller.on('notification', (r) => polled.push(r));
    await sleep(700); // listeners registered on every worker (the count travels over the bus)

    const r1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photos/a b+c.jpg', Body: 'abc', ContentType: 'image/jpeg' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/x.jpg', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'photos/a b+c.jpg' }));
    const r2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photos/second', Body: '12345' }));

    await until(() => stream.records().length >= 2 && polled.length >= 2 && jpgs.records().length >= 3, 10_000, 'watched records');
    await sleep(700);
    const recs = stream.records();
    assert.deepEqual(recs.map((r) => `${r.eventName} ${r.s3.object.key}`), ['s3:ObjectCreated:Put photos/a b+c.jpg', 's3:ObjectCreated:Put photos/second']);
    assert.equal(recs[0].responseElements['x-amz-request-id'], r1.$metadata.requestId);
    assert.equal(recs[1].responseElements['x-amz-request-id'], r2.$metadata.requestId);
    assert.equal(recs[0].s3.object.size, 3);
    assert.equal(recs[0].s3.object.contentType, 'image/jpeg');
    assert.equal(recs[0].s3.bucket.name, bucket);
    assert.ok(/^ +\{/.test(stream.raw()) || stream.raw().includes(' '), 'keep-alive spaces are sent');
    for (const line of stream.raw().split('\n').map((l) => l.trim()).filter(Boolean)) assert.deepEqual(Object.keys(JSON.parse(line)), ['Records']);

    assert.deepEqual(jpgs.records().map((r) => `${r.eventName} ${r.s3.object.key}`), ['s3:ObjectCreated:Put photos/a b+c.jpg', 's3:ObjectCreated:Put other/x.jpg', 's3:ObjectRemoved:Delete photos/a b+c.jpg']);
    assert.deepEqual(polled.map((r) => r.s3.object.key), ['photos/a b+c.jpg', 'photos/second']);

    poller.stop();
    for (const s of [stream, jpgs]) s.close();
  });
}

test('ListenNotification (mc watch ALIAS, no bucket): bucket created events server-wide', async () => {
  const server = servers[0] ?? await startServer();
  if (!servers.includes(server)) servers.push(server);
  const s3 = server.s3();
  const bucket = 'e2e-listen-root';
  const root = presignRoot(server, [['events', 's3:BucketCreated'], ['events', 's3:BucketRemoved'], ['prefix', ''], ['suffix', '']]);
  const rootStream = await openStream(root);
  await sleep(700);
  assert.equal(rootStream.res.statusCode, 200, rootStream.raw());
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await until(() => rootStream.records().length >= 1, 10_000, 'bucket created record');
  assert.equal(rootStream.records()[0].eventName, 's3:BucketCreated');
  assert.equal(rootStream.records()[0].s3.bucket.name, bucket);
  rootStream.close();
});

test('listen requests with an unknown event or for a missing bucket are refused', async () => {
  const server = servers[0] ?? await startServer();
  if (!servers.includes(server)) servers.push(server);
  const mc = minioClient(server);
  const bucket = 'e2e-listen-bad';
  await server.s3().send(new CreateBucketCommand({ Bucket: bucket }));
  const bad = await openStream(await mc.presignedUrl('GET', bucket, '', 600, { events: ['s3:ObjectCreated:Teleport'] as any, prefix: '', suffix: '' }));
  await bad.ended;
  assert.equal(bad.res.statusCode, 400);
  assert.match(bad.raw(), /<Code>InvalidArgument<\/Code>/);
  const missing = await openStream(await mc.presignedUrl('GET', 'no-such-bucket-listen', '', 600, { events: ['s3:ObjectCreated:*'] as any, prefix: '', suffix: '' }));
  await missing.ended;
  assert.equal(missing.res.statusCode, 404);
  assert.match(missing.raw(), /NoSuchBucket/);
});
