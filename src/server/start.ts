/**
 * Server start-up: the primary prepares the data dir (system dir, temp cleanup, root
 * credentials), then either serves in-process (--workers 1) or forks workers that share
 * the listening socket (node:cluster). Shutdown on SIGTERM/SIGINT lets in-flight
 * requests finish before the process exits.
 */
import cluster from 'node:cluster';
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PosixBackend } from '../storage/posix/backend.js';
import { SYS_DIR_NAME } from '../storage/keys.js';
import { createS3Server } from './http.js';
import { healthRoute } from './health.js';
import { log } from './log.js';
import type { ServerOptions } from './options.js';
import { instanceIdOf } from './instance-id.js';
import { loadRootCredentials, type RootCredentials } from './root-credentials.js';
import { wireServices, type Wiring } from './wiring.js';

export interface RunningServer {
  server: Server;
  wiring: Wiring;
  close(): Promise<void>;
}

async function prepare(opts: ServerOptions): Promise<{ root: RootCredentials; sysDir: string }> {
  const dataDir = resolve(opts.dataDir);
  await fs.mkdir(dataDir, { recursive: true });
  const sysDir = join(dataDir, SYS_DIR_NAME);
  await fs.mkdir(sysDir, { recursive: true });
  const root = await loadRootCredentials(sysDir);
  return { root, sysDir };
}

/** Starts serving in this process. `primary` means this process owns start-up chores. */
export async function serve(opts: ServerOptions, primary: boolean, root: RootCredentials): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir);
  const instanceId = instanceIdOf(opts.port);
  const backend = await PosixBackend.open({ dataDir, instanceId, fsync: opts.fsync, metaStore: opts.metaStore }, primary);
  let ready = false;
  const wiring = await wireServices({ opts, dataDir, backend, root, instanceId, primary });
  wiring.services.controlRoutes.unshift(healthRoute(() => ready));
  const server = createS3Server(wiring.services);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => { server.off('error', fail); ok(); });
  });
  ready = true;
  const close = async () => {
    ready = false;
    await new Promise<void>((ok) => {
      const force = setTimeout(() => server.closeAllConnections(), opts.shutdownTimeoutMs);
      force.unref();
      // close() only drops connections idle right now; a keep-alive connection whose
      // request finishes later would hold the exit until keepAliveTimeout
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => { clearTimeout(force); clearInterval(idle); ok(); });
      server.closeIdleConnections();
    });
    await wiring.close();
  };
  return { server, wiring, close };
}

function printBanner(opts: ServerOptions, port: number, root: RootCredentials, metaStore: string): void {
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  const lines = [`s3gate serving ${resolve(opts.dataDir)} on ${url} (region ${opts.region}, metadata in ${metaStore}, ${opts.workers} worker${opts.workers > 1 ? 's' : ''}, ${opts.fsync ? `fsync on, events sync ${opts.eventsSync ?? 'always'}` : 'fsync off'})`];
  if (root.generated) {
    lines.push('Generated root credentials (shown once; set S3GATE_ROOT_USER/S3GATE_ROOT_PASSWORD to choose your own):');
    lines.push(`  RootUser: ${root.user}`, `  RootPass: ${root.password}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** Entry point of `s3gate server`. Resolves when the server stopped. */
export async function runServer(opts: ServerOptions): Promise<void> {
  if (cluster.isWorker) return runWorker(opts);
  const { root } = await prepare(opts);
  if (opts.workers <= 1) {
    const running = await serve(opts, true, root);
    printBanner(opts, (running.server.address() as AddressInfo).port, root, running.wiring.services.backend.metaStoreKind);
    await waitForSignal();
    await running.close();
    exitNow();
    return;
  }
  // The primary owns start-up chores and background work; workers serve requests.
  const instanceId = instanceIdOf(opts.port);
  const backend = await PosixBackend.open({ dataDir: resolve(opts.dataDir), instanceId, fsync: opts.fsync, metaStore: opts.metaStore }, true);
  const wiring = await wireServices({ opts, dataDir: resolve(opts.dataDir), backend, root, instanceId, primary: true, servesRequests: false });
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < opts.workers; i++) fork();
  let listening = 0;
  const port = await new Promise<number>((ok) => cluster.on('listening', (_w, a) => { if (++listening === opts.workers) ok(a.port); }));
  printBanner(opts, port, root, backend.metaStoreKind);
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    log('error', 'worker died; starting a new one', { worker: w.process.pid, code, signal });
    fork();
  });
  await waitForSignal();
  stopping = true;
  await Promise.all(Object.values(cluster.workers ?? {}).map((w) => new Promise<void>((ok) => {
    if (!w || w.isDead()) return ok();
    w.once('exit', () => ok());
    w.process.kill('SIGTERM');
  })));
  await wiring.close();
  exitNow();
}

/**
 * Everything was closed in order; exit even if a client library (a target's socket, a
 * key-derivation thread) still holds a handle.
 */
function exitNow(): void {
  process.exit(process.exitCode ?? 0);
}

async function runWorker(opts: ServerOptions): Promise<void> {
  const { root } = await prepare(opts); // the primary already created or read them
  const running = await serve(opts, false, { ...root, generated: false });
  await waitForSignal();
  await running.close();
  process.exit(0);
}

function waitForSignal(): Promise<void> {
  return new Promise((ok) => {
    const done = () => { process.off('SIGTERM', done); process.off('SIGINT', done); ok(); };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}
