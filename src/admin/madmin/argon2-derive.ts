/**
 * madmin's Argon2id key derivation: Argon2id v1.3, time=1, memory=64 MiB, 4 lanes,
 * 32-byte key (spec §2.3), with a small worker pool so the 64 MiB fill never blocks
 * the event loop, and a hard cap on concurrent derivations (spec pitfall 18).
 *
 * Keys are not cached: every envelope carries a fresh random salt (§2.5), so a cache
 * keyed by (password, salt) could only ever hit on a replayed request, and keeping
 * derived keys in memory would only widen what a heap dump exposes.
 */
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argon2id } from 'hash-wasm';
import { argon2idPure } from './argon2id-fallback.js';

export const ARGON2_PARAMS = { iterations: 1, memorySize: 64 * 1024, parallelism: 4, hashLength: 32 } as const;

/** Runs the derivation in the current thread (used by the worker itself and as fallback). */
export async function deriveArgon2idInline(password: Uint8Array, salt: Uint8Array): Promise<Buffer> {
  if (password.length === 0) {
    // hash-wasm rejects empty passwords; the upstream vectors use one.
    return Buffer.from(await argon2idPure({ password, salt, ...ARGON2_PARAMS }));
  }
  const key = await argon2id({ password, salt, ...ARGON2_PARAMS, outputType: 'binary' });
  return Buffer.from(key);
}

const POOL_SIZE = 2;

interface Job { password: Uint8Array; salt: Uint8Array; resolve: (k: Buffer) => void; reject: (e: Error) => void }
interface PoolWorker { worker: Worker; busy: boolean; pending: Map<number, Job>; answered: boolean }

const workers: PoolWorker[] = [];
const queue: Job[] = [];
let nextId = 1;
let workersUnavailable = false;
let inlineRunning = 0;

/**
 * The worker is started from a tiny CommonJS bootstrap so the same code works from
 * dist (.js) and from source under tsx (.ts), where the worker must register tsx's
 * loader itself before importing the TypeScript module.
 */
function workerBootstrap(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  const url = new URL(`./argon2-worker${ext}`, import.meta.url).href;
  const load = `import(${JSON.stringify(url)})`;
  return ext === '.ts'
    ? `import('tsx/esm/api').then((m) => { m.register(); return ${load}; });`
    : `${load};`;
}

function spawn(): PoolWorker | undefined {
  if (workersUnavailable) return undefined;
  let worker: Worker;
  try {
    worker = new Worker(workerBootstrap(), { eval: true });
  } catch {
    workersUnavailable = true;
    return undefined;
  }
  worker.unref();
  const pw: PoolWorker = { worker, busy: false, pending: new Map(), answered: false };
  worker.on('message', (msg: { id: number; key?: Uint8Array; error?: string }) => {
    pw.answered = true;
    const job = pw.pending.get(msg.id);
    pw.pending.delete(msg.id);
    pw.busy = false;
    if (job) {
      if (msg.key) job.resolve(Buffer.from(msg.key));
      else job.reject(new Error(msg.error ?? 'argon2 worker failed'));
    }
    pump();
  });
  worker.on('error', (e) => fail(pw, e));
  worker.on('exit', (code) => fail(pw, new Error(`argon2 worker exited with ${code}`)));
  workers.push(pw);
  return pw;
}

/**
 * A worker that dies before ever answering means threads cannot load here: stop
 * spawning and re-run its jobs inline. A worker that dies later fails its own jobs.
 */
function fail(pw: PoolWorker, e: Error): void {
  const i = workers.indexOf(pw);
  if (i >= 0) workers.splice(i, 1);
  const jobs = [...pw.pending.values()];
  pw.pending.clear();
  if (!pw.answered) {
    workersUnavailable = true;
    queue.unshift(...jobs);
  } else for (const j of jobs) j.reject(e);
  pump();
}

function pump(): void {
  while (queue.length) {
    let w = workers.find((x) => !x.busy);
    if (!w && workers.length < POOL_SIZE) w = spawn();
    if (w) {
      const job = queue.shift()!;
      const id = nextId++;
      w.busy = true;
      w.pending.set(id, job);
      w.worker.postMessage({ id, password: job.password, salt: job.salt });
      continue;
    }
    if (!workersUnavailable || inlineRunning >= 1) return;
    // No worker threads here: derive inline, one at a time.
    const job = queue.shift()!;
    inlineRunning++;
    deriveArgon2idInline(job.password, job.salt).then(job.resolve, job.reject).finally(() => { inlineRunning--; pump(); });
  }
}

/** Derives the 32-byte madmin key; at most POOL_SIZE derivations run at once. */
export function deriveArgon2idKey(password: Uint8Array, salt: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    queue.push({ password: Uint8Array.from(password), salt: Uint8Array.from(salt), resolve, reject });
    pump();
  });
}

/** Stops the pool's threads (tests; the threads are unref'd so a process can exit anyway). */
export async function closeArgon2Pool(): Promise<void> {
  const all = workers.splice(0);
  for (const w of all) w.answered = true; // a deliberate stop is not "threads unavailable"
  await Promise.all(all.map((w) => w.worker.terminate()));
}
