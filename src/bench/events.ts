/**
 * Event notification overhead on PUT: the same PUT load (default 8 rounds of 5000 PUTs
 * of 4 KiB at concurrency 16, the server with as many workers as it has by default)
 * under key prefixes of ONE bucket of ONE s3gate server, one prefix per configuration
 * (--configs, the first is the baseline; default 0,redis,3), which the bucket's
 * notification rules filter on:
 *   0         no rules (the baseline)
 *   redis     Redis namespace (HSET per PUT); webhook, postgres: that target alone
 *   queue     a Redis target at a closed port: the cost of the durable queue alone
 *   queue3    three targets at closed ports
 *   3         Redis namespace + webhook (a receiver in a process of its own) + PostgreSQL namespace
 * One server for all: separate server processes with identical configurations differed
 * by up to 16 points of throughput over 8 rounds (process placement, JIT). One directory
 * for all: with a bucket per configuration, a configuration with a queue only came out
 * 7-14% faster than the baseline (on ext4 without a journal, where creating a file costs
 * more the more files were deleted in the last minutes near it). The server has every
 * target the configurations use; the data directory is under TMPDIR.
 * The targets' servers (Redis, PostgreSQL, the receiver) share the machine's cores with
 * s3gate and the load generator, so their CPU per event counts against PUT throughput.
 * Runs alternate between the configurations, in a new random order each round, so drift
 * hits all alike (this shared machine's speed drifts by tens of percent within a minute)
 * and no configuration always follows the same one (with a fixed rotation, the one after
 * the 3-target run came out up to 14% slower than an identical one elsewhere). Each run
 * is compared with the baseline run of the same round, and the median of those ratios
 * over the rounds is printed (the slowdown), with the median ops/s. After each run a
 * sentinel PUT is made and its arrival at every target is awaited: each queue is FIFO,
 * so that is the time the backlog took to drain, printed too; the CPU per PUT counts the
 * delivery of the run's events. Throughput is over the PUTs only, so what is delivered
 * after them (the last merge round and batch interval, up to 350 ms or so) is not in it:
 * runs are long enough (5000 PUTs, 3-7 s here) that this is a small part. Short runs
 * hide the delivery: with 200 PUTs (a tenth of a second) most of it came after the run,
 * and 3 targets cost 9-13% against 16-24% in runs of 1500 and more.
 *
 * Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (user postgres, db test).
 */
import { Command, Option } from 'commander';
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
import { cpuMsBetween, kernelThreadsCpu, machineCpuMs, pidsByCommand, processCpuMs, type CpuByPid } from './proc-cpu.js';
import { defaultWorkers } from '../server/options.js';

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
  eventsSync: string;
  configs: string;
}

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

/** A notify_* target of the server, by the id its ARN ends with. */
interface TargetSpec {
  arn: string;
  env: Record<string, string>;
  /** Has bucket/key reached it? Always true for a target that is down. */
  arrived(object: string): Promise<boolean>;
}

interface Config {
  name: string;
  targets: TargetSpec[];
}

interface Run {
  result: LoadResult;
  drainMs: number;
  /** PUTs counted (the run's and the sentinel), and the CPU milliseconds they took. */
  puts: number;
  machineCpuMs: number;
  /** CPU milliseconds of each process group, in processGroups() order (s3gate first). */
  groupCpuMs: number[];
}

/** Who the machine's CPU went to, so an event's cost splits into s3gate's and the targets' servers'. */
interface ProcessGroup {
  name: string;
  cpu(): CpuByPid;
}

const one = (pid: number, withChildren = true): CpuByPid => new Map([[pid, processCpuMs(pid, withChildren)]]);

/** The s3gate under test is the first group (primary and workers), then its primary alone. */
function processGroups(server: ServerUnderTest, sinks: Sinks, redisPid: number): ProcessGroup[] {
  return [
    { name: 's3gate', cpu: () => one(server.pid) },
    { name: 'of it primary', cpu: () => one(server.pid, false) },
    { name: 'redis', cpu: () => one(redisPid) },
    // backends come and go with connections; the postmaster's own work is not counted
    { name: 'postgres', cpu: () => new Map(pidsByCommand('postgres: ').map((pid) => [pid, processCpuMs(pid)])) },
    { name: 'webhook rcv', cpu: () => one(sinks.webhookPid) },
    { name: 'load gen', cpu: () => one(process.pid, false) },
    { name: 'kernel threads', cpu: kernelThreadsCpu },
  ];
}

/** A configuration's objects are the bucket's keys with this prefix (its rules' filter). */
interface Running { config: Config; prefix: string; runs: Run[] }

