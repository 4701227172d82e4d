/**
 * The message bodies MinIO sends, shared by the targets that use them.
 */
import type { QueuedEvent } from '../target.js';

/**
 * MinIO's event.Log: what webhook, AMQP, MQTT and NATS carry.
 * Key is 'bucket/object' with the object key not URL-encoded.
 */
export function minioLogMessage(event: QueuedEvent): string {
  return JSON.stringify({ EventName: event.eventName, Key: event.key, Records: [event.record] });
}

/** The namespace value (Redis hash field value, SQL value/event_data column). */
export function recordsDocument(event: QueuedEvent): string {
  return JSON.stringify({ Records: [event.record] });
}
