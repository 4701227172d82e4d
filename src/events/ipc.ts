/**
 * Worker -> primary requests of the event system over the node:cluster IPC channel.
 * Workers do not own queues: they send matched events to the primary, which appends
 * them to the target queues (durably) and answers; the worker's publish() resolves on
 * that answer. One request/answer costs one IPC round trip (tens of microseconds).
 */
import cluster, { type Worker } from 'node:cluster';
import type { QueuedEvent } from './target.js';
import type { DeliveryStatus } from './delivery.js';

const ENVELOPE = 's3gate-events';
const TIMEOUT_MS = 15_000;

type Request =
  | { type: typeof ENVELOPE; op: 'enqueue'; id: number; keys: string[]; event: QueuedEvent }
  | { type: typeof ENVELOPE; op: 'status'; id: number };
type Reply = { type: typeof ENVELOPE; op: 'reply'; id: number; result?: unknown; error?: string };

export interface EventOwner {
  enqueue(keys: string[], event: QueuedEvent): Promise<void>;
  status(): DeliveryStatus[];
}

/** Primary: answers worker requests. Returns the uninstall function. */
export function serveWorkers(owner: EventOwner): () => void {
  const onMessage = (worker: Worker, msg: Request) => {
    if (msg?.type !== ENVELOPE) return;
    const reply = (r: Omit<Reply, 'type' | 'op' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ENVELOPE, op: 'reply', id: msg.id, ...r } satisfies Reply);
    };
    const work = msg.op === 'enqueue' ? owner.enqueue(msg.keys, msg.event) : Promise.resolve(owner.status());
    work.then((result) => reply({ result }), (e) => reply({ error: String((e as Error)?.message ?? e) }));
  };
  cluster.on('message', onMessage);
  return () => { cluster.off('message', onMessage); };
}

let nextId = 1;
const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
let installed = false;

function request(body: { op: 'enqueue'; keys: string[]; event: QueuedEvent } | { op: 'status' }): Promise<unknown> {
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

/** Worker: hands an event to the primary; resolves once it is queued there. */
export async function forwardEnqueue(keys: string[], event: QueuedEvent): Promise<void> {
  await request({ op: 'enqueue', keys, event });
}

export async function ownerStatus(): Promise<DeliveryStatus[]> {
  return (await request({ op: 'status' })) as DeliveryStatus[];
}
