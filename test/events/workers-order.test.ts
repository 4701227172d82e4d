/**
 * --workers 2 with a real server: a client that makes each change after the previous
 * one was answered, on a new connection each time (so the cluster's round robin hands
 * consecutive requests to different workers), gets its events delivered in that order,
 * each once: the workers' spools are merged by the events' stamps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer } from '../helpers/server.js';
import { freePort, startReceiver } from './fixtures/receiver.js';
import { until } from './e2e-helpers.js';

test('--workers 2: changes made one after the other reach the target in that order, whichever worker took each', async () => {
  const port = await freePort();
  const receiver = await startReceiver(port);
  const server = await startServer({ workers: 2, env: { S3GATE_LOG_LEVEL: 'debug', MINIO_NOTIFY_WEBHOOK_ENABLE_1: 'on', MINIO_NOTIFY_WEBHOOK_ENDPOINT_1: `http://127.0.0.1:${port}/` } });
  try {
    // keepAlive off: every request opens a connection, and connections alternate workers.
    const s3 = server.s3({ requestHandler: { httpAgent: new Agent({ keepAlive: false }) } });
    await s3.send(new CreateBucketCommand({ Bucket: 'ordered' }));
    await s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: 'ordered',
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:webhook', Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }] },
    }));
    const expected: string[] = [];
    const requestIds: string[] = [];
    for (let i = 0; i < 200; i++) {
      // The same few keys over and over: PUT then DELETE of a key must not swap.
      const key = `k${Math.floor(i / 2) % 5}`;
      const r = i % 2 === 0
        ? await s3.send(new PutObjectCommand({ Bucket: 'ordered', Key: key, Body: `v${i}` }))
        : await s3.send(new DeleteObjectCommand({ Bucket: 'ordered', Key: key }));
      expected.push(`${i % 2 === 0 ? 's3:ObjectCreated:Put' : 's3:ObjectRemoved:Delete'} ordered/${key}`);
      requestIds.push(r.$metadata.requestId!);
    }
    await until(() => receiver.bodies.length >= 200, 20_000, '200 events delivered');
    await new Promise((r) => setTimeout(r, 300)); // nothing more (no repeats without a crash)
    assert.deepEqual(receiver.bodies.map((b) => `${b.EventName} ${b.Key}`), expected);
    assert.deepEqual(receiver.bodies.map((b) => b.Records[0].responseElements['x-amz-request-id']), requestIds);

    // The test means something only if consecutive requests did go to different workers.
    const pidOf = new Map([...server.output().matchAll(/"msg":"request","pid":(\d+),"requestId":"([^"]+)"/g)].map((m) => [m[2], m[1]]));
    const pids = requestIds.map((id) => pidOf.get(id));
    assert.equal(new Set(pids).size, 2, 'both workers served the changes');
    const switches = pids.filter((p, i) => i > 0 && p !== pids[i - 1]).length;
    assert.ok(switches >= 50, `only ${switches} of 199 consecutive changes went to the other worker`);
  } finally {
    await server.stop();
    await receiver.close();
  }
});
