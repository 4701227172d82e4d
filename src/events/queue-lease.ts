/**
 * Queues left behind by an instance that is gone, and how a live one takes them over.
 *
 * Queues are per instance: <root>/<instance-id>/journal/ (journal.ts), the id being
 * hostname-port. An instance restarted under another id (another port, a container with
 * a new hostname) would otherwise leave its undelivered events behind for good. So each
 * instance keeps a lease, <root>/<instance-id>/lease.json ({host, pid, heartbeatAt}),
 * rewritten every HEARTBEAT_MS and marked closed on a clean shutdown. An instance is
 * gone when its lease has not changed for 30 s, or for 10 s when it says closed or (on
 * this host) names a pid that no longer runs, as measured by the observer's own clock:
 * hosts need not agree on the time, and an instance restarting under the same id
 * rewrites its lease before it opens its queues. A directory without a lease (queues of
 * an older s3gate) is gone when nothing in it changed for 30 s. Live instances look
 * every ADOPT_INTERVAL_MS.
 *
 * Taking over: a live instance claims each queue directory of the gone instance (its
 * journal, or an older s3gate's per-target <type>-<id>/ queue) by renaming it into its
 * own directory as <name>.from-<instance-id> (atomic, so of two instances only one gets
 * it), appends its undelivered events, in order and for the same targets, to its own
 * journal (then what its workers' spools in it still held, spool.ts), and deletes it (the gone instance's directory keeps only its lease). A claim
 * cut short by a crash is finished at the next start; the events appended before the
 * crash are then appended again, which is at-least-once like every other repeat.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { log } from '../server/log.js';
import { pidRuns } from '../server/instance-id.js';
import { EventJournal } from './journal.js';
import { SpoolMerger } from './spool-merger.js';
import { queueNameOfKey } from './arn.js';
import type { QueueSync } from './segment-file.js';

const LEASE_FILE = 'lease.json';
export const HEARTBEAT_MS = 5_000;
/** No heartbeat for this long: the instance is gone. */
const DEFAULT_STALE_MS = 30_000;
/** A closed lease or a dead pid (on this host) unchanged for this long: gone. */
const QUICK_MS = 2 * HEARTBEAT_MS;
/** How often a live instance looks for gone instances' queues. */
export const ADOPT_INTERVAL_MS = 10_000;
const CLAIM_MARK = '.from-';
/** The journal's directory name in an instance's directory. */
export const JOURNAL_DIR = 'journal';

interface Lease {
  host: string;
  pid: number;
  heartbeatAt: number;
  closed?: boolean;
}

/** Keeps this instance's lease in one queue root fresh. */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private readonly dir: string;
  private failing = false;

  constructor(root: string, instanceId: string) {
    this.dir = join(root, instanceId);
  }

  async start(): Promise<void> {
    await this.write(false);
    this.timer = setInterval(() => { void this.write(false); }, HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Marks the lease closed: this instance's queues may be taken over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.write(true);
  }

  private async write(closed: boolean): Promise<void> {
    const lease: Lease = { host: hostname(), pid: process.pid, heartbeatAt: Date.now(), ...(closed ? { closed } : {}) };
    try {
      await mkdir(this.dir, { recursive: true });
      const tmp = join(this.dir, `${LEASE_FILE}.tmp`);
      await writeFile(tmp, JSON.stringify(lease));
      await rename(tmp, join(this.dir, LEASE_FILE));
      this.failing = false;
    } catch (e) {
      if (!this.failing) log('warn', 'event queue lease not written (logged once until it works again)', { dir: this.dir, error: String(e) });
      this.failing = true;
    }
  }
}

/** Newest modification time of anything up to two levels below dir. */
async function newestChange(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, (await stat(path)).mtimeMs);
    if (entry.isDirectory()) for (const f of await readdir(path)) newest = Math.max(newest, (await stat(join(path, f)).catch(() => ({ mtimeMs: 0 }))).mtimeMs);
  }
  return newest;
}

/**
 * What each other instance's lease said when it was first seen saying it (this
 * process's clock only: the hosts sharing a directory need not agree on the time).
 */
const observed = new Map<string, { said: string; since: number }>();

export interface Staleness {
  /** A lease unchanged this long: the instance is gone (default 30 s). */
  staleMs?: number;
  /** A closed lease, or one of a dead pid on this host, unchanged this long (default 10 s). */
  quickMs?: number;
}

