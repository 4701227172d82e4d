/**
 * `s3gate bench event-costs`: the CPU one event costs, part by part, next to the CPU a
 * PUT costs, all measured in the same run. Where `bench events` compares throughputs
 * that this shared 2-core machine lets drift by 10-15 points between runs, CPU time
 * charged to the process that did the work repeats within a few microseconds, so the
 * effect of a change to one part can be seen.
 *
 * Parts, each run in this process with s3gate's own code:
 *   record      building the S3 record and its queue line (once per event)
 *   queue       durable appends by 16 concurrent writers each pacing like a PUT (a
 *               random 10-30 ms between appends: real PUTs arrive spread out; writers
 *               paced alike arrive together and share writes, which made this part
 *               look 2-4 times cheaper than in a server under load), each cycle
 *               counted as a request in flight (for the group commit), sync writes on,
 *               a reader taking batches and acking as delivery does,
 *               for an event for one target and for three (one journal line naming them),
 *               less the same writers' loop without appends
 *   <target>    sendBatch() to the real Redis, PostgreSQL and a webhook receiver (a
 *               process of its own) in bursts of 10 and 50 (what a 100 ms batch interval
 *               holds at 100 and 500 PUT/s); CPU of this process and of the target's
 *               server processes
 * The PUT reference is an s3gate with no targets under 16 concurrent 4 KiB PUTs: its
 * CPU and the whole machine's per PUT. The estimate divides the parts an event for 1
 * target (Redis) and for 3 targets costs by the PUT's machine CPU: the slowdown on a
 * machine whose CPU is the limit. It leaves out what a throughput run also sees: the
 * latency an append adds to a PUT when the disk, not the CPU, is the limit.
 *
 * Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (user postgres, db test).
 */
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventJournal } from '../events/journal.js';
import { buildRecords } from '../events/record.js';
import type { EventTarget, QueuedEvent, TargetType } from '../events/target.js';
import { loadTargetModule } from '../events/target-factory.js';
import { runLoad } from './load.js';
import { ensureBucket, s3Put, type S3Endpoint } from './s3-requests.js';
import { startS3gate } from './server-process.js';
import { machineCpuMs, pidsByCommand, processCpuMs } from './proc-cpu.js';
import { redisPid, startSinks } from './events.js';
import { trackRequest } from '../server/in-flight.js';

const BURSTS = [10, 50];
const QUEUE_WRITERS = 16;
/** How long each queue writer waits between its appends (on average): about a PUT's latency at c16. */
const QUEUE_PACE_MS = 20;
const queuePause = () => QUEUE_PACE_MS * (0.5 + Math.random());

interface CostOptions { events: string; puts: string }

export function eventCostsBenchCommand(): Command {
  return new Command('event-costs')
    .description('CPU per event of each part of event delivery (record, durable queue, Redis, PostgreSQL, webhook) next to the CPU of a PUT')
    .option('--events <n>', 'events per measurement', '5000')
    .option('--puts <n>', 'PUTs of the reference run', '3000')
    .action(async (o: CostOptions) => { await runEventCosts(o); });
}

function sampleEvent(n: number): QueuedEvent {
  const { queued } = buildRecords(
    { name: 's3:ObjectCreated:Put', bucket: 'bench', key: `obj/${n % 1024}`, size: 4096, etag: '9e107d9d372bb6826bd81d3542a419d6', contentType: 'application/octet-stream', userMetadata: {} },
    {
      principal: { kind: 'root', accessKey: 'benchadmin', username: 'benchadmin', userId: 'benchadmin' },
      requestId: `18${n.toString(16).padStart(14, '0')}`.toUpperCase(), region: '', sourceIp: '127.0.0.1',
      host: '127.0.0.1', port: '9000', userAgent: 'aws-sdk-js/3.0.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2', time: new Date(),
    },
    { region: '', nodeId: 'a'.repeat(64), endpoint: 'http://127.0.0.1:9000' },
    false,
  );
  return queued;
}

