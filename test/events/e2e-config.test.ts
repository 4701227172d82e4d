/**
 * Bucket notification configuration through the real server with the AWS CLI
 * (put/get-bucket-notification-configuration) and with an mc-shaped body (minio-js,
 * which marshals like minio-go): round trip, and every refusal with its S3 error code,
 * leaving the stored configuration unchanged.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Minio from 'minio';
import { startServer, type TestServer } from '../helpers/server.js';
import { requireService } from '../helpers/services.js';
import { awsCli } from './e2e-helpers.js';

let server: TestServer;
const bucket = 'e2e-config';
const tmp = mkdtempSync(join(tmpdir(), 's3gate-e2e-config-'));

before(async () => {
  await requireService('redis');
  server = await startServer({
    env: {
      MINIO_NOTIFY_REDIS_ENABLE_1: 'on', MINIO_NOTIFY_REDIS_ADDRESS_1: '127.0.0.1:6379', MINIO_NOTIFY_REDIS_KEY_1: `e2e-config-${process.pid}`,
      S3GATE_NOTIFY_REDIS_ENABLE_acc: 'on', S3GATE_NOTIFY_REDIS_ADDRESS_acc: '127.0.0.1:6379', S3GATE_NOTIFY_REDIS_KEY_acc: `e2e-config-acc-${process.pid}`, S3GATE_NOTIFY_REDIS_FORMAT_acc: 'access',
    },
  });
  const r = await awsCli(server, ['s3api', 'create-bucket', '--bucket', bucket]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => { await server?.stop(); });

let n = 0;
async function putConfig(doc: unknown) {
  const file = join(tmp, `n${n++}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return awsCli(server, ['s3api', 'put-bucket-notification-configuration', '--bucket', bucket, '--notification-configuration', `file://${file}`]);
}

async function getConfig(): Promise<any> {
  const r = await awsCli(server, ['s3api', 'get-bucket-notification-configuration', '--bucket', bucket]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

function errorCode(stderr: string): string | undefined {
  return /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];
}

const rules = (prefix: string, suffix: string) => ({ Key: { FilterRules: [{ Name: 'prefix', Value: prefix }, { Name: 'suffix', Value: suffix }] } });

test('start-up prints the SQS ARNs of the configured targets', () => {
  const line = server.output().split('\n').find((l) => l.startsWith('SQS ARNs:'));
  assert.ok(line, `no SQS ARNs line in:\n${server.output()}`);
  assert.deepEqual(line.slice('SQS ARNs: '.length).split(' ').sort(), ['arn:minio:sqs:us-east-1:1:redis', 'arn:minio:sqs:us-east-1:acc:redis']);
});

test('aws s3api put/get-bucket-notification-configuration round trip (ARN region empty, as mc sends)', async () => {
  const doc = {
    QueueConfigurations: [
      { Id: 'jpgs', QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:Delete'], Filter: rules('photos/', '.jpg') },
      { QueueArn: 'arn:minio:sqs:us-east-1:acc:redis', Events: ['s3:ObjectAccessed:*'] },
    ],
  };
  const r = await putConfig(doc);
  assert.equal(r.code, 0, r.stderr);
  const got = await getConfig();
  assert.equal(got.QueueConfigurations.length, 2);
  const [a, b] = got.QueueConfigurations;
  assert.equal(a.Id, 'jpgs');
  assert.equal(a.QueueArn, 'arn:minio:sqs:us-east-1:1:redis', 'server region filled into the ARN, as MinIO does');
  assert.deepEqual(a.Events, ['s3:ObjectCreated:*', 's3:ObjectRemoved:Delete']);
  assert.deepEqual(a.Filter, rules('photos/', '.jpg'));
  assert.equal(b.QueueArn, 'arn:minio:sqs:us-east-1:acc:redis');
  assert.deepEqual(b.Events, ['s3:ObjectAccessed:*']);
  assert.equal(b.Filter, undefined);
});

test('refusals carry the S3 error codes and change nothing', async () => {
  const good = { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:Put'], Filter: rules('keep/', '') }] };
  assert.equal((await putConfig(good)).code, 0);
  const before = await getConfig();

  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['unknown target id', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::9:redis', Events: ['s3:ObjectCreated:*'] }] }, 'InvalidArgument', /destination ARN does not exist/],
    ['unknown target type', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:kafka', Events: ['s3:ObjectCreated:*'] }] }, 'InvalidArgument', /destination ARN/],
    ['malformed ARN', { QueueConfigurations: [{ QueueArn: 'arn:aws:sqs:us-east-1:1', Events: ['s3:ObjectCreated:*'] }] }, 'InvalidArgument', /destination ARN/],
    ['other region', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs:eu-west-1:1:redis', Events: ['s3:ObjectCreated:*'] }] }, 'InvalidArgument', /different region/],
    ['unknown event', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:Teleport'] }] }, 'InvalidArgument', /event is not supported/],
    ['identical configurations', { QueueConfigurations: [
      { QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'], Filter: rules('a/', '.jpg') },
      { QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'], Filter: rules('a/', '.jpg') },
    ] }, 'InvalidArgument', /overlapping prefixes/],
    ['overlapping events after wildcard expansion', { QueueConfigurations: [
      { QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'] },
      { QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:Put'] },
    ] }, 'InvalidArgument', /overlapping/],
    ['same event twice', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:Put', 's3:ObjectCreated:Put'] }] }, 'InvalidArgument', /Configurations overlap/],
    ['bad filter rule name', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'middle', Value: 'x' }] } } }] }, 'InvalidArgument', /prefix or suffix/],
    ['two prefixes', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }, { Name: 'prefix', Value: 'b/' }] } } }] }, 'InvalidArgument', /more than one prefix/],
    ['dot-dot filter value', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'], Filter: rules('a/../b/', '') }] }, 'InvalidArgument'],
    ['backslash filter value', { QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::1:redis', Events: ['s3:ObjectCreated:*'], Filter: rules('a\\b', '') }] }, 'InvalidArgument'],
    ['topic configuration', { TopicConfigurations: [{ TopicArn: 'arn:minio:sns::1:redis', Events: ['s3:ObjectCreated:*'] }] }, 'UnsupportedNotification'],
  ];
  // The CLI takes seconds to start: run the cases side by side.
  const results = await Promise.all(cases.map(([, doc]) => putConfig(doc)));
  for (const [i, [what, , code, message]] of cases.entries()) {
    const r = results[i];
    assert.notEqual(r.code, 0, `${what}: accepted`);
    assert.equal(errorCode(r.stderr), code, `${what}: ${r.stderr}`);
    if (message) assert.match(r.stderr, message, what);
  }
  assert.deepEqual(await getConfig(), before, 'a refused configuration leaves the stored one');

  const missing = await awsCli(server, ['s3api', 'put-bucket-notification-configuration', '--bucket', 'no-such-bucket-e2e', '--notification-configuration', JSON.stringify(good)]);
  assert.equal(errorCode(missing.stderr), 'NoSuchBucket');

  // The empty document clears it (what `mc event remove --force` sends).
  assert.equal((await putConfig({})).code, 0);
  assert.deepEqual(await getConfig(), {});
});

test('mc-shaped configuration (minio-go marshalling, no namespace) via minio-js', async () => {
  const client = new Minio.Client({ endPoint: '127.0.0.1', port: server.port, useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' });
  const config = new Minio.NotificationConfig();
  const q = new Minio.QueueConfig('arn:minio:sqs::1:redis');
  q.addEvent(Minio.ObjectCreatedAll);
  q.addEvent(Minio.ObjectRemovedAll);
  q.addFilterSuffix('.jpg');
  config.add(q);
  await client.setBucketNotification(bucket, config);
  const got: any = await client.getBucketNotification(bucket);
  assert.equal(got.QueueConfiguration.length, 1);
  assert.equal(got.QueueConfiguration[0].Queue, 'arn:minio:sqs:us-east-1:1:redis');
  assert.deepEqual(got.QueueConfiguration[0].Event, ['s3:ObjectCreated:*', 's3:ObjectRemoved:*']);
  // `mc event add --ignore-existing` relies on this exact refusal for a duplicate.
  await assert.rejects(client.setBucketNotification(bucket, (() => { const c = new Minio.NotificationConfig(); c.add(q); c.add(q); return c; })()),
    (e: any) => e.code === 'InvalidArgument' && /overlapping prefixes, overlapping suffixes/.test(e.message));
  await client.removeAllBucketNotification(bucket);
  assert.deepEqual(await getConfig(), {});
});
