/**
 * Time limits for target I/O. A send() that waits on a dead service must reject,
 * never hang, or the delivery loop would stall behind it.
 */

export class TargetTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TargetTimeoutError';
  }
}

/** Default bound for connecting and for one delivery, when a target has no timeout option. */
export const DEFAULT_TARGET_TIMEOUT_MS = 10_000;
/** isOnline() must be quick. */
export const ONLINE_CHECK_TIMEOUT_MS = 2_000;

/** Resolves/rejects like `work`, or rejects with TargetTimeoutError after `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TargetTimeoutError(what, ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
