/**
 * Worker -> primary messages of the event system over the node:cluster IPC channel: the
 * delivery status, which only the primary (the owner of the delivery loops) has, and
 * "spooled", a worker saying it wrote to its spool (so an idle primary merges now).
 * Events themselves do not go this way: workers spool them (spool.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import type { DeliveryStatus } from './delivery.js';

const ENVELOPE = 's3gate-events';
const TIMEOUT_MS = 15_000;

type Request = { type: typeof ENVELOPE; op: 'status'; id: number } | { type: typeof ENVELOPE; op: 'spooled' };
type Reply = { type: typeof ENVELOPE; op: 'reply'; id: number; result?: unknown; error?: string };

export interface EventOwner {
  status(): DeliveryStatus[];
  spooled(): void;
}

/** Primary: answers worker requests. Returns the uninstall function. */
export function serveWorkers(owner: EventOwner): () => void {
  const onMessage = (worker: Worker, msg: Request) => {
    if (msg?.type !== ENVELOPE) return;
    if (msg.op === 'spooled') return owner.spooled();
    const reply = (r: Omit<Reply, 'type' | 'op' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ENVELOPE, op: 'reply', id: msg.id, ...r } satisfies Reply);
    };
    Promise.resolve().then(() => owner.status()).then((result) => reply({ result }), (e) => reply({ error: String((e as Error)?.message ?? e) }));
  };
  cluster.on('message', onMessage);
  return () => { cluster.off('message', onMessage); };
}

let nextId = 1;
const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
let installed = false;

function request(body: { op: 'status' }): Promise<unknown> {
  if (!installed) {
    installed = true;
    process.on('message', (msg: Reply) => {
      if (msg?.type !== ENVELOPE || msg.op !== 'reply') return;
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.error !== undefined) w.reject(new Error(msg.error));
      else w.resolve(msg.result);
    });
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`event owner (primary process) did not answer within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    timer.unref();
    waiting.set(id, { resolve, reject, timer });
    process.send!({ type: ENVELOPE, id, ...body });
  });
}

export async function ownerStatus(): Promise<DeliveryStatus[]> {
  return (await request({ op: 'status' })) as DeliveryStatus[];
}

/** Worker: tells the primary it wrote to its spool (fire and forget). */
export function notifySpooled(): void {
  if (process.connected) process.send!({ type: ENVELOPE, op: 'spooled' } satisfies Request);
}
