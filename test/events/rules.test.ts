import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledRules, parseNotificationConfig, serializeNotificationConfig } from '../../src/events/rules.js';
import { eventMatches, expandEventName } from '../../src/events/names.js';
import type { TargetArn } from '../../src/events/arn.js';

const known = new Set(['1:redis', '1:webhook', 'x:mysql']);
const v = { region: 'us-east-1', targetExists: (t: TargetArn) => known.has(`${t.id}:${t.type}`) };

const queue = (arn: string, events: string[], rules: Array<[string, string]> = [], id = '') =>
  `<QueueConfiguration>${id ? `<Id>${id}</Id>` : ''}${events.map((e) => `<Event>${e}</Event>`).join('')}` +
  (rules.length ? `<Filter><S3Key>${rules.map(([n, val]) => `<FilterRule><Name>${n}</Name><Value>${val}</Value></FilterRule>`).join('')}</S3Key></Filter>` : '') +
  `<Queue>${arn}</Queue></QueueConfiguration>`;
const doc = (...qs: string[]) => `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${qs.join('')}</NotificationConfiguration>`;

function s3err(code: string, message?: RegExp) {
  return (e: any) => e?.code === code && (!message || message.test(e.message));
}

test('mc event add body parses; GET re-serializes with the server region and MinIO element order', () => {
  const body = '<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event><Event>s3:ObjectAccessed:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>photos/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter><Queue>arn:minio:sqs::1:redis</Queue></QueueConfiguration></NotificationConfiguration>';
  const c = parseNotificationConfig(body, v);
  assert.deepEqual(c.queues, [{ id: '', target: { region: '', id: '1', type: 'redis' }, events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectAccessed:*'], prefix: 'photos/', suffix: '.jpg' }]);
  const xml = serializeNotificationConfig(c, 'us-east-1', v.targetExists);
  assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><QueueConfiguration><Filter><S3Key><FilterRule><Name>prefix</Name><Value>photos/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event><Event>s3:ObjectAccessed:*</Event><Queue>arn:minio:sqs:us-east-1:1:redis</Queue></QueueConfiguration></NotificationConfiguration>');
  // Entries of targets that no longer exist are left out of GET.
  assert.equal(serializeNotificationConfig(c, '', () => false), '<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></NotificationConfiguration>');
  // Round trip of the GET output (with the region filled in) is accepted again.
  assert.deepEqual(parseNotificationConfig(xml, v).queues[0].target.region, 'us-east-1');
  assert.deepEqual(parseNotificationConfig('<NotificationConfiguration></NotificationConfiguration>', v), { queues: [] });
});

test('refusals with MinIO codes and messages', () => {
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::9:redis', ['s3:ObjectCreated:*'])), v), s3err('InvalidArgument', /^A specified destination ARN does not exist or is not well-formed\. Verify the destination ARN\.$/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sns::1:redis', ['s3:ObjectCreated:*'])), v), s3err('InvalidArgument', /destination ARN does not exist/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1', ['s3:ObjectCreated:*'])), v), s3err('InvalidArgument', /destination ARN does not exist/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs:eu-west-1:1:redis', ['s3:ObjectCreated:*'])), v), s3err('InvalidArgument', /different region/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:Nope'])), v), s3err('InvalidArgument', /^A specified event is not supported for notifications\.$/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', [])), v), s3err('MalformedXML'));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:Put', 's3:ObjectCreated:Put'])), v), s3err('InvalidArgument', /^Configurations overlap/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*'], [['prefix', 'a'], ['prefix', 'b']])), v), s3err('InvalidArgument', /^Cannot specify more than one prefix rule in a filter\.$/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*'], [['suffix', 'a'], ['suffix', 'b']])), v), s3err('InvalidArgument', /more than one suffix/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*'], [['middle', 'a']])), v), s3err('InvalidArgument', /filter rule name must be either prefix or suffix/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*'], [['prefix', 'a/../b']])), v), s3err('InvalidArgument', /filter rule value/));
  assert.throws(() => parseNotificationConfig(doc(queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*'], [['prefix', 'x'.repeat(1025)]])), v), s3err('InvalidArgument', /1024 bytes/));
  assert.throws(() => parseNotificationConfig('<NotificationConfiguration><TopicConfiguration><Event>s3:ObjectCreated:*</Event><Topic>arn:minio:sns::1:redis</Topic></TopicConfiguration></NotificationConfiguration>', v), (e: any) => e.code === 'UnsupportedNotification' && e.status === 400);
  assert.throws(() => parseNotificationConfig('<Nope/>', v), s3err('MalformedXML'));
  assert.throws(() => parseNotificationConfig('<NotificationConfiguration><QueueConfiguration>', v), s3err('MalformedXML'));
});

test('overlap: identical entries and same target+filter with overlapping events are refused; others pass', () => {
  const overlap = /^An object key name filtering rule defined with overlapping prefixes/;
  const a = queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*'], [['suffix', '.jpg']]);
  assert.throws(() => parseNotificationConfig(doc(a, a), v), s3err('InvalidArgument', overlap));
  assert.throws(() => parseNotificationConfig(doc(a, queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:Put'], [['suffix', '.jpg']])), v), s3err('InvalidArgument', overlap));
  // Different events, filters or targets are fine.
  parseNotificationConfig(doc(a, queue('arn:minio:sqs::1:redis', ['s3:ObjectRemoved:*'], [['suffix', '.jpg']])), v);
  parseNotificationConfig(doc(a, queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*'], [['suffix', '.png']])), v);
  parseNotificationConfig(doc(a, queue('arn:minio:sqs::1:webhook', ['s3:ObjectCreated:*'], [['suffix', '.jpg']])), v);
});

test('matching: wildcards, prefix/suffix filters, dedup per target', () => {
  assert.ok(eventMatches('s3:ObjectCreated:*', 's3:ObjectCreated:CompleteMultipartUpload'));
  assert.ok(!eventMatches('s3:ObjectCreated:*', 's3:ObjectRemoved:Delete'));
  assert.deepEqual(expandEventName('s3:BucketCreated:*'), ['s3:BucketCreated']);
  const c = new CompiledRules(parseNotificationConfig(doc(
    queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'], [['prefix', 'photos/'], ['suffix', '.jpg']]),
    queue('arn:minio:sqs::1:redis', ['s3:ObjectCreated:Put']),
    queue('arn:minio:sqs::1:webhook', ['s3:ObjectAccessed:Get'], [['suffix', '.txt']]),
    queue('arn:minio:sqs::x:mysql', ['s3:ObjectRemoved:Delete'], [['prefix', 'logs/']]),
  ), v));
  assert.deepEqual(c.match('s3:ObjectCreated:Put', 'photos/a.jpg'), ['1:redis']);
  assert.deepEqual(c.match('s3:ObjectCreated:Copy', 'photos/a.jpg'), ['1:redis']);
  assert.deepEqual(c.match('s3:ObjectCreated:Copy', 'photos/a.png'), []);
  assert.deepEqual(c.match('s3:ObjectCreated:Put', 'other/a.png'), ['1:redis']);
  assert.deepEqual(c.match('s3:ObjectAccessed:Get', 'x.txt'), ['1:webhook']);
  assert.deepEqual(c.match('s3:ObjectAccessed:Head', 'x.txt'), []);
  assert.deepEqual(c.match('s3:ObjectRemoved:Delete', 'logs/photos/a.jpg').sort(), ['x:mysql']);
  assert.deepEqual(c.match('s3:ObjectRemoved:Delete', 'photos/a.jpg'), ['1:redis']);
});