export function eventsBenchCommand(): Command {
  return new Command('events')
    .description('PUT throughput with 0, 1 and 3 notification targets attached (Redis, webhook, PostgreSQL)')
    .option('--count <n>', 'PUTs per run', '5000')
    .option('--concurrency <n>', 'concurrent PUTs', '16')
    .option('--size <bytes>', 'object size in bytes', '4096')
    .option('--rounds <n>', 'runs per configuration (alternating)', '8')
    .option('--workers <n>', 'worker processes of the s3gate (default: one per core, as the server)', String(defaultWorkers()))
    .option('--no-fsync', 'start the server with --no-fsync')
    .addOption(new Option('--events-sync <when>', 'the server\'s --events-sync').choices(['always', 'interval']).default('always'))
    .option('--configs <list>', 'configurations to compare, the first is the baseline: 0, redis, webhook, postgres, queue (a target that is down), queue3, 3', '0,redis,3')
    .action(async (o: EventsBenchOptions) => { await runEventsBench(o); });
}

/** The Redis server's pid, for charging it its CPU. */
export async function redisPid(sinks: Sinks): Promise<number> {
  const info = await sinks.redis.info('server');
  return Number(/process_id:(\d+)/.exec(info)?.[1]);
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
  const CLOSED = '9';
  const redis = (id: string, port: string): TargetSpec => ({
    arn: `arn:minio:sqs::${id}:redis`,
    env: { [`MINIO_NOTIFY_REDIS_ENABLE_${id}`]: 'on', [`MINIO_NOTIFY_REDIS_ADDRESS_${id}`]: `127.0.0.1:${port}`, [`MINIO_NOTIFY_REDIS_KEY_${id}`]: s.redisKey, [`MINIO_NOTIFY_REDIS_FORMAT_${id}`]: 'namespace' },
    arrived: async (o) => port === CLOSED || (await s.redis.hexists(s.redisKey, o)) === 1,
  });
  const webhook = (id: string, port?: string): TargetSpec => ({
    arn: `arn:minio:sqs::${id}:webhook`,
    env: { [`MINIO_NOTIFY_WEBHOOK_ENABLE_${id}`]: 'on', [`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${id}`]: port ? `http://127.0.0.1:${port}/` : s.webhookUrl },
    arrived: async (o) => port === CLOSED || s.webhookHas(o),
  });
  const postgres = (id: string, port: string): TargetSpec => ({
    arn: `arn:minio:sqs::${id}:postgresql`,
    env: {
      [`MINIO_NOTIFY_POSTGRES_ENABLE_${id}`]: 'on', [`MINIO_NOTIFY_POSTGRES_CONNECTION_STRING_${id}`]: `host=127.0.0.1 port=${port} user=postgres dbname=test sslmode=disable`,
      [`MINIO_NOTIFY_POSTGRES_TABLE_${id}`]: s.pgTable, [`MINIO_NOTIFY_POSTGRES_FORMAT_${id}`]: 'namespace',
    },
    arrived: async (o) => {
      if (port === CLOSED) return true;
      try { return (await s.pg.query(`SELECT 1 FROM ${s.pgTable} WHERE key = $1`, [o])).rowCount === 1; } catch { return false; }
    },
  });
  const up = { redis: redis('b', '6379'), webhook: webhook('b'), postgres: postgres('b', '5432') };
  // At a port nothing listens on: the cost of queueing alone (nothing is delivered).
  const down = { redis: redis('down', CLOSED), webhook: webhook('down', CLOSED), postgres: postgres('down', CLOSED) };
  const list: Array<[string, Config]> = [
    ['0', { name: '0 targets', targets: [] }],
    ['redis', { name: '1 target (redis)', targets: [up.redis] }],
    ['webhook', { name: '1 target (webhook)', targets: [up.webhook] }],
    ['postgres', { name: '1 target (postgres)', targets: [up.postgres] }],
    ['queue', { name: '1 queue only (target down)', targets: [down.redis] }],
    ['queue3', { name: '3 targets down (queue only)', targets: [down.redis, down.webhook, down.postgres] }],
    ['3', { name: '3 targets (redis+webhook+postgres)', targets: [up.redis, up.webhook, up.postgres] }],
  ];
  return new Map(list);
}

/** Starts the server with the notify_* env of every target used (the bench CLI passes its env through). */
async function startWith(targets: TargetSpec[], dataDir: string, o: EventsBenchOptions): Promise<ServerUnderTest> {
  const env = Object.assign({}, ...targets.map((t) => t.env)) as Record<string, string>;
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await startS3gate(dataDir, { workers: Math.max(1, parseInt(o.workers, 10)), fsync: o.fsync, extraArgs: ['--events-sync', o.eventsSync] });
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  }
}

