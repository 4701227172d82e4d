/**
 * The s3gate under test, in its own process: the same CLI entry point this bench runs
 * from, `server` on a loopback port, with throw-away root credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface ServerUnderTest {
  port: number;
  accessKey: string;
  secretKey: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startS3gate(dataDir: string, opts: { workers: number; fsync: boolean; extraArgs?: string[] }): Promise<ServerUnderTest> {
  const accessKey = 'benchadmin';
  const secretKey = randomBytes(18).toString('base64url');
  const args = [...process.execArgv, process.argv[1], 'server', dataDir, '127.0.0.1:0', '--workers', String(opts.workers), ...(opts.fsync ? [] : ['--no-fsync']), ...(opts.extraArgs ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, S3GATE_ROOT_USER: accessKey, S3GATE_ROOT_PASSWORD: secretKey, S3GATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`s3gate did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /on http:\/\/[^\s]+:(\d+) /.exec(out);
      if (m) { clearTimeout(timer); child.off('exit', exited); ok(Number(m[1])); }
    };
    const exited = (code: number | null) => { clearTimeout(timer); fail(new Error(`s3gate exited (${code}) during start-up:\n${out}`)); };
    child.stdout!.on('data', check);
    child.once('exit', exited);
  });
  return {
    port, accessKey, secretKey, pid: child.pid!,
    stop: () => new Promise<void>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill('SIGTERM');
    }),
  };
}
