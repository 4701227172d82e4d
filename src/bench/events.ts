/**
 * Event notification overhead on PUT: the same PUT load (default 15 rounds of 300 PUTs
 * of 4 KiB at concurrency 16) against s3gate servers started side by side on temp dirs,
 * one per configuration (--configs, the first is the baseline; default 0,redis,3):
 *   0         no notify_* target, no bucket rules (the baseline)
 *   redis     Redis namespace (HSET per PUT); webhook, postgres: that target alone
 *   queue     a Redis target at a closed port: the cost of the durable queue alone
 *   queue3    three targets at closed ports
 *   3         Redis namespace + webhook (a receiver in a process of its own) + PostgreSQL namespace
 * The targets' servers (Redis, PostgreSQL, the receiver) share the machine's cores with
 * s3gate and the load generator, so their CPU per event counts against PUT throughput.
 * Runs alternate between the configurations (order rotated each round) so drift hits all
 * alike; short runs and many rounds, because this shared machine's speed drifts by tens
 * of percent within a minute. Even so, repeated invocations on the same code differed by
 * 10-15 points. Each run is compared with the baseline run of the same round, and the
 * median of those ratios over the rounds is printed (the slowdown), with the median ops/s.
 * After each run a sentinel PUT is made and its arrival at every target is awaited:
 * each queue is FIFO, so that is the time the backlog took to drain, printed too
 * (delivery must keep up, or a long run would only be measuring queue appends).
 *
 * --together loads every server at once instead, for the same 1.5 s window each round:
 * then each server's own CPU per PUT is measured under the same machine conditions,
 * while ops/s become shares of one machine. Two identical servers in one such run
 * differed by 2-8 points of server CPU per PUT; repeated sequential runs by 10 and more.
 *
 * Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (user postgres, db test).
 */
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { signRequest } from '../auth/sigv4.js';
import { runLoad, type LoadResult } from './load.js';
import { ensureBucket, s3Put, type S3Endpoint } from './s3-requests.js';
import { startS3gate, type ServerUnderTest } from './server-process.js';
import { machineCpuMs, processCpuMs } from './proc-cpu.js';

const BUCKET = 'bench';

const WEBHOOK_RECEIVER = `
const keys = new Set();
const server = require('node:http').createServer((req, res) => {
  if (req.method === 'GET') return res.end(keys.has(decodeURIComponent(req.url.slice(1))) ? '1' : '0');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try { keys.add(JSON.parse(Buffer.concat(chunks).toString()).Key); } catch { /* answered anyway */ }
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

interface EventsBenchOptions {
  count: string;
  concurrency: string;
  size: string;
  rounds: string;
  workers: string;
  fsync: boolean;
  configs: string;
  together: boolean;
}

/** --together: how long every server is loaded at once in a round. */
const TOGETHER_WINDOW_MS = 1500;

export interface Sinks {
  redisKey: string;
  pgTable: string;
  webhookUrl: string;
  /** The webhook receiver's process. */
  webhookPid: number;
  redis: Redis;
  pg: pg.Client;
  /** Has the webhook receiver been sent this bucket/key? */
  webhookHas(key: string): Promise<boolean>;
  close(): Promise<void>;
}

interface Config {
  name: string;
  env: Record<string, string>;
  arns: string[];
  /** Has the object key bucket/<key> reached every target of this config? */
  arrived(key: string): Promise<boolean>;
}

interface Running { config: Config; server: ServerUnderTest; ep: S3Endpoint; runs: Array<{ result: LoadResult; drainMs: number; cpuUsPerPut: number; machineUsPerPut: number }> }

export function eventsBenchCommand(): Command {
  return new Command('events')
    .description('PUT throughput with 0, 1 and 3 notification targets attached (Redis, webhook, PostgreSQL)')
    .option('--count <n>', 'PUTs per run', '300')
    .option('--concurrency <n>', 'concurrent PUTs', '16')
    .option('--size <bytes>', 'object size in bytes', '4096')
    .option('--rounds <n>', 'runs per configuration (alternating)', '15')
    .option('--workers <n>', 'worker processes of each s3gate', '1')
    .option('--no-fsync', 'start the servers with --no-fsync')
    .option('--together', 'load all configurations at once in each round (1.5 s windows): each server\'s CPU per PUT is then measured under the same machine conditions; ops/s become shares of one machine')
    .option('--configs <list>', 'configurations to compare, the first is the baseline: 0, redis, webhook, postgres, queue (a target that is down), queue3, 3', '0,redis,3')
    .action(async (o: EventsBenchOptions) => { await runEventsBench(o); });
}

export async function startSinks(): Promise<Sinks> {
  const tag = `${process.pid}`;
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  await redis.connect().catch((e) => { throw new Error(`Redis on 127.0.0.1:6379 is needed (apt-get install redis-server): ${e.message}`); });
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await client.connect().catch((e) => { throw new Error(`PostgreSQL on 127.0.0.1:5432 (user postgres, db test) is needed (apt-get install postgresql): ${e.message}`); });
  // Its own process, as a real receiver would be: in this one it would steal the load
  // generator's event loop. GET /<bucket/key> answers whether that key was posted.
  const hook = spawn(process.execPath, ['-e', WEBHOOK_RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const hookPort = await new Promise<number>((ok, fail) => {
    hook.stdout!.once('data', (d) => ok(Number(String(d).trim())));
    hook.once('exit', (code) => fail(new Error(`webhook receiver exited (${code})`)));
  });
  const webhookUrl = `http://127.0.0.1:${hookPort}/`;
  const sinks: Sinks = {
    redisKey: `bench-events-${tag}`, pgTable: `bench_events_${tag}`,
    webhookUrl, webhookPid: hook.pid!, redis, pg: client,
    webhookHas: async (key) => (await (await fetch(webhookUrl + encodeURIComponent(key))).text()) === '1',
    async close() {
      await redis.del(sinks.redisKey).catch(() => {});
      redis.disconnect();
      await client.query(`DROP TABLE IF EXISTS ${sinks.pgTable}`).catch(() => {});
      await client.end();
      hook.kill();
    },
  };
  return sinks;
}

