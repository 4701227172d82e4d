/**
 * The message bodies MinIO sends, shared by the targets that use them.
 *
 * The record's JSON is made once per event: the queues of all targets an event goes to
 * hold the same event object, so the second and third target reuse the first's text.
 */
import type { EventRecord, QueuedEvent } from '../target.js';

const recordTexts = new WeakMap<EventRecord, string>();

function recordText(record: EventRecord): string {
  let text = recordTexts.get(record);
  if (text === undefined) recordTexts.set(record, (text = JSON.stringify(record)));
  return text;
}

/**
 * MinIO's event.Log: what webhook, AMQP, MQTT and NATS carry.
 * Key is 'bucket/object' with the object key not URL-encoded.
 */
export function minioLogMessage(event: QueuedEvent): string {
  return `{"EventName":${JSON.stringify(event.eventName)},"Key":${JSON.stringify(event.key)},"Records":[${recordText(event.record)}]}`;
}

/** The namespace value (Redis hash field value, SQL value/event_data column). */
export function recordsDocument(event: QueuedEvent): string {
  return `{"Records":[${recordText(event.record)}]}`;
}
