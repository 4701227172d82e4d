/**
 * How many requests that may change something (not GET or HEAD) this process is
 * serving: a durable event batch waits for those that could still add an event to it
 * (events/batch-gate.ts).
 */
let count = 0;
const endListeners = new Set<() => void>();

export function requestsInFlight(): number {
  return count;
}

/** Counts `request` as in flight until it settles. */
export function trackRequest(request: Promise<void>): Promise<void> {
  count++;
  return request.finally(() => {
    count--;
    for (const listener of endListeners) listener();
  });
}

/** Calls `listener` after each request ends; returns the unsubscribe. */
export function onRequestEnd(listener: () => void): () => void {
  endListeners.add(listener);
  return () => { endListeners.delete(listener); };
}
