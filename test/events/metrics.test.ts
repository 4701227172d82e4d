/**
 * The Prometheus endpoint's notification metrics, scraped from the real server with the
 * token `s3gate admin prometheus generate` prints: a target that delivers to the real
 * Redis, and one that is down with queue_limit 3, so its overflow shows as skipped events.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { startServer, type TestServer } from '../helpers/server.js';
import { closedPort, requireService } from '../helpers/services.js';
import { runAdminCli, runAliasCli } from '../../src/cli/admin/index.js';
import { prometheusToken } from '../../src/cli/admin/prometheus.js';
import { closeArgon2Pool } from '../../src/admin/madmin/argon2-derive.js';
import { until } from './e2e-helpers.js';
import { runCliOk, type CliEntry } from '../helpers/admin-cli.js';

const KEY = `metrics-test-${process.pid}`;
const bucket = 'metrics-bucket';
let server: TestServer;
let redis: Redis;
let dir: string;
let env: NodeJS.ProcessEnv;

const cli = (fn: CliEntry, ...argv: string[]) => runCliOk(fn, env, argv);

before(async () => {
  await requireService('redis');
  redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  await redis.connect();
  dir = mkdtempSync(join(tmpdir(), 's3gate-metrics-'));
  env = { S3GATE_CONFIG_DIR: join(dir, 'cfg') };
  server = await startServer({
    env: {
      MINIO_NOTIFY_REDIS_ENABLE_ok: 'on', MINIO_NOTIFY_REDIS_ADDRESS_ok: '127.0.0.1:6379', MINIO_NOTIFY_REDIS_KEY_ok: KEY, MINIO_NOTIFY_REDIS_FORMAT_ok: 'namespace',
      MINIO_NOTIFY_REDIS_ENABLE_down: 'on', MINIO_NOTIFY_REDIS_ADDRESS_down: `127.0.0.1:${await closedPort()}`, MINIO_NOTIFY_REDIS_KEY_down: KEY, MINIO_NOTIFY_REDIS_QUEUE_LIMIT_down: '3',
    },
  });
  const s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketNotificationConfigurationCommand({
    Bucket: bucket,
    NotificationConfiguration: { QueueConfigurations: [
      { QueueArn: 'arn:minio:sqs::ok:redis', Events: ['s3:ObjectCreated:*'] },
      { QueueArn: 'arn:minio:sqs::down:redis', Events: ['s3:ObjectCreated:*'] },
    ] },
  }));
  for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: `body ${i}` }));
  await cli(runAliasCli, 'set', 'local', server.url, server.accessKey, server.secretKey);
});

after(async () => {
  await server?.stop();
  await redis?.del(KEY);
  redis?.disconnect();
  await closeArgon2Pool();
  rmSync(dir, { recursive: true, force: true });
});

const scrape = (token?: string) => fetch(`${server.url}/minio/v2/metrics/cluster`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The value of one sample line, e.g. sample(text, 'minio_notify_events_sent_total'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('the token from `admin prometheus generate` scrapes notification metrics with MinIO names and labels', async () => {
  const config = await cli(runAdminCli, 'prometheus', 'generate', 'local');
  assert.match(config, /^scrape_configs:\n- job_name: local-job\n {2}bearer_token: \S+\n {2}metrics_path: \/minio\/v2\/metrics\/cluster\n {2}scheme: http\n/);
  assert.ok(config.includes(`  - targets: ['127.0.0.1:${server.port}']`), config);
  const token = /bearer_token: (\S+)/.exec(config)![1];

  await until(async () => (await redis.hlen(KEY)) === 5, 10_000, 'the 5 events in Redis');
  const text = await until(async () => {
    const t = await (await scrape(token)).text();
    return sample(t, 'minio_notify_events_sent_total') === 5 && t;
  }, 10_000, 'events_sent_total 5');
  const res = await scrape(token);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.ok(text.includes('# TYPE minio_notify_target_queue_length gauge\n'), text);
  assert.ok(text.includes('# TYPE minio_notify_events_skipped_total counter\n'), text);
  const down = '{target_id="down",target_name="redis"}';
  const ok = '{target_id="ok",target_name="redis"}';
  assert.equal(sample(text, `minio_notify_target_queue_length${down}`), 3, text);
  assert.equal(sample(text, `minio_notify_target_queue_length${ok}`), 0, text);
  assert.equal(sample(text, `minio_notify_target_total_events${down}`), 3, text);
  assert.equal(sample(text, `minio_notify_target_total_events${ok}`), 5, text);
  assert.equal(sample(text, `minio_notify_target_failed_events${down}`), 2, text);
  assert.equal(sample(text, 'minio_notify_events_skipped_total'), 2, text);
  assert.equal(sample(text, 'minio_notify_events_errors_total'), 2, text);
});

test('scraping is refused without a token, with a bad one, and for a user without admin:Prometheus', async () => {
  const denied = async (token: string | undefined, why: string) => {
    const res = await scrape(token);
    assert.equal(res.status, 403, why);
    assert.match(await res.text(), /<Code>AccessDenied<\/Code>/, why);
  };
  await denied(undefined, 'no token');
  await denied(await prometheusToken(server.accessKey, 'not-the-secret'), 'signed with the wrong secret');
  await denied(await prometheusToken('nobody', 'whatever'), 'unknown access key');
  await denied(await prometheusToken(server.accessKey, server.secretKey, Date.now() - 101 * 365 * 24 * 3600 * 1000), 'expired');

  await cli(runAdminCli, 'user', 'add', 'local', 'scraper', 'scraper-secret-1');
  await cli(runAdminCli, 'policy', 'attach', 'local', 'readwrite', '--user', 'scraper');
  await denied(await prometheusToken('scraper', 'scraper-secret-1'), 'readwrite has no admin:Prometheus');
  await cli(runAdminCli, 'policy', 'attach', 'local', 'diagnostics', '--user', 'scraper');
  const res = await scrape(await prometheusToken('scraper', 'scraper-secret-1'));
  assert.equal(res.status, 200);
  assert.ok((await res.text()).includes('minio_notify_events_sent_total'));
});

test('MINIO_PROMETHEUS_AUTH_TYPE=public needs no token; another value stops the server at start-up', async () => {
  const open = await startServer({ env: { MINIO_PROMETHEUS_AUTH_TYPE: 'public' } });
  try {
    const res = await fetch(`${open.url}/minio/v2/metrics/cluster`);
    assert.equal(res.status, 200);
    assert.equal(sample(await res.text(), 'minio_notify_events_sent_total'), 0);
  } finally {
    await open.stop();
  }
  await assert.rejects(startServer({ env: { MINIO_PROMETHEUS_AUTH_TYPE: 'bearer' } }), /invalid MINIO_PROMETHEUS_AUTH_TYPE 'bearer' \(use jwt or public\)/);
});