/** CPU microseconds of this process while `work` runs. */
async function ownCpuUs(work: () => Promise<void> | void): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

async function recordCost(n: number): Promise<number> {
  for (let i = 0; i < 2000; i++) JSON.stringify(sampleEvent(i)); // warm-up
  return (await ownCpuUs(() => { for (let i = 0; i < n; i++) JSON.stringify(sampleEvent(i)); })) / n;
}

/** Appends of `n` events, each for `targets` targets, to a journal (0: the writers' loop alone). */
async function queueCost(work: string, targets: number, n: number): Promise<number> {
  const dir = mkdtempSync(join(work, 'queue-'));
  const journal = await EventJournal.open({ dir });
  const consumers = Array.from({ length: targets }, (_, i) => journal.attach(`t${i}`, { limit: 1_000_000, label: `t${i}` }));
  const readers = consumers.map(async (c) => {
    for (;;) {
      const batch = await c.nextBatch(100).catch(() => undefined);
      if (!batch) return;
      c.ack(batch[batch.length - 1].seq);
    }
  });
  const events = Array.from({ length: 1024 }, (_, i) => sampleEvent(i));
  let next = 0;
  // Each cycle counts as a request in flight, as a PUT does for the group commit.
  const writer = async () => {
    while (next < n) {
      const e = events[next++ % events.length];
      await trackRequest((async () => {
        await new Promise((r) => setTimeout(r, queuePause()));
        if (targets > 0) await journal.append(e, consumers, { line: JSON.stringify(e) });
      })());
    }
  };
  const us = await ownCpuUs(() => Promise.all(Array.from({ length: QUEUE_WRITERS }, writer)).then(() => undefined));
  await journal.close();
  await Promise.all(readers);
  rmSync(dir, { recursive: true, force: true });
  return us / n;
}

interface TargetCost { clientUs: number; serverUs: number }

async function targetCost(type: TargetType, options: Record<string, string>, serverPids: () => number[], burst: number, n: number): Promise<TargetCost> {
  const mod = await loadTargetModule(type);
  if (!mod) throw new Error(`target type ${type} is not available`);
  const target: EventTarget = mod.create('cost', options);
  try {
    await target.init();
    const events = Array.from({ length: 1024 }, (_, i) => sampleEvent(i));
    const bursts = (count: number) => async () => {
      for (let i = 0; i < count; i += burst) await target.sendBatch!(Array.from({ length: burst }, (_, j) => events[(i + j) % events.length]));
    };
    await bursts(1000)(); // warm-up: connection, JIT, table creation
    const pids = serverPids();
    const server0 = pids.reduce((a, p) => a + processCpuMs(p), 0);
    const clientUs = await ownCpuUs(bursts(n));
    const serverMs = pids.reduce((a, p) => a + processCpuMs(p), 0) - server0;
    return { clientUs: clientUs / n, serverUs: (serverMs * 1000) / n };
  } finally {
    await target.close();
  }
}

