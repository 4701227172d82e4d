import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecords } from '../../src/events/record.js';
import { eventFromJson, SerializedEvent } from '../../src/events/serialized-event.js';
import { parseSpoolLine } from '../../src/events/spool.js';
import { minioLogMessage, recordsDocument } from '../../src/events/targets/payload.js';
import type { ObjectEventInfo, RequestInfo } from '../../src/events/publisher.js';
import type { QueuedEvent } from '../../src/events/target.js';

const request: RequestInfo = {
  principal: { kind: 'root', accessKey: 'admin', username: 'admin', userId: 'admin' },
  requestId: '17C43E891887BA48', region: '', sourceIp: '127.0.0.1', host: '127.0.0.1', port: '',
  userAgent: 'agent "with quotes" \\ and a backslash', time: new Date('2024-04-08T07:48:36.865Z'),
};
const ctx = { region: '', nodeId: 'node-hash', endpoint: 'http://127.0.0.1:9000' };

/** Keys and metadata that look like the parts the reader looks for. */
const tricky: QueuedEvent[] = ([
  { name: 's3:ObjectCreated:Put', bucket: 'b', key: 'plain.txt', size: 1, etag: 'e', contentType: 'text/plain', userMetadata: {} },
  { name: 's3:ObjectCreated:Put', bucket: 'b', key: 'a","record":{"x":1},"eventTime":"y"}', size: 2, etag: 'e', contentType: 'a/b', userMetadata: { eventTime: ',"eventTime":"', record: '}' } },
  { name: 's3:ObjectRemoved:Delete', bucket: 'b', key: 'dir/\\"quoted\\"/ünïcødé 😀/\n' },
  { name: 's3:BucketCreated', bucket: 'b' },
] as ObjectEventInfo[]).map((e) => buildRecords(e, request, ctx, false).queued);

test('an event read back from its JSON keeps the record text as written and serializes as the original', () => {
  for (const original of tricky) {
    const text = JSON.stringify(original);
    const back = eventFromJson(text);
    assert.ok(back instanceof SerializedEvent, text);
    assert.equal(back.eventName, original.eventName);
    assert.equal(back.key, original.key);
    assert.equal(back.eventTime, original.eventTime);
    assert.equal(back.recordJson, JSON.stringify(original.record));
    assert.deepEqual(back.record, original.record);
    assert.equal(JSON.stringify(back), text);
    // What targets send is byte for byte what they send for the original.
    assert.equal(minioLogMessage(back), minioLogMessage(original));
    assert.equal(recordsDocument(back), recordsDocument(original));
  }
});

test('text in another shape is not taken for an event', () => {
  const text = JSON.stringify(tricky[0]);
  for (const bad of [
    text.slice(0, -1), // cut
    text.slice(0, 200), // torn
    JSON.stringify({ key: tricky[0].key, eventName: tricky[0].eventName, record: tricky[0].record, eventTime: tricky[0].eventTime }), // other order
    JSON.stringify({ ...tricky[0], record: 'not an object' }),
    JSON.stringify({ ...tricky[0], eventTime: 5 }),
    '{}',
  ]) assert.equal(eventFromJson(bad), undefined, bad);
});

test('spool lines: the event is read without parsing its record; a torn line is refused', () => {
  const event = tricky[1];
  const line = `{"t":123456789,"to":["redis:1","webhook:x"],"event":${JSON.stringify(event)}}`;
  const got = parseSpoolLine(line)!;
  assert.equal(got.t, 123456789);
  assert.deepEqual(got.to, ['redis:1', 'webhook:x']);
  assert.ok(got.event instanceof SerializedEvent);
  assert.equal(got.text, JSON.stringify(event));
  assert.equal(JSON.stringify(got.event), JSON.stringify(event));
  const odd = parseSpoolLine(line.replace('"redis:1"', '"we]ird:1"'))!;
  assert.deepEqual(odd.to, ['we]ird:1', 'webhook:x'], 'a target key with a bracket');
  assert.equal(JSON.stringify(odd.event), JSON.stringify(event));
  assert.equal(parseSpoolLine(line.slice(0, 300)), undefined, 'cut short');
  assert.equal(parseSpoolLine(line.slice(0, 300) + '\0'.repeat(20)), undefined, 'zeros of the preallocated space');
  assert.equal(parseSpoolLine(line.replace('"event":{', '"event":\0')), undefined, 'a zero byte inside');
});
