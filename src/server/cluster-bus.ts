/**
 * A tiny publish/subscribe bus across the node:cluster workers of one server: a worker
 * publishes, the primary relays to every worker (and itself), so IAM and config changes
 * made through one worker apply at once in all. In a single process it is a local bus.
 */
import cluster from 'node:cluster';

type Handler = (payload: unknown) => void;
const handlers = new Map<string, Set<Handler>>();
const ENVELOPE = 's3gate-bus';

function deliver(topic: string, payload: unknown): void {
  for (const h of handlers.get(topic) ?? []) {
    try { h(payload); } catch (e) { console.error(JSON.stringify({ level: 'error', msg: 'bus handler failed', topic, error: String(e) })); }
  }
}

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  if (cluster.isPrimary) {
    cluster.on('message', (_worker, msg: any) => {
      if (msg?.type !== ENVELOPE) return;
      for (const w of Object.values(cluster.workers ?? {})) w?.send(msg);
      deliver(msg.topic, msg.payload);
    });
  } else {
    process.on('message', (msg: any) => {
      if (msg?.type === ENVELOPE) deliver(msg.topic, msg.payload);
    });
  }
}

/** Subscribe to a topic; returns an unsubscribe function. */
export function subscribe(topic: string, handler: Handler): () => void {
  install();
  let set = handlers.get(topic);
  if (!set) handlers.set(topic, (set = new Set()));
  set.add(handler);
  return () => set!.delete(handler);
}

/** Publish to every process of this server, including the caller. */
export function publish(topic: string, payload: unknown = null): void {
  install();
  if (cluster.isWorker && process.send) process.send({ type: ENVELOPE, topic, payload });
  else {
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: ENVELOPE, topic, payload });
    deliver(topic, payload);
  }
}
