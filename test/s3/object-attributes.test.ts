/** GetObjectAttributes over the AWS SDK v3: single-part and multipart objects, part paging, errors. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand, HeadObjectCommand,
  PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectError } from '../helpers/s3-assert.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'attr-bucket';
const MiB = 1024 * 1024;
const crc32b64 = (b: Buffer) => { const o = Buffer.alloc(4); o.writeUInt32BE(crc32(b) >>> 0); return o.toString('base64'); };

before(async () => {
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => { await server?.stop(); });

test('single-part object: ETag, Checksum, StorageClass, ObjectSize, no ObjectParts, Last-Modified', async () => {
  const data = randomBytes(4321);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: data, ChecksumAlgorithm: 'CRC32' }));
  const r = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'single', ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] }));
  assert.equal(r.ETag, createHash('md5').update(data).digest('hex'), 'the ETag comes without quotes');
  assert.equal(r.Checksum?.ChecksumCRC32, crc32b64(data));
  assert.equal(r.Checksum?.ChecksumType, 'FULL_OBJECT');
  assert.equal(r.StorageClass, 'STANDARD');
  assert.equal(r.ObjectSize, data.length);
  assert.equal(r.ObjectParts, undefined);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'single' }));
  assert.equal(r.LastModified?.getTime(), head.LastModified?.getTime());

  const only = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'single', ObjectAttributes: ['ObjectSize'] }));
  assert.equal(only.ObjectSize, data.length);
  assert.equal(only.ETag, undefined, 'only the requested attributes are returned');
});

test('multipart object: ObjectParts with part checksums, paged with MaxParts and PartNumberMarker', async () => {
  const key = 'multi';
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32' }));
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(10)];
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: i + 1, Body: parts[i], ChecksumAlgorithm: 'CRC32' }));
    done.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
  }
  const c = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, MultipartUpload: { Parts: done } }));
  const all = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'ObjectSize'] }));
  assert.equal(`"${all.ETag}"`, c.ETag);
  assert.equal(all.Checksum?.ChecksumCRC32, c.ChecksumCRC32);
  assert.equal(all.Checksum?.ChecksumType, 'COMPOSITE');
  assert.equal(all.ObjectSize, 10 * MiB + 10);
  assert.equal(all.ObjectParts?.TotalPartsCount, 3);
  assert.equal(all.ObjectParts?.IsTruncated, false);
  assert.deepEqual(all.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32]), parts.map((p, i) => [i + 1, p.length, crc32b64(p)]));

  const page1 = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ObjectParts'], MaxParts: 2 }));
  assert.equal(page1.ObjectParts?.IsTruncated, true);
  assert.equal(page1.ObjectParts?.MaxParts, 2);
  assert.deepEqual(page1.ObjectParts?.Parts?.map((p) => p.PartNumber), [1, 2]);
  const page2 = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ObjectParts'], MaxParts: 2, PartNumberMarker: page1.ObjectParts?.NextPartNumberMarker }));
  assert.equal(page2.ObjectParts?.IsTruncated, false);
  assert.deepEqual(page2.ObjectParts?.Parts?.map((p) => p.PartNumber), [3]);
});

test('errors: missing key, missing bucket, bad attribute name', async () => {
  await expectError(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'missing', ObjectAttributes: ['ETag'] })), 'NoSuchKey', 404);
  await expectError(s3.send(new GetObjectAttributesCommand({ Bucket: 'no-such-attr-bucket', Key: 'k', ObjectAttributes: ['ETag'] })), 'NoSuchBucket', 404);
  await expectError(s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'single', ObjectAttributes: ['Bogus' as 'ETag'] })), 'InvalidArgument', 400);
});