async function isGone(instanceDir: string, t: Staleness): Promise<boolean> {
  let text: string | undefined;
  try {
    text = await readFile(join(instanceDir, LEASE_FILE), 'utf8');
  } catch { /* no lease: an older s3gate's queues, or a lease being replaced */ }
  let lease: Lease | undefined;
  try { lease = text === undefined ? undefined : JSON.parse(text) as Lease; } catch { /* torn: changing */ }
  const said = text ?? `changed ${await newestChange(instanceDir)}`;
  const now = performance.now();
  const seen = observed.get(instanceDir);
  if (!seen || seen.said !== said) {
    observed.set(instanceDir, { said, since: now });
    return false;
  }
  // Even a closed lease must stay unchanged a while: the instance may be restarting
  // under the same id, and rewrites its lease before it opens its queues.
  const ended = lease !== undefined && (lease.closed === true || (lease.host === hostname() && !pidRuns(lease.pid)));
  return now - seen.since > (ended ? t.quickMs ?? QUICK_MS : t.staleMs ?? DEFAULT_STALE_MS);
}

export interface AdoptOptions extends Staleness {
  root: string;
  instanceId: string;
  /** This instance's journal in that root. */
  into: EventJournal;
  fsync?: QueueSync;
}

/** Queue directories in an instance's directory: its journal, claims, an older s3gate's per-target queues. */
async function queueDirs(instanceDir: string): Promise<string[]> {
  const entries = await readdir(instanceDir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/**
 * Moves the undelivered events of gone instances' queues in this root into `into`, for
 * the same targets (running here or not: a target that is disabled keeps its events).
 * Returns how many were moved. Never throws: a failure is logged and retried later.
 */
export async function adoptOrphanQueues(o: AdoptOptions): Promise<number> {
  const own = join(o.root, o.instanceId);
  let moved = 0;
  try {
    const claims = (await queueDirs(own)).filter((n) => n.includes(CLAIM_MARK)).map((n) => join(own, n));
    for (const entry of await readdir(o.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === o.instanceId) continue;
      const other = join(o.root, entry.name);
      const queues = await queueDirs(other);
      if (queues.length === 0 || !(await isGone(other, o))) continue;
      for (const q of queues) {
        const claim = join(own, `${q}${CLAIM_MARK}${entry.name}`);
        try {
          await rename(join(other, q), claim);
          claims.push(claim);
        } catch (e) {
          // Another instance claimed it first (ENOENT), or an earlier claim of ours is
          // still there (ENOTEMPTY: taken once that one is done).
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log('warn', 'event queue of a gone instance not claimed', { queue: join(other, q), error: String(e) });
        }
      }
      // The gone instance's directory (its lease) stays: removing it could race with
      // that instance coming back under the same id and creating its queues in it.
    }
    for (const claim of claims) moved += await moveQueue(claim, o.into, o.fsync);
  } catch (e) {
    log('error', 'event queues of gone instances not taken over (retried later)', { root: o.root, error: String(e) });
  }
  return moved;
}

/**
 * Moves the per-target queue directories an older s3gate left in this instance's
 * directory into its journal (before the journal is used: those events are older).
 */
export async function migrateLegacyQueues(root: string, instanceId: string, into: EventJournal, fsync?: QueueSync): Promise<number> {
  const own = join(root, instanceId);
  let moved = 0;
  for (const name of await queueDirs(own)) {
    if (name !== JOURNAL_DIR && !name.includes(CLAIM_MARK)) moved += await moveQueue(join(own, name), into, fsync);
  }
  return moved;
}

/** Appends a queue's undelivered events to `into`, in order, for the same targets, then deletes it. */
async function moveQueue(dir: string, into: EventJournal, fsync?: QueueSync): Promise<number> {
  const base = basename(dir).split(CLAIM_MARK)[0];
  const from = await EventJournal.open({ dir, fsync, name: dir, legacyConsumer: base === JOURNAL_DIR ? undefined : base });
  let moved = 0;
  try {
    for await (const batch of from.undelivered(1000)) {
      const ok = await Promise.all(batch.map((i) => into.append(i.event, i.to.map((n) => into.consumer(n)), { ignoreLimit: true })));
      if (ok.includes(false)) throw new Error(`the journal refused ${ok.filter((x) => !x).length} of them (a write error)`);
      moved += batch.length;
    }
  } finally {
    await from.close();
  }
  // Events its workers had spooled but not merged yet (spool.ts), for the same targets.
  const spooled = new SpoolMerger(dir, async (items) => {
    const ok = await Promise.all(items.map((i) => into.append(i.event, i.keys.map((k) => into.consumer(queueNameOfKey(k))), { line: i.line, ignoreLimit: true })));
    if (ok.includes(false)) throw new Error(`the journal refused ${ok.filter((x) => !x).length} spooled events (a write error)`);
    moved += items.length;
  }, () => new Set());
  await spooled.recover();
  await spooled.close();
  await rm(dir, { recursive: true, force: true });
  log('info', 'moved queued events into the journal', { from: dir, into: into.dir, events: moved });
  return moved;
}