/** The configurations the bench can compare, by the name --configs takes. */
function configs(s: Sinks): Map<string, Config> {
  const redisEnv = { MINIO_NOTIFY_REDIS_ENABLE_b: 'on', MINIO_NOTIFY_REDIS_ADDRESS_b: '127.0.0.1:6379', MINIO_NOTIFY_REDIS_KEY_b: s.redisKey, MINIO_NOTIFY_REDIS_FORMAT_b: 'namespace' };
  const webhookEnv = { MINIO_NOTIFY_WEBHOOK_ENABLE_b: 'on', MINIO_NOTIFY_WEBHOOK_ENDPOINT_b: s.webhookUrl };
  const pgEnv = {
    MINIO_NOTIFY_POSTGRES_ENABLE_b: 'on', MINIO_NOTIFY_POSTGRES_CONNECTION_STRING_b: 'host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable',
    MINIO_NOTIFY_POSTGRES_TABLE_b: s.pgTable, MINIO_NOTIFY_POSTGRES_FORMAT_b: 'namespace',
  };
  const inRedis = async (k: string) => (await s.redis.hexists(s.redisKey, `${BUCKET}/${k}`)) === 1;
  const inWebhook = (k: string) => s.webhookHas(`${BUCKET}/${k}`);
  const inPg = async (k: string) => {
    try { return (await s.pg.query(`SELECT 1 FROM ${s.pgTable} WHERE key = $1`, [`${BUCKET}/${k}`])).rowCount === 1; } catch { return false; }
  };
  const list: Array<[string, Config]> = [
    ['0', { name: '0 targets', env: {}, arns: [], arrived: async () => true }],
    ['redis', { name: '1 target (redis)', env: redisEnv, arns: ['arn:minio:sqs::b:redis'], arrived: inRedis }],
    ['webhook', { name: '1 target (webhook)', env: webhookEnv, arns: ['arn:minio:sqs::b:webhook'], arrived: inWebhook }],
    ['postgres', { name: '1 target (postgres)', env: pgEnv, arns: ['arn:minio:sqs::b:postgresql'], arrived: inPg }],
    // Redis at a port nothing listens on: the cost of queueing alone (nothing is delivered).
    ['queue', { name: '1 queue only (target down)', env: { ...redisEnv, MINIO_NOTIFY_REDIS_ADDRESS_b: '127.0.0.1:9' }, arns: ['arn:minio:sqs::b:redis'], arrived: async () => true }],
    ['queue3', {
      name: '3 targets down (queue only)',
      env: { ...redisEnv, ...webhookEnv, ...pgEnv, MINIO_NOTIFY_REDIS_ADDRESS_b: '127.0.0.1:9', MINIO_NOTIFY_WEBHOOK_ENDPOINT_b: 'http://127.0.0.1:9/', MINIO_NOTIFY_POSTGRES_CONNECTION_STRING_b: 'host=127.0.0.1 port=9 user=postgres dbname=test sslmode=disable' },
      arns: ['arn:minio:sqs::b:redis', 'arn:minio:sqs::b:webhook', 'arn:minio:sqs::b:postgresql'], arrived: async () => true,
    }],
    ['3', {
      name: '3 targets (redis+webhook+postgres)',
      env: { ...redisEnv, ...webhookEnv, ...pgEnv },
      arns: ['arn:minio:sqs::b:redis', 'arn:minio:sqs::b:webhook', 'arn:minio:sqs::b:postgresql'],
      arrived: async (k) => (await inRedis(k)) && (await inWebhook(k)) && (await inPg(k)),
    }],
  ];
  return new Map(list);
}

