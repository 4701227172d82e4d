/**
 * Starts the real s3gate server as a child process on a temp data dir and an
 * ephemeral port, and hands tests its URL and root credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  workers?: number;
  /** Keep the data dir after stop (for restart tests). */
  keepData?: boolean;
  port?: number;
}

export interface TestServer {
  url: string;
  port: number;
  accessKey: string;
  secretKey: string;
  dataDir: string;
  process: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  s3(overrides?: Partial<ConstructorParameters<typeof S3Client>[0]>): S3Client;
}

const ROOT = new URL('../..', import.meta.url).pathname;

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 's3gate-test-'));
  const accessKey = opts.env?.S3GATE_ROOT_USER ?? 'testadmin';
  const secretKey = opts.env?.S3GATE_ROOT_PASSWORD ?? 'testadmin-secret-key';
  const env = { ...process.env, S3GATE_ROOT_USER: accessKey, S3GATE_ROOT_PASSWORD: secretKey, ...opts.env };
  const args = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'server', dataDir, `127.0.0.1:${opts.port ?? 0}`, '--workers', String(opts.workers ?? 1), ...(opts.args ?? [])];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 30s:\n${out}`)), 30_000);
    const check = () => {
      const m = /on http:\/\/[^\s]+:(\d+) /.exec(out);
      if (m) { clearTimeout(timer); ok(Number(m[1])); }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`server exited with ${code}:\n${out}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    url, port, accessKey, secretKey, dataDir, process: child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      for (const c of clients) c.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode; // already gone (exited or killed)
      const code = await new Promise<number | null>((ok) => { child.once('exit', (c) => ok(c)); child.kill(signal); });
      if (!opts.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    s3(overrides = {}) {
      const c = new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey }, ...overrides });
      clients.push(c);
      return c;
    },
  };
}
