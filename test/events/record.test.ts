import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecord, buildRecords, queryEscape } from '../../src/events/record.js';
import type { RequestInfo } from '../../src/events/publisher.js';

// The JuiceFS docs' Redis MONITOR example (mc cp myphoto.jpg myjfs/images), with the
// fields MinIO added since (x-amz-id-2, contentType) — compare key order and values.
const seed = JSON.parse('{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2024-04-08T07:48:36.865Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"admin"},"requestParameters":{"principalId":"admin","region":"","sourceIPAddress":"127.0.0.1"},"responseElements":{"content-length":"0","x-amz-request-id":"17C43E891887BA48","x-minio-origin-endpoint":"http://127.0.0.1:9001"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"images","ownerIdentity":{"principalId":"admin"},"arn":"arn:aws:s3:::images"},"object":{"key":"myphoto.jpg","size":4,"eTag":"40b134ab8a3dee5dd9760a7805fd495c","userMetadata":{"content-type":"image/jpeg"},"sequencer":"17C43E89196AE2A0"}},"source":{"host":"127.0.0.1","port":"","userAgent":"MinIO (darwin; arm64) minio-go/v7.0.11 mc/RELEASE.2021-04-22T17-40-00Z"}}');

const request: RequestInfo = {
  principal: { kind: 'root', accessKey: 'admin', username: 'admin', userId: 'admin' },
  requestId: '17C43E891887BA48',
  region: '',
  sourceIp: '127.0.0.1',
  host: '127.0.0.1',
  port: '',
  userAgent: 'MinIO (darwin; arm64) minio-go/v7.0.11 mc/RELEASE.2021-04-22T17-40-00Z',
  time: new Date('2024-04-08T07:48:36.865Z'),
  originEndpoint: 'http://127.0.0.1:9001',
  contentLength: '0',
};
const ctx = { region: '', nodeId: 'node-hash', endpoint: 'http://fallback:9000' };

test('record matches the seed example field for field (plus x-amz-id-2 and contentType)', () => {
  const r: any = buildRecord({ name: 's3:ObjectCreated:Put', bucket: 'images', key: 'myphoto.jpg', size: 4, etag: '40b134ab8a3dee5dd9760a7805fd495c', contentType: 'image/jpeg' }, request, ctx);
  const expected = structuredClone(seed);
  expected.responseElements = { 'content-length': '0', 'x-amz-id-2': 'node-hash', 'x-amz-request-id': '17C43E891887BA48', 'x-minio-origin-endpoint': 'http://127.0.0.1:9001' };
  expected.s3.object = { key: 'myphoto.jpg', size: 4, eTag: '40b134ab8a3dee5dd9760a7805fd495c', contentType: 'image/jpeg', userMetadata: { 'content-type': 'image/jpeg' }, sequencer: r.s3.object.sequencer };
  // Same keys in the same order at every level, same values.
  assert.equal(JSON.stringify(r), JSON.stringify(expected));
  assert.match(r.s3.object.sequencer, /^[0-9A-F]{16}$/);
  assert.equal(BigInt('0x' + r.s3.object.sequencer) / 1_000_000n, BigInt(request.time.getTime()));
});

test('keys are query-escaped for targets and raw for watchers; removals carry no object metadata', () => {
  const { queued, live }: any = buildRecords({ name: 's3:ObjectRemoved:Delete', bucket: 'b', key: 'dir/a b+(1)*.jpg', size: 9, etag: 'x', contentType: 'image/jpeg', userMetadata: { 'my-key': 'v' } }, request, ctx);
  assert.equal(queued.record.s3.object.key, 'dir%2Fa+b%2B%281%29%2A.jpg');
  assert.equal(live.s3.object.key, 'dir/a b+(1)*.jpg');
  assert.equal(queued.key, 'b/dir/a b+(1)*.jpg');
  assert.equal(queued.eventTime, '2024-04-08T07:48:36.865Z');
  assert.deepEqual(Object.keys(queued.record.s3.object), ['key', 'sequencer']);
  assert.equal(live.s3.object.sequencer, queued.record.s3.object.sequencer);
  assert.equal(queryEscape('~a-b_c.d'), '~a-b_c.d');
});

test('user metadata is canonical x-amz-meta headers plus content-type; versionId only when set; sequencers increase', () => {
  const a: any = buildRecord({ name: 's3:ObjectCreated:Copy', bucket: 'b', key: 'k', size: 1, etag: 'e', contentType: 'text/plain', userMetadata: { 'my-key': 'v' }, versionId: 'v1' }, { ...request, principal: { kind: 'serviceAccount', accessKey: 'svc1', username: 'u', userId: 'u', parentUser: 'user1' } }, ctx);
  assert.deepEqual(a.s3.object.userMetadata, { 'X-Amz-Meta-My-Key': 'v', 'content-type': 'text/plain' });
  assert.equal(a.s3.object.versionId, 'v1');
  assert.equal(a.userIdentity.principalId, 'user1', 'service accounts act for their parent');
  const b: any = buildRecord({ name: 's3:ObjectCreated:Put', bucket: 'b', key: 'k' }, request, ctx);
  assert.equal('versionId' in b.s3.object, false);
  assert.ok(BigInt('0x' + b.s3.object.sequencer) > BigInt('0x' + a.s3.object.sequencer));
  assert.equal(b.responseElements['x-minio-origin-endpoint'], 'http://127.0.0.1:9001');
  const c: any = buildRecord({ name: 's3:BucketCreated', bucket: 'nb' }, { ...request, originEndpoint: undefined, contentLength: undefined }, ctx);
  assert.deepEqual(Object.keys(c.s3.object), ['key', 'sequencer']);
  assert.equal(c.responseElements['x-minio-origin-endpoint'], 'http://fallback:9000');
  assert.equal('content-length' in c.responseElements, false);
});
