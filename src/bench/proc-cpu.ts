/**
 * CPU time from Linux /proc, for benches that charge work to the processes doing it
 * (s3gate, its workers, the targets' servers) rather than to the wall clock.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** /proc/<pid>/stat's fields after the command name: [1] is the parent's pid. Throws when the process is gone. */
function statFields(pid: number | string): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
}

/** utime + stime of statFields(), in milliseconds (100 Hz ticks). */
const ownCpuMs = (f: string[]) => (Number(f[11]) + Number(f[12])) * 10;

/**
 * CPU milliseconds used so far by a process and (withChildren) its descendants (workers
 * are children of the primary). 0 when the process is gone or this is not Linux.
 */
export function processCpuMs(pid: number, withChildren = true): number {
  let total = 0;
  try {
    total += ownCpuMs(statFields(pid));
    if (!withChildren) return total;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += processCpuMs(Number(child));
    }
  } catch { /* not Linux, or the process is gone */ }
  return total;
}

/** Pids of the processes whose command line starts with `prefix` (e.g. every postgres backend). */
export function pidsByCommand(prefix: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (readFileSync(`/proc/${d}/cmdline`, 'utf8').startsWith(prefix)) pids.push(Number(d)); } catch { /* exited meanwhile */ }
  }
  return pids;
}

/** CPU milliseconds so far, by pid, of a group of processes that come and go. */
export type CpuByPid = Map<number, number>;

/**
 * CPU milliseconds a group used between two readings. Only pids alive at the second
 * count (a newcomer from zero): a process that exited meanwhile takes its time with it,
 * and summing the totals instead would count that time as negative.
 */
export function cpuMsBetween(before: CpuByPid, after: CpuByPid): number {
  let total = 0;
  for (const [pid, ms] of after) total += Math.max(0, ms - (before.get(pid) ?? 0));
  return total;
}

/**
 * CPU milliseconds of the kernel's threads (children of kthreadd, pid 2): the loop
 * device, the file system journal and the block layer's workers doing a sync's work.
 */
export function kernelThreadsCpu(): CpuByPid {
  const byPid: CpuByPid = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = statFields(d);
      if (f[1] === '2') byPid.set(Number(d), ownCpuMs(f));
    } catch { /* exited meanwhile */ }
  }
  return byPid;
}

/**
 * Busy CPU milliseconds of the whole machine so far (/proc/stat: every state but idle and
 * iowait). Counts what the targets' own servers (Redis, PostgreSQL, the webhook receiver)
 * and the kernel spend per event, which share the cores with s3gate.
 */
export function machineCpuMs(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal ?? 0)) * 10;
  } catch { return 0; }
}
