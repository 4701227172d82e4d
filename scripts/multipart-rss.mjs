/* global process, console, Buffer, URL, setInterval, clearInterval */
// Measures the server's memory while `aws s3 cp` uploads (and downloads) a multi-GiB file.
// Starts s3gate (one process) on a temp data dir, writes a random file, uploads it with the
// AWS CLI (multipart, parallel 8 MiB parts), and reads VmRSS (sampled) and VmHWM (peak)
// from /proc/<pid>/status. Not a test: run by hand.
//   node scripts/multipart-rss.mjs [size-in-GiB, default 3]
import { spawn, execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const GiB = 1024 ** 3;
const size = Math.round(Number(process.argv[2] ?? 3) * GiB);
const work = mkdtempSync(join(tmpdir(), 's3gate-rss-'));
const data = join(work, 'data');
const user = 'rssadmin';
const pass = 'rssadmin-secret-key';

function status(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;

const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'server', data, '127.0.0.1:0', '--workers', '1'], {
  cwd: ROOT, env: { ...process.env, S3GATE_ROOT_USER: user, S3GATE_ROOT_PASSWORD: pass }, stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const port = await new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = /on http:\/\/[^\s]+:(\d+) /.exec(out); if (m) ok(Number(m[1])); });
    child.once('exit', (c) => fail(new Error(`server exited ${c}: ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, AWS_ACCESS_KEY_ID: user, AWS_SECRET_ACCESS_KEY: pass, AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'none') };
  const aws = (...args) => run('aws', ['--endpoint-url', url, ...args], { env, maxBuffer: 64 << 20 });

  const file = join(work, 'big.bin');
  const fd = openSync(file, 'w');
  const block = Buffer.allocUnsafe(8 << 20);
  for (let left = size; left > 0; left -= block.length) writeSync(fd, randomFillSync(block), 0, Math.min(left, block.length));
  closeSync(fd);

  await aws('s3', 'mb', 's3://rss');
  const idle = status(child.pid);
  console.log(`server pid ${child.pid}, idle: RSS ${mib(idle.rss)}, peak so far ${mib(idle.hwm)}`);
  let maxRss = 0;
  const timer = setInterval(() => { maxRss = Math.max(maxRss, status(child.pid).rss); }, 200);
  const t0 = Date.now();
  await aws('s3', 'cp', '--only-show-errors', file, 's3://rss/big.bin');
  const up = (Date.now() - t0) / 1000;
  const afterUp = status(child.pid);
  const t1 = Date.now();
  await aws('s3', 'cp', '--only-show-errors', 's3://rss/big.bin', join(work, 'big.back'));
  const down = (Date.now() - t1) / 1000;
  clearInterval(timer);
  const end = status(child.pid);
  console.log(`upload of ${(size / GiB).toFixed(2)} GiB: ${up.toFixed(1)} s (${(size / 2 ** 20 / up).toFixed(0)} MiB/s incl. assembly); VmHWM after upload ${mib(afterUp.hwm)}`);
  console.log(`download: ${down.toFixed(1)} s; max sampled VmRSS ${mib(maxRss)}; final VmHWM (peak RSS) ${mib(end.hwm)}`);
} finally {
  child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
