/**
 * The message bodies MinIO sends, shared by the targets that use them.
 *
 * The record's JSON is made once per event: the queues of all targets an event goes to
 * hold the same event object, so the second and third target reuse the first's text;
 * an event read back from a spool (SerializedEvent) has it already.
 */
import type { EventRecord, QueuedEvent } from '../target.js';
import { SerializedEvent } from '../serialized-event.js';

const recordTexts = new WeakMap<EventRecord, string>();

/** JSON.stringify(event.record). */
export function recordText(event: QueuedEvent): string {
  if (event instanceof SerializedEvent) return event.recordJson;
  let text = recordTexts.get(event.record);
  if (text === undefined) recordTexts.set(event.record, (text = JSON.stringify(event.record)));
  return text;
}

/**
 * MinIO's event.Log: what webhook, AMQP, MQTT and NATS carry.
 * Key is 'bucket/object' with the object key not URL-encoded.
 */
export function minioLogMessage(event: QueuedEvent): string {
  return `{"EventName":${JSON.stringify(event.eventName)},"Key":${JSON.stringify(event.key)},"Records":[${recordText(event)}]}`;
}

/** The namespace value (Redis hash field value, SQL value/event_data column). */
export function recordsDocument(event: QueuedEvent): string {
  return `{"Records":[${recordText(event)}]}`;
}
