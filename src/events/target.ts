/**
 * A notification target: one configured destination (notify_redis:1, notify_webhook:x ...).
 * Targets only deliver; durability (the on-disk queue, retries, ordering) is the
 * delivery loop's job, which calls send() with one queued event at a time, in order,
 * and retries the same event until send() resolves.
 */

/** One S3 event record in the S3/MinIO JSON shape (an element of Records[]). */
export type EventRecord = Record<string, any> & {
  eventName: string;
  eventTime: string;
  s3: { bucket: { name: string }; object: { key: string } };
};

export interface QueuedEvent {
  /** e.g. 's3:ObjectCreated:Put' */
  eventName: string;
  /** 'bucket/object-key' (key not URL-encoded), the namespace-format key. */
  key: string;
  /** The record as it goes out (Records: [record]). */
  record: EventRecord;
  /** RFC3339 event time, the access-format EventTime. */
  eventTime: string;
}

export type TargetType = 'redis' | 'mysql' | 'postgresql' | 'webhook' | 'amqp' | 'mqtt' | 'nats';

export interface EventTarget {
  readonly type: TargetType;
  /** The user's id, the part after the colon in notify_redis:<id>. */
  readonly id: string;
  /** Connects, creates tables/exchanges as needed. May reject; the loop retries later. */
  init(): Promise<void>;
  /** Delivers one event; resolves only once the target acknowledged it. */
  send(event: QueuedEvent): Promise<void>;
  /**
   * Optional: delivers several consecutive events in order with one round trip (a Redis
   * pipeline/MULTI, one SQL transaction, pipelined HTTP requests ...); resolves once all
   * were acknowledged. On rejection the delivery loop retries the whole batch, so a
   * prefix that was applied is applied again (at-least-once, as after a crash), unless
   * the rejection is a PartialDelivery naming the prefix that was acknowledged. The
   * loop calls it whenever more than one event is ready, which is what keeps per-event
   * cost low under load.
   */
  sendBatch?(events: QueuedEvent[]): Promise<void>;
  /** Cheap liveness check for status reporting. */
  isOnline(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * What sendBatch() rejects with when the first `delivered` events were acknowledged
 * and the next one failed: the delivery loop acks those and retries from the next.
 */
export class PartialDelivery extends Error {
  constructor(readonly delivered: number, readonly failure: Error) {
    super(failure.message);
  }
}

/** True for removal events, which namespace format turns into deletes. */
export function isRemoval(eventName: string): boolean {
  return eventName.startsWith('s3:ObjectRemoved:');
}