/** Starts the server under test with the config's notify_* env (the bench CLI passes its env through). */
async function startWith(config: Config, dataDir: string, o: EventsBenchOptions): Promise<ServerUnderTest> {
  const saved = { ...process.env };
  Object.assign(process.env, config.env);
  try {
    return await startS3gate(dataDir, { workers: Math.max(1, parseInt(o.workers, 10)), fsync: o.fsync });
  } finally {
    for (const k of Object.keys(config.env)) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  }
}

async function putNotification(ep: S3Endpoint, arns: string[]): Promise<void> {
  if (arns.length === 0) return;
  const body = `<NotificationConfiguration>${arns.map((a) => `<QueueConfiguration><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event><Queue>${a}</Queue></QueueConfiguration>`).join('')}</NotificationConfiguration>`;
  const path = `/${BUCKET}?notification=`;
  const url = new URL(`http://${ep.host}:${ep.port}${path}`);
  const headers = signRequest({ method: 'PUT', url, headers: {}, accessKey: ep.accessKey, secretKey: ep.secretKey, region: ep.region, service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
  const res = await fetch(url, { method: 'PUT', headers, body });
  if (!res.ok) throw new Error(`PutBucketNotificationConfiguration failed: HTTP ${res.status} ${await res.text()}`);
}

async function waitFor(probe: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let sentinels = 0;
/** One run: `count` PUTs, or as many as fit in `windowMs` when that is given. */
async function measure(r: Running, o: EventsBenchOptions, body: Buffer, windowMs?: number): Promise<void> {
  const keyspace = 1024;
  const cpu0 = processCpuMs(r.server.pid);
  const machine0 = machineCpuMs();
  const result = await runLoad({
    host: r.ep.host, port: r.ep.port, concurrency: parseInt(o.concurrency, 10),
    durationMs: windowMs ?? 600_000, maxOps: windowMs ? Number.MAX_SAFE_INTEGER : parseInt(o.count, 10),
    next: (n) => s3Put(r.ep, `/${BUCKET}/obj/${n % keyspace}`, body),
  });
  const count = result.ops;
  if (result.errors) throw new Error(`${r.config.name}: ${result.errors} errors, first: ${result.firstError}`);
  const t = performance.now();
  const key = `sentinel-${sentinels++}`;
  const done = await runLoad({ host: r.ep.host, port: r.ep.port, concurrency: 1, durationMs: 60_000, maxOps: 1, next: () => s3Put(r.ep, `/${BUCKET}/${key}`, body) });
  if (done.errors) throw new Error(`${r.config.name}: sentinel PUT failed: ${done.firstError}`);
  await waitFor(() => r.config.arrived(key), 120_000, `${r.config.name}: delivery of the backlog`);
  r.runs.push({ result, drainMs: performance.now() - t, cpuUsPerPut: ((processCpuMs(r.server.pid) - cpu0) * 1000) / (count + 1), machineUsPerPut: ((machineCpuMs() - machine0) * 1000) / (count + 1) });
}

/** The value a fraction `q` of the way up the sorted values (0.5: the median). */
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * q))]; };
const median = (xs: number[]) => quantile(xs, 0.5);
const opsPerSec = (x: LoadResult) => x.ops / (x.elapsedMs / 1000);

