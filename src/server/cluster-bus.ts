/**
 * A tiny publish/subscribe bus across the node:cluster workers of one server: a worker
 * publishes, the primary relays to every worker (and itself), so IAM and config changes
 * made through one worker apply in all. In a single process it is a local bus.
 *
 * publish() is fire and forget. publishAndWait() resolves once every process has run its
 * handlers (including the promises they return): a request that changed IAM, a bucket
 * policy or the config awaits it before answering, so the client's next request sees the
 * change whichever worker serves it. The primary collects one ack per live worker; a
 * worker that exits is not waited for, and after WAIT_LIMIT_MS the wait ends anyway
 * (logged) so a stuck worker cannot hang the request that made the change.
 */
import cluster, { type Worker } from 'node:cluster';

type Handler = (payload: unknown) => unknown;
const handlers = new Map<string, Set<Handler>>();
const ENVELOPE = 's3gate-bus';
const ACK = 's3gate-bus-ack';
const DONE = 's3gate-bus-done';
const WAIT_LIMIT_MS = 5000;

interface Envelope { type: typeof ENVELOPE; topic: string; payload: unknown; id?: string }

/** Runs this process's handlers; resolves when the promises they returned settled. */
async function deliver(topic: string, payload: unknown): Promise<void> {
  const running: unknown[] = [];
  for (const h of handlers.get(topic) ?? []) {
    try { running.push(h(payload)); } catch (e) { logFailure(topic, e); }
  }
  await Promise.all(running.map((r) => Promise.resolve(r).catch((e) => logFailure(topic, e))));
}

function logFailure(topic: string, e: unknown): void {
  console.error(JSON.stringify({ level: 'error', msg: 'bus handler failed', topic, error: String(e) }));
}

/** Primary: acked broadcasts still waiting for workers. */
interface Round { waiting: Set<number>; selfDone: boolean; finish: () => void }
const rounds = new Map<string, Round>();
/** Worker: its acked publishes waiting for the primary's DONE. */
const waiters = new Map<string, () => void>();
let seq = 0;

function withLimit(id: string, topic: string, finish: () => void): () => void {
  let done = false;
  const timer = setTimeout(() => {
    console.error(JSON.stringify({ level: 'warn', msg: 'bus: not every process confirmed a change in time', topic, waitedMs: WAIT_LIMIT_MS, id }));
    once();
  }, WAIT_LIMIT_MS);
  timer.unref();
  function once(): void {
    if (done) return;
    done = true;
    clearTimeout(timer);
    finish();
  }
  return once;
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
}

/** Primary: relays an envelope to every worker, runs it here, finishes when all confirmed. */
function broadcast(msg: Envelope, finish: () => void): void {
  const workers = liveWorkers();
  const round: Round | undefined = msg.id ? { waiting: new Set(workers.map((w) => w.id)), selfDone: false, finish } : undefined;
  if (round) rounds.set(msg.id!, round);
  for (const w of workers) w.send(msg);
  void deliver(msg.topic, msg.payload).then(() => {
    if (!round) return finish();
    round.selfDone = true;
    settle(msg.id!);
  });
}

function settle(id: string): void {
  const round = rounds.get(id);
  if (!round || !round.selfDone || round.waiting.size > 0) return;
  rounds.delete(id);
  round.finish();
}

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  if (cluster.isPrimary) {
    cluster.on('message', (worker, msg: any) => {
      if (msg?.type === ENVELOPE) {
        const id: string | undefined = msg.id;
        broadcast(msg as Envelope, id ? withLimit(id, msg.topic, () => { if (worker.isConnected()) worker.send({ type: DONE, id }); }) : () => {});
      } else if (msg?.type === ACK) {
        rounds.get(msg.id)?.waiting.delete(worker.id);
        settle(msg.id);
      }
    });
    cluster.on('exit', (worker) => {
      for (const [id, round] of rounds) { round.waiting.delete(worker.id); settle(id); }
    });
  } else {
    process.on('message', (msg: any) => {
      if (msg?.type === ENVELOPE) {
        void deliver(msg.topic, msg.payload).then(() => { if (msg.id && process.connected) process.send!({ type: ACK, id: msg.id }); });
      } else if (msg?.type === DONE) {
        waiters.get(msg.id)?.();
      }
    });
  }
}

/** Subscribe to a topic; a handler may return a promise (publishAndWait waits for it). Returns an unsubscribe function. */
export function subscribe(topic: string, handler: Handler): () => void {
  install();
  let set = handlers.get(topic);
  if (!set) handlers.set(topic, (set = new Set()));
  set.add(handler);
  return () => set!.delete(handler);
}

/** Publish to every process of this server, including the caller; does not wait. */
export function publish(topic: string, payload: unknown = null): void {
  install();
  const msg: Envelope = { type: ENVELOPE, topic, payload };
  if (cluster.isWorker && process.send) process.send(msg);
  else broadcast(msg, () => {});
}

/** Publish to every process, including the caller; resolves once all have applied it. */
export function publishAndWait(topic: string, payload: unknown = null): Promise<void> {
  install();
  const id = `${process.pid}:${++seq}`;
  const msg: Envelope = { type: ENVELOPE, topic, payload, id };
  return new Promise<void>((resolve) => {
    if (cluster.isWorker && process.send) {
      const finish = withLimit(id, topic, () => { waiters.delete(id); resolve(); });
      waiters.set(id, finish);
      process.send(msg);
    } else {
      broadcast(msg, withLimit(id, topic, resolve));
    }
  });
}
