/**
 * `s3gate bench`: PUT and GET of small and large objects at a few concurrencies against
 * an s3gate (by default one it starts on a temp dir, in its own process), with nginx
 * serving the same files from the same disk as the reference, measured in the same run.
 */
import { Command, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadResult } from './load.js';
import { ensureBucket, s3Get, s3Put, type S3Endpoint } from './s3-requests.js';
import { startS3gate, type ServerUnderTest } from './server-process.js';
import { nginxInfo, startNginx, type NginxReference } from './nginx.js';
import { runDiskWrites } from './disk-reference.js';
import { renderTable, type Row } from './table.js';
import { eventsBenchCommand } from './events.js';
import { eventCostsBenchCommand } from './event-costs.js';

const BUCKET = 'bench';

interface BenchOptions {
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  region: string;
  workers: string;
  fsync: boolean;
  duration: string;
  concurrency: string;
  sizes: string;
  nginx: boolean;
  nginxRoot?: string;
}

function parseSize(s: string): number {
  const m = /^(\d+)\s*(B|KiB|MiB|K|M|KB|MB)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size "${s}" (use e.g. 4KiB, 1MiB)`);
  const unit = (m[2] ?? 'B').toUpperCase();
  return Number(m[1]) * (unit.startsWith('K') ? 1024 : unit.startsWith('M') ? 1024 * 1024 : 1);
}

function sizeLabel(n: number): string {
  return n >= 1024 * 1024 ? `${n / 1024 / 1024}MiB` : n >= 1024 ? `${n / 1024}KiB` : `${n}B`;
}

/** Distinct keys per size: overwrite within a bounded set, so the disk footprint stays small. */
function keyspaceFor(size: number): number {
  return Math.max(64, Math.min(4096, Math.floor((512 * 1024 * 1024) / size)));
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('measure PUT/GET throughput of s3gate, with nginx on the same files as the reference')
    .option('--endpoint <url>', 'benchmark a running S3 endpoint instead of starting s3gate')
    .option('--access-key <key>', 'access key for --endpoint')
    .option('--secret-key <key>', 'secret key for --endpoint')
    .option('--region <name>', 'signing region', 'us-east-1')
    .option('--workers <n>', 'worker processes of the s3gate under test', '2')
    .option('--no-fsync', 'start the s3gate under test with --no-fsync')
    .option('--duration <seconds>', 'seconds per cell', '5')
    .option('--concurrency <list>', 'concurrency levels', '16,64')
    .option('--sizes <list>', 'object sizes', '4KiB,1MiB')
    .option('--no-nginx', 'skip the nginx reference')
    .addOption(new Option('--nginx-root <dir>', 'with --endpoint: the directory that endpoint serves (nginx reads the same files)'))
    .action(async (o: BenchOptions) => { await runBench(o); })
    // `bench events --concurrency 64` is the events bench's option, not this one's.
    .enablePositionalOptions()
    .addCommand(eventsBenchCommand())
    .addCommand(eventCostsBenchCommand());
}

async function runBench(o: BenchOptions): Promise<void> {
  const durationMs = Math.max(1, Number(o.duration)) * 1000;
  const concurrencies = o.concurrency.split(',').map((s) => parseInt(s, 10)).filter((n) => n > 0);
  const sizes = o.sizes.split(',').map(parseSize);
  const work = mkdtempSync(join(tmpdir(), 's3gate-bench-'));
  let server: ServerUnderTest | undefined;
  let nginx: NginxReference | undefined;
  try {
    let ep: S3Endpoint;
    let servedDir: string | undefined;
    if (o.endpoint) {
      if (!o.accessKey || !o.secretKey) throw new Error('--endpoint needs --access-key and --secret-key');
      const u = new URL(o.endpoint);
      ep = { host: u.hostname, port: Number(u.port || 80), accessKey: o.accessKey, secretKey: o.secretKey, region: o.region };
      servedDir = o.nginxRoot;
    } else {
      servedDir = join(work, 'data');
      server = await startS3gate(servedDir, { workers: Math.max(1, parseInt(o.workers, 10)), fsync: o.fsync });
      ep = { host: '127.0.0.1', port: server.port, accessKey: server.accessKey, secretKey: server.secretKey, region: o.region };
    }
    await ensureBucket(ep, BUCKET);

    const info = nginxInfo();
    let refNote = 'no reference (--no-nginx)';
    if (o.nginx && !info.installed) refNote = 'no reference: nginx is not installed (apt-get install nginx-light)';
    else if (o.nginx && !servedDir) refNote = 'no reference: give --nginx-root with --endpoint';
    else if (o.nginx && servedDir) {
      nginx = await startNginx(servedDir, join(work, 'nginx'), info.dav);
      refNote = `nginx on the same files (GET), ${info.dav ? 'WebDAV PUT into the same disk' : 'PUT reference = raw disk writes (nginx has no dav module)'}`;
    }
    const target = o.endpoint ? `endpoint ${o.endpoint}` : `s3gate pid ${server!.pid}, ${o.workers} worker(s), fsync ${o.fsync ? 'on' : 'off'}, data in ${servedDir}`;
    process.stdout.write(`s3gate bench: ${target}\nreference: ${refNote}\n${durationMs / 1000} s per cell; sizes ${sizes.map(sizeLabel).join(', ')}; concurrency ${concurrencies.join(', ')}\n\n`);

    const rows: Row[] = [];
    for (const size of sizes) {
      const body = randomBytes(size);
      const label = sizeLabel(size);
      const keyspace = keyspaceFor(size);
      const maxOps = Math.max(1000, Math.floor((8 * 1024 ** 3) / size)); // at most 8 GiB per cell
      const key = (n: number) => `/${BUCKET}/${label}/${n % keyspace}`;
      const base = { host: ep.host, concurrency: 0, durationMs, maxOps };

      for (const c of concurrencies) {
        const s = await runLoad({ ...base, port: ep.port, concurrency: c, next: (n) => s3Put(ep, key(n), body) });
        let ref: LoadResult | undefined;
        let refName: string | undefined;
        if (nginx?.putPrefix) {
          ref = await runLoad({ ...base, host: '127.0.0.1', port: nginx.port, concurrency: c, next: (n) => ({ method: 'PUT', path: `${nginx!.putPrefix}${key(n)}`, headers: { 'content-length': String(size) }, body }) });
          refName = 'nginx dav';
        } else if (nginx) {
          ref = await runDiskWrites({ dir: join(work, 'disk', label), body, keyspace, concurrency: c, durationMs, maxOps, fsync: o.fsync });
          refName = 'raw disk';
        }
        rows.push({ op: 'PUT', size: label, concurrency: c, s3gate: s, reference: ref, referenceName: refName });
        progress(rows[rows.length - 1]);
      }

      // every key GETs will ask for exists
      const fill = await runLoad({ ...base, port: ep.port, concurrency: 16, durationMs: 600_000, maxOps: keyspace, next: (n) => s3Put(ep, key(n), body) });
      if (fill.errors) throw new Error(`prefill failed: ${fill.firstError}`);
      for (const c of concurrencies) {
        const s = await runLoad({ ...base, port: ep.port, concurrency: c, next: (n) => s3Get(ep, key(n)) });
        const ref = nginx ? await runLoad({ ...base, host: '127.0.0.1', port: nginx.port, concurrency: c, next: (n) => ({ method: 'GET', path: key(n), headers: {} }) }) : undefined;
        rows.push({ op: 'GET', size: label, concurrency: c, s3gate: s, reference: ref, referenceName: nginx ? 'nginx' : undefined });
        progress(rows[rows.length - 1]);
      }
    }
    process.stdout.write('\n' + renderTable(rows) + '\n');
    const failed = rows.filter((r) => r.s3gate.errors || r.reference?.errors);
    for (const r of failed) process.stdout.write(`errors in ${r.op} ${r.size} c${r.concurrency}: ${r.s3gate.firstError ?? r.reference?.firstError}\n`);
    if (failed.length) process.exitCode = 1;
  } finally {
    await nginx?.stop();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function progress(r: Row): void {
  const rate = (x: LoadResult) => `${Math.round(x.ops / (x.elapsedMs / 1000))} ops/s`;
  process.stderr.write(`  ${r.op} ${r.size} c${r.concurrency}: s3gate ${rate(r.s3gate)}${r.reference ? `, ${r.referenceName} ${rate(r.reference)}` : ''}\n`);
}
