/**
 * The nginx reference: the same files from the same disk, served by nginx with a
 * config written for the run (loopback port, 2 workers, no access log). PUTs go
 * through the WebDAV module when this nginx has it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface NginxReference {
  port: number;
  /** URL prefix that accepts PUT (WebDAV), when available. */
  putPrefix?: string;
  stop(): Promise<void>;
}

export function nginxInfo(): { installed: boolean; dav: boolean } {
  const r = spawnSync('nginx', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return { installed: false, dav: false };
  return { installed: true, dav: /--with-http_dav_module/.test(r.stderr + r.stdout) };
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** Starts nginx with `root` = served dir; `workDir` holds its config, temp files and PUT target. */
export async function startNginx(root: string, workDir: string, dav: boolean): Promise<NginxReference> {
  const port = await freePort();
  mkdirSync(join(workDir, 'body'), { recursive: true });
  mkdirSync(join(workDir, 'put'), { recursive: true });
  const runningAsRoot = process.getuid?.() === 0;
  const conf = [
    // as root, workers would drop to "nobody", who cannot enter a 0700 temp data dir
    runningAsRoot ? 'user root;' : '',
    'worker_processes 2;',
    `pid ${join(workDir, 'nginx.pid')};`,
    `error_log ${join(workDir, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  sendfile on; tcp_nopush on; tcp_nodelay on;',
    '  keepalive_timeout 65; keepalive_requests 1000000;',
    '  default_type application/octet-stream;',
    `  client_body_temp_path ${join(workDir, 'body')};`,
    ...['proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => { mkdirSync(join(workDir, t), { recursive: true }); return `  ${t}_temp_path ${join(workDir, t)};`; }),
    '  server {',
    `    listen 127.0.0.1:${port};`,
    `    root ${root};`,
    dav ? `    location /put/ { root ${workDir}; dav_methods PUT; create_full_put_path on; client_max_body_size 16m; client_body_buffer_size 2m; }` : '',
    '  }',
    '}',
    '',
  ].join('\n');
  const confPath = join(workDir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const child: ChildProcess = spawn('nginx', ['-c', confPath, '-p', workDir, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${err}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not answer on port ${port}: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    putPrefix: dav ? '/put' : undefined,
    stop: () => new Promise<void>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill('SIGQUIT'); // graceful: finish and exit
    }),
  };
}
