/**
 * A queued event read back from its JSON text without parsing its record. Targets send
 * the record's JSON as it was written (payload.ts), so the process that merges spools
 * and delivers neither parses nor serializes records again: per event, a JSON.parse of
 * about 1.5 KB and a JSON.stringify fewer, and the garbage of the parsed object.
 * `record` parses the text on first use.
 */
import type { EventRecord, QueuedEvent } from './target.js';

export class SerializedEvent implements QueuedEvent {
  private parsed: EventRecord | undefined;

  constructor(readonly eventName: string, readonly key: string, readonly eventTime: string, readonly recordJson: string) {}

  get record(): EventRecord {
    return (this.parsed ??= JSON.parse(this.recordJson) as EventRecord);
  }

  /** What JSON.stringify writes: the QueuedEvent's own shape (getters are not serialized). */
  toJSON(): QueuedEvent {
    return { eventName: this.eventName, key: this.key, record: this.record, eventTime: this.eventTime };
  }
}

/** eventName and key, JSON strings, as JSON.stringify writes a QueuedEvent (fields in this order). */
const HEAD = /^\{"eventName":("(?:[^"\\]|\\.)*"),"key":("(?:[^"\\]|\\.)*"),"record":\{/;
const TAIL = ',"eventTime":"';

/**
 * The event whose JSON.stringify text this is, or undefined when the text is not in
 * that shape (the record must be an object, eventTime the last field).
 */
export function eventFromJson(text: string): SerializedEvent | undefined {
  const head = HEAD.exec(text);
  // The record has an eventTime too: the event's own is the last one.
  const tail = text.lastIndexOf(TAIL);
  if (!head || tail < head[0].length || !text.endsWith('"}') || text[tail - 1] !== '}') return undefined;
  try {
    const eventTime = JSON.parse(text.slice(tail + TAIL.length - 1, -1)) as unknown;
    if (typeof eventTime !== 'string') return undefined;
    return new SerializedEvent(JSON.parse(head[1]) as string, JSON.parse(head[2]) as string, eventTime, text.slice(head[0].length - 1, tail));
  } catch {
    return undefined;
  }
}
