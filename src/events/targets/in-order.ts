/**
 * The answers of a batch sent all at once (pipelined POSTs, publishes awaiting broker
 * acks), awaited in the order the events were sent. The first failure rejects: as it
 * is, or as a PartialDelivery naming how many answers before it succeeded, so the
 * delivery loop acknowledges those and retries from the failed event.
 */
import { PartialDelivery } from '../target.js';

export interface InOrderOptions {
  /** How one answer is awaited (e.g. with a timeout). */
  wait?: (answer: Promise<void>) => Promise<void>;
  /** The error to report for a failure (e.g. with the target's name in it). */
  describe?: (err: unknown) => Error;
}

export async function settleInOrder(answers: Array<Promise<void>>, opts: InOrderOptions = {}): Promise<void> {
  for (const a of answers) a.catch(() => {}); // each is awaited below, or abandoned after a failure
  let delivered = 0;
  try {
    for (const a of answers) {
      await (opts.wait ? opts.wait(a) : a);
      delivered++;
    }
  } catch (err) {
    const e = opts.describe ? opts.describe(err) : (err as Error);
    throw delivered > 0 ? new PartialDelivery(delivered, e) : e;
  }
}

/** The failure behind a PartialDelivery, or the error itself. */
export function failureOf(err: unknown): Error {
  return err instanceof PartialDelivery ? err.failure : (err as Error);
}