/** One QueueConfiguration per target of each configuration, filtered on the configuration's key prefix. */
async function putNotification(ep: S3Endpoint, running: Running[]): Promise<void> {
  const rules = running.flatMap((r) => r.config.targets.map((t) => `<QueueConfiguration><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event><Queue>${t.arn}</Queue><Filter><S3Key><FilterRule><Name>prefix</Name><Value>${r.prefix}</Value></FilterRule></S3Key></Filter></QueueConfiguration>`));
  const body = `<NotificationConfiguration>${rules.join('')}</NotificationConfiguration>`;
  const url = new URL(`http://${ep.host}:${ep.port}/${BUCKET}?notification=`);
  const headers = signRequest({ method: 'PUT', url, headers: {}, accessKey: ep.accessKey, secretKey: ep.secretKey, region: ep.region, service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
  const res = await fetch(url, { method: 'PUT', headers, body });
  if (!res.ok) throw new Error(`PutBucketNotificationConfiguration failed: HTTP ${res.status} ${await res.text()}`);
}

/**
 * Waits until the object reached every target, asking each one until it has it, every
 * 20 ms: the asking is the load generator's CPU, which the machine column counts.
 */
async function waitForArrival(targets: TargetSpec[], object: string, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  let missing = targets;
  for (;;) {
    const arrived = await Promise.all(missing.map((t) => t.arrived(object)));
    missing = missing.filter((_, i) => !arrived[i]);
    if (missing.length === 0) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const BUCKET = 'bench';
/** Pause before each run. */
const SETTLE_MS = 250;

function shuffled<T>(xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
let sentinels = 0;
/** One run: `count` PUTs under the configuration's prefix, then its backlog delivered. */
async function measure(ep: S3Endpoint, groups: ProcessGroup[], r: Running, o: EventsBenchOptions, body: Buffer): Promise<Run> {
  const keyspace = 1024;
  const machine0 = machineCpuMs();
  const groups0 = groups.map((g) => g.cpu());
  const result = await runLoad({
    host: ep.host, port: ep.port, concurrency: parseInt(o.concurrency, 10), durationMs: 600_000, maxOps: parseInt(o.count, 10),
    next: (n) => s3Put(ep, `/${BUCKET}/${r.prefix}${n % keyspace}`, body),
  });
  const count = result.ops;
  if (result.errors) throw new Error(`${r.config.name}: ${result.errors} errors, first: ${result.firstError}`);
  const t = performance.now();
  const key = `${r.prefix}sentinel-${sentinels++}`;
  const done = await runLoad({ host: ep.host, port: ep.port, concurrency: 1, durationMs: 60_000, maxOps: 1, next: () => s3Put(ep, `/${BUCKET}/${key}`, body) });
  if (done.errors) throw new Error(`${r.config.name}: sentinel PUT failed: ${done.firstError}`);
  const object = `${BUCKET}/${key}`;
  await waitForArrival(r.config.targets, object, 120_000, `${r.config.name}: delivery of the backlog`);
  return {
    result, drainMs: performance.now() - t, puts: count + 1, machineCpuMs: machineCpuMs() - machine0,
    groupCpuMs: groups.map((g, i) => cpuMsBetween(groups0[i], g.cpu())),
  };
}

/** The value a fraction `q` of the way up the sorted values (0.5: the median). */
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * q))]; };
const median = (xs: number[]) => quantile(xs, 0.5);
const opsPerSec = (x: LoadResult) => x.ops / (x.elapsedMs / 1000);

export async function runEventsBench(o: EventsBenchOptions): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 's3gate-bench-events-'));
  const sinks = await startSinks();
  let server: ServerUnderTest | undefined;
  try {
    const known = configs(sinks);
    const chosen = o.configs.split(',').map((n) => {
      const c = known.get(n.trim());
      if (!c) throw new Error(`unknown configuration '${n}' (known: ${[...known.keys()].join(', ')})`);
      return c;
    });
    server = await startWith([...new Set(chosen.flatMap((c) => c.targets))], join(work, 'data'), o);
    const ep: S3Endpoint = { host: '127.0.0.1', port: server.port, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' };
    const running: Running[] = [];
    for (const [i, config] of chosen.entries()) running.push({ config, prefix: `c${i}-`, runs: [] });
    await ensureBucket(ep, BUCKET);
    await putNotification(ep, running);
    const body = randomBytes(parseInt(o.size, 10));
    process.stdout.write(`s3gate events bench: ${o.count} PUTs of ${o.size} B at concurrency ${o.concurrency} per run, one key prefix per configuration, ${o.rounds} alternating rounds, ${o.workers} worker(s), fsync ${o.fsync ? `on, events sync ${o.eventsSync}` : 'off'}\n`);
    // Warm-up (JIT, connections, table creation), not counted.
    const groups = processGroups(server, sinks, await redisPid(sinks));
    for (const r of running) await measure(ep, groups, r, { ...o, count: '300' }, body);
    const rounds = Math.max(1, parseInt(o.rounds, 10));
    for (let round = 0; round < rounds; round++) {
      for (const r of shuffled(running)) {
        // The targets' servers finish what the last run left them (WAL, checkpoints).
        await new Promise((ok) => setTimeout(ok, SETTLE_MS));
        const last = await measure(ep, groups, r, o, body);
        r.runs.push(last);
        process.stderr.write(`  round ${round + 1} ${r.config.name}: ${opsPerSec(last.result).toFixed(0)} ops/s, p50 ${last.result.p50Ms.toFixed(2)} ms, p99 ${last.result.p99Ms.toFixed(2)} ms, backlog drained ${last.drainMs.toFixed(0)} ms after the run, server CPU ${((serverCpuMs(last) * 1000) / last.puts).toFixed(0)} us/PUT, machine CPU ${((last.machineCpuMs * 1000) / last.puts).toFixed(0)} us/PUT\n`);
      }
    }
    printSummary(running);
    printCpuByProcess(running, groups);
  } finally {
    await server?.stop();
    await sinks.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const serverCpuMs = (x: Run) => x.groupCpuMs[0];

/**
 * CPU microseconds per PUT over all of a configuration's runs (the /proc clock ticks every
 * 10 ms, too coarse for one short run), and its difference from the baseline's: what an
 * event costs that process, or the machine.
 */
function cpuPerPut(r: Running, base: Running, pick: (x: Run) => number): string {
  const perPut = (x: Running) => (x.runs.reduce((a, y) => a + pick(y), 0) * 1000) / x.runs.reduce((a, y) => a + y.puts, 0);
  const own = perPut(r);
  const delta = own - perPut(base);
  return `${own.toFixed(0)} (${r === base ? '-' : `${delta >= 0 ? '+' : ''}${delta.toFixed(0)}`})`;
}

function printSummary(running: Running[]): void {
  // Each figure against the baseline of the same round, then the median over rounds:
  // the machine's speed drifts (shared host) far more within a run than between
  // neighbouring runs.
  const base = running[0];
  const ratios = (r: Running, pick: (x: Run) => number) => r.runs.map((x, i) => pick(x) / pick(base.runs[i]));
  const ratio = (r: Running, pick: (x: Run) => number) => median(ratios(r, pick));
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  // The middle half of the per-round ratios shows how far this run's figure can be trusted.
  const middleHalf = (r: Running) => {
    const xs = ratios(r, (x) => opsPerSec(x.result));
    return `${pct(quantile(xs, 0.25) - 1)}..${pct(quantile(xs, 0.75) - 1)}`;
  };
  process.stdout.write('\nconfiguration                        ops/s (median)  throughput vs 0  (middle half of rounds)  p99 ms  drain ms  server CPU us/PUT (+event)  machine CPU us/PUT (+event)\n');
  for (const r of running) {
    const first = r === running[0];
    const cols = [
      r.config.name.padEnd(37) + median(r.runs.map((x) => opsPerSec(x.result))).toFixed(0).padStart(14),
      (first ? '-' : pct(ratio(r, (x) => opsPerSec(x.result)) - 1)).padStart(15),
      (first ? '-' : middleHalf(r)).padStart(23),
      median(r.runs.map((x) => x.result.p99Ms)).toFixed(2).padStart(6),
      median(r.runs.map((x) => x.drainMs)).toFixed(0).padStart(8),
      cpuPerPut(r, base, serverCpuMs).padStart(12).padEnd(17),
      cpuPerPut(r, base, (x) => x.machineCpuMs).padStart(12),
    ];
    process.stdout.write(cols.join('  ') + '\n');
  }
}

/** Machine CPU per PUT by process group, with the difference from the baseline (what the event costs each). */
function printCpuByProcess(running: Running[], groups: ProcessGroup[]): void {
  const columns = [...groups.map((g, i) => ({ name: g.name, pick: (x: Run) => x.groupCpuMs[i] })),
    // the primary is in s3gate already
    { name: 'kernel+other', pick: (x: Run) => x.machineCpuMs - x.groupCpuMs.reduce((a, b, i) => a + (i === 1 ? 0 : b), 0) }];
  process.stdout.write(`\nmachine CPU per PUT by process, us (difference from ${running[0].config.name})\n${'configuration'.padEnd(37)}${columns.map((c) => c.name.padStart(16)).join('')}\n`);
  for (const r of running) {
    const cells = columns.map((c) => cpuPerPut(r, running[0], c.pick).padStart(16));
    process.stdout.write(r.config.name.padEnd(37) + cells.join('') + '\n');
  }
}
