/**
 * Raw-disk write reference (used when nginx has no WebDAV PUT): the load process writes
 * the same bodies as files itself, the way s3gate commits them (temp file, fsync when
 * s3gate fsyncs, rename), with the same concurrency.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './load.js';

export async function runDiskWrites(o: { dir: string; body: Buffer; keyspace: number; concurrency: number; durationMs: number; maxOps: number; fsync: boolean }): Promise<LoadResult> {
  await fs.mkdir(o.dir, { recursive: true });
  const latencies: number[] = [];
  let issued = 0;
  const start = performance.now();
  const stopAt = start + o.durationMs;
  const loop = async () => {
    while (issued < o.maxOps && performance.now() < stopAt) {
      const n = issued++;
      const t = performance.now();
      const tmp = join(o.dir, `.tmp-${n}`);
      const fh = await fs.open(tmp, 'w');
      await fh.write(o.body);
      if (o.fsync) await fh.sync();
      await fh.close();
      await fs.rename(tmp, join(o.dir, String(n % o.keyspace)));
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  const elapsedMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] : 0);
  return { ops: latencies.length, errors: 0, bytes: latencies.length * o.body.length, elapsedMs, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}
