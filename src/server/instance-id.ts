/**
 * Who an instance is on a shared data dir: its temp dir and event queues are named
 * after it. hostname-port is stable across restarts, so a restarted instance finds its
 * own. An instance on an ephemeral port (port 0) gets another port at every start and
 * two of them would share "host-0": its id names the process instead (the primary's, in
 * a worker), host-0-<pid>, and what such an instance leaves behind is cleaned up once
 * its process is gone (see endedLocalInstance).
 */
import cluster from 'node:cluster';
import { hostname } from 'node:os';

function hostPart(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_');
}

export function instanceIdOf(port: number): string {
  if (port !== 0) return `${hostPart()}-${port}`;
  return `${hostPart()}-0-${cluster.isWorker ? process.ppid : process.pid}`;
}

/** Whether a process with this pid runs on this host (EPERM: it runs as another user). */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `id` is an ephemeral-port instance of this host whose process is gone. */
export function endedLocalInstance(id: string): boolean {
  const prefix = `${hostPart()}-0-`;
  if (!id.startsWith(prefix)) return false;
  const pid = Number(id.slice(prefix.length));
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidRuns(pid);
}
