/**
 * A closed-loop load generator: `concurrency` loops each send one request, read the
 * whole response, and go again, until the time or operation budget is spent. Raw
 * node:http with a keep-alive agent, so the client costs little next to the server.
 */
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';

export interface BenchRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body?: Buffer;
}

export interface LoadOptions {
  host: string;
  port: number;
  concurrency: number;
  durationMs: number;
  maxOps: number;
  /** Builds request number n (called just before sending it). */
  next: (n: number) => BenchRequest;
  /** Status codes that count as success. */
  ok?: (status: number) => boolean;
}

export interface LoadResult {
  ops: number;
  errors: number;
  /** Response + request body bytes moved. */
  bytes: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  firstError?: string;
}

function once(agent: Agent, o: LoadOptions, r: BenchRequest): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: o.host, port: o.port, method: r.method, path: r.path, headers: r.headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency, maxFreeSockets: o.concurrency });
  const ok = o.ok ?? ((s: number) => s >= 200 && s < 300);
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let bytes = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const stopAt = start + o.durationMs;
  const loop = async () => {
    while (issued < o.maxOps && performance.now() < stopAt) {
      const r = o.next(issued++);
      const t = performance.now();
      try {
        const res = await once(agent, o, r);
        if (!ok(res.status)) { errors++; firstError ??= `HTTP ${res.status} for ${r.method} ${r.path}`; continue; }
        bytes += res.bytes + (r.body?.length ?? 0);
        latencies.push(performance.now() - t);
      } catch (e) {
        errors++;
        firstError ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  const elapsedMs = performance.now() - start;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] : 0);
  return { ops: latencies.length, errors, bytes, elapsedMs, p50Ms: pct(0.5), p99Ms: pct(0.99), firstError };
}