/** Server and machine CPU per PUT of an s3gate without targets (16 concurrent 4 KiB PUTs). */
async function putCost(work: string, puts: number): Promise<{ serverUs: number; machineUs: number; opsPerSec: number }> {
  const server = await startS3gate(join(work, 'data'), { workers: 1, fsync: true });
  try {
    const ep: S3Endpoint = { host: '127.0.0.1', port: server.port, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' };
    await ensureBucket(ep, 'bench');
    const body = randomBytes(4096);
    const load = (count: number) => runLoad({ host: ep.host, port: ep.port, concurrency: 16, durationMs: 600_000, maxOps: count, next: (i) => s3Put(ep, `/bench/obj/${i % 1024}`, body) });
    await load(500);
    const server0 = processCpuMs(server.pid);
    const machine0 = machineCpuMs();
    const result = await load(puts);
    if (result.errors) throw new Error(`PUT reference: ${result.errors} errors, first: ${result.firstError}`);
    return {
      serverUs: ((processCpuMs(server.pid) - server0) * 1000) / result.ops,
      machineUs: ((machineCpuMs() - machine0) * 1000) / result.ops,
      opsPerSec: result.ops / (result.elapsedMs / 1000),
    };
  } finally {
    await server.stop();
  }
}

export async function runEventCosts(o: CostOptions): Promise<void> {
  const n = Math.max(500, parseInt(o.events, 10));
  const work = mkdtempSync(join(tmpdir(), 's3gate-bench-costs-'));
  const sinks = await startSinks();
  try {
    const pid = await redisPid(sinks);
    const targets: Array<{ name: string; type: TargetType; options: Record<string, string>; pids: () => number[] }> = [
      { name: 'redis', type: 'redis', options: { address: '127.0.0.1:6379', key: sinks.redisKey, format: 'namespace' }, pids: () => [pid] },
      { name: 'postgresql', type: 'postgresql', options: { connection_string: 'host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable', table: sinks.pgTable, format: 'namespace' }, pids: () => pidsByCommand('postgres') },
      { name: 'webhook', type: 'webhook', options: { endpoint: sinks.webhookUrl }, pids: () => [sinks.webhookPid] },
    ];
    process.stdout.write(`s3gate event-costs bench: ${n} events per part, CPU microseconds per event (this process + the target's server)\n\n`);
    const put = await putCost(work, parseInt(o.puts, 10));
    const record = await recordCost(n);
    const loop = await queueCost(work, 0, n);
    const queue1 = (await queueCost(work, 1, n)) - loop;
    const queue3 = (await queueCost(work, 3, n)) - loop;
    const rows: Array<[string, number, number]> = [
      ['record + queue line', record, 0],
      ['queue append, 1 target', queue1, 0],
      ['queue append, 3 targets', queue3, 0],
    ];
    const byTarget = new Map<string, TargetCost[]>();
    for (const t of targets) {
      const costs: TargetCost[] = [];
      for (const burst of BURSTS) {
        const c = await targetCost(t.type, t.options, t.pids, burst, n);
        costs.push(c);
        rows.push([`${t.name}, bursts of ${burst}`, c.clientUs, c.serverUs]);
      }
      byTarget.set(t.name, costs);
    }
    process.stdout.write('part                           s3gate  target server  total\n');
    for (const [name, own, server] of rows) process.stdout.write(`${name.padEnd(29)}${own.toFixed(0).padStart(7)}${server.toFixed(0).padStart(15)}${(own + server).toFixed(0).padStart(7)}\n`);
    process.stdout.write(`\nPUT of 4 KiB, c16, no targets: ${put.opsPerSec.toFixed(0)} ops/s, server CPU ${put.serverUs.toFixed(0)} us/PUT, machine CPU ${put.machineUs.toFixed(0)} us/PUT\n\n`);
    const total = (c: TargetCost) => c.clientUs + c.serverUs;
    process.stdout.write('estimate, CPU-bound machine     event CPU  of a PUT  throughput\n');
    for (const [b, burst] of BURSTS.entries()) {
      const one = record + queue1 + total(byTarget.get('redis')![b]);
      const three = record + queue3 + targets.reduce((a, t) => a + total(byTarget.get(t.name)![b]), 0);
      for (const [name, us] of [[`1 target (redis), bursts of ${burst}`, one], [`3 targets, bursts of ${burst}`, three]] as const) {
        const share = us / put.machineUs;
        process.stdout.write(`${name.padEnd(32)}${us.toFixed(0).padStart(9)}${`${(share * 100).toFixed(1)}%`.padStart(10)}${`${((1 / (1 + share) - 1) * 100).toFixed(1)}%`.padStart(12)}\n`);
      }
    }
  } finally {
    await sinks.close();
    rmSync(work, { recursive: true, force: true });
  }
}