export async function runEventsBench(o: EventsBenchOptions): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 's3gate-bench-events-'));
  const sinks = await startSinks();
  const running: Running[] = [];
  try {
    const known = configs(sinks);
    const chosen = o.configs.split(',').map((n) => {
      const c = known.get(n.trim());
      if (!c) throw new Error(`unknown configuration '${n}' (known: ${[...known.keys()].join(', ')})`);
      return c;
    });
    for (const [i, config] of chosen.entries()) {
      const server = await startWith(config, join(work, `data-${i}`), o);
      const ep: S3Endpoint = { host: '127.0.0.1', port: server.port, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' };
      running.push({ config, server, ep, runs: [] });
      await ensureBucket(ep, BUCKET);
      await putNotification(ep, config.arns);
    }
    const body = randomBytes(parseInt(o.size, 10));
    const shape = o.together ? `all servers loaded at once for ${TOGETHER_WINDOW_MS} ms` : `${o.count} PUTs`;
    process.stdout.write(`s3gate events bench: ${shape} of ${o.size} B at concurrency ${o.concurrency} each, ${o.rounds} ${o.together ? '' : 'alternating '}rounds, ${o.workers} worker(s), fsync ${o.fsync ? 'on' : 'off'}\n`);
    // Warm-up (JIT, connections, table creation), not counted.
    for (const r of running) { await measure(r, { ...o, count: '300' }, body); r.runs.length = 0; }
    const rounds = Math.max(1, parseInt(o.rounds, 10));
    const report = (round: number, r: Running) => {
      const last = r.runs[r.runs.length - 1];
      process.stderr.write(`  round ${round + 1} ${r.config.name}: ${opsPerSec(last.result).toFixed(0)} ops/s, p50 ${last.result.p50Ms.toFixed(2)} ms, p99 ${last.result.p99Ms.toFixed(2)} ms, backlog drained ${last.drainMs.toFixed(0)} ms after the run, server CPU ${last.cpuUsPerPut.toFixed(0)} us/PUT, machine CPU ${last.machineUsPerPut.toFixed(0)} us/PUT\n`);
    };
    for (let round = 0; round < rounds; round++) {
      if (o.together) {
        await Promise.all(running.map((r) => measure(r, o, body, TOGETHER_WINDOW_MS)));
        for (const r of running) report(round, r);
        continue;
      }
      for (let j = 0; j < running.length; j++) {
        const r = running[(round + j) % running.length];
        await measure(r, o, body);
        report(round, r);
      }
    }
    // Each figure against the baseline of the same round, then the median over rounds:
    // the machine's speed drifts (shared host) far more within a run than between
    // neighbouring runs.
    const base = running[0].runs;
    const ratios = (r: Running, pick: (x: Running['runs'][number]) => number) => r.runs.map((x, i) => pick(x) / pick(base[i]));
    const ratio = (r: Running, pick: (x: Running['runs'][number]) => number) => median(ratios(r, pick));
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
    // The middle half of the per-round ratios shows how far this run's figure can be trusted.
    const middleHalf = (r: Running) => {
      const xs = ratios(r, (x) => opsPerSec(x.result));
      return `${pct(quantile(xs, 0.25) - 1)}..${pct(quantile(xs, 0.75) - 1)}`;
    };
    process.stdout.write('\nconfiguration                        ops/s (median)  throughput vs 0  (middle half of rounds)  p99 ms  drain ms  server CPU us/PUT  machine CPU us/PUT\n');
    for (const r of running) {
      const first = r === running[0];
      const m = median(r.runs.map((x) => opsPerSec(x.result)));
      const cpu = median(r.runs.map((x) => x.cpuUsPerPut));
      const machine = median(r.runs.map((x) => x.machineUsPerPut));
      const cols = [
        r.config.name.padEnd(37) + m.toFixed(0).padStart(14),
        (first ? '-' : pct(ratio(r, (x) => opsPerSec(x.result)) - 1)).padStart(15),
        (first ? '-' : middleHalf(r)).padStart(23),
        median(r.runs.map((x) => x.result.p99Ms)).toFixed(2).padStart(6),
        median(r.runs.map((x) => x.drainMs)).toFixed(0).padStart(8),
        `${cpu.toFixed(0).padStart(6)} (${first ? '-' : pct(ratio(r, (x) => x.cpuUsPerPut) - 1)})`.padEnd(17),
        // Together, the machine's CPU is everyone's: no per-configuration figure.
        o.together ? '     -' : `${machine.toFixed(0).padStart(6)} (${first ? '-' : pct(ratio(r, (x) => x.machineUsPerPut) - 1)})`,
      ];
      process.stdout.write(cols.join('  ') + '\n');
    }
  } finally {
    await Promise.all(running.map((r) => r.server.stop()));
    await sinks.close();
    rmSync(work, { recursive: true, force: true });
  }
}
