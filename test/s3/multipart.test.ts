/** Multipart uploads over the AWS SDK v3: low-level commands, every error, lib-storage, listings, copies. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  GetObjectTaggingCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand, PutObjectCommand, S3Client,
  S3ServiceException, UploadPartCommand, UploadPartCopyCommand, type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectError } from '../helpers/s3-assert.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'mp-bucket';
const MiB = 1024 * 1024;

before(async () => {
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => { await server?.stop(); });

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const body = async (r: { Body?: any }) => Buffer.from(await r.Body!.transformToByteArray());
const multipartEtag = (parts: Buffer[]) => `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;
const stagingDir = (uploadId: string, b = bucket) => join(server.dataDir, '.s3gate.sys', 'multipart', b, uploadId);

async function create(key: string, extra: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {}) {
  const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
  assert.ok(r.UploadId && /^[0-9a-f]{44}$/.test(r.UploadId), 'upload ids are long random hex');
  return r.UploadId!;
}

async function uploadParts(key: string, uploadId: string, parts: Buffer[], extra: Record<string, unknown> = {}): Promise<CompletedPart[]> {
  const out: CompletedPart[] = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: parts[i], ...extra }));
    assert.equal(r.ETag, `"${md5(parts[i]).toString('hex')}"`);
    out.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32, ChecksumCRC32C: r.ChecksumCRC32C, ChecksumSHA256: r.ChecksumSHA256 });
  }
  return out;
}

const complete = (key: string, uploadId: string, parts: CompletedPart[], extra: Record<string, unknown> = {}) =>
  s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...extra }));

function crc32Raw(b: Buffer): Buffer { const o = Buffer.alloc(4); o.writeUInt32BE(crc32(b) >>> 0); return o; }
function crc32cRaw(b: Buffer): Buffer { const o = Buffer.alloc(4); o.writeUInt32BE(crc32c(b) >>> 0); return o; }

test('create with metadata, headers, tagging and CRC32; parts; complete: ETag, composite checksum, metadata, partNumber GET/HEAD', async () => {
  const key = 'docs/report.bin';
  const uploadId = await create(key, {
    ContentType: 'application/x-report', Metadata: { owner: 'alice' }, CacheControl: 'no-cache', ContentDisposition: 'inline',
    Tagging: 'team=a&year=2024', ChecksumAlgorithm: 'CRC32',
  });
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
  const completed = await uploadParts(key, uploadId, parts, { ChecksumAlgorithm: 'CRC32' });
  assert.equal(completed[0].ChecksumCRC32, crc32Raw(parts[0]).toString('base64'));
  assert.ok(existsSync(stagingDir(uploadId)), 'parts are staged under the system dir');
  const done = await complete(key, uploadId, completed);
  assert.equal(done.ETag, multipartEtag(parts));
  const composite = `${crc32Raw(Buffer.concat(parts.map(crc32Raw))).toString('base64')}-3`;
  assert.equal(done.ChecksumCRC32, composite);
  assert.equal(done.ChecksumType, 'COMPOSITE');
  assert.equal(done.Key, key);
  assert.equal(existsSync(stagingDir(uploadId)), false, 'a completed upload leaves nothing behind');

  const whole = Buffer.concat(parts);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
  assert.equal(sha256(await body(got)), sha256(whole));
  assert.equal(got.ETag, done.ETag);
  assert.equal(got.ContentType, 'application/x-report');
  assert.equal(got.CacheControl, 'no-cache');
  assert.equal(got.ContentDisposition, 'inline');
  assert.deepEqual(got.Metadata, { owner: 'alice' });
  assert.equal(got.ChecksumCRC32, composite);
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'a' }, { Key: 'year', Value: '2024' }]);

  const p2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2 }));
  assert.equal(p2.$metadata.httpStatusCode, 206);
  assert.equal(p2.PartsCount, 3);
  assert.equal(p2.ContentRange, `bytes ${5 * MiB}-${10 * MiB - 1}/${whole.length}`);
  assert.deepEqual(await body(p2), parts[1]);
  const h3 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 3 }));
  assert.equal(h3.ContentLength, 1234);
  assert.equal(h3.PartsCount, 3);
  assert.equal(h3.ETag, done.ETag);
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 4 })), (e: S3ServiceException) => e.$metadata.httpStatusCode === 416);
  await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 4 })), 'InvalidPartNumber', 416);
});

test('FULL_OBJECT CRC32C checksum is the CRC of the whole object; unsupported algorithm/type pairs are refused', async () => {
  const key = 'full-object.bin';
  const uploadId = await create(key, { ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' });
  const parts = [randomBytes(5 * MiB), randomBytes(777_777)];
  const completed = await uploadParts(key, uploadId, parts, { ChecksumAlgorithm: 'CRC32C' });
  const done = await complete(key, uploadId, completed, { ChecksumType: 'FULL_OBJECT' });
  const expected = crc32cRaw(Buffer.concat(parts)).toString('base64');
  assert.equal(done.ChecksumCRC32C, expected);
  assert.equal(done.ChecksumType, 'FULL_OBJECT');
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
  assert.equal(head.ChecksumCRC32C, expected);
  assert.equal(head.ChecksumType, 'FULL_OBJECT');

  await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', ChecksumAlgorithm: 'SHA1', ChecksumType: 'FULL_OBJECT' })), 'InvalidRequest', 400);
  await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' })), 'InvalidRequest', 400);
  await expectError(s3.send(new CreateMultipartUploadCommand({ Bucket: 'no-such-bucket-mp', Key: 'x' })), 'NoSuchBucket', 404);
});

test('upload part errors: NoSuchUpload (unknown, malformed, path escape, other key), part number range, bad digests, checksum mismatch', async () => {
  const key = 'errors/part.bin';
  const uploadId = await create(key, { ChecksumAlgorithm: 'SHA256' });
  const data = randomBytes(1000);
  const part = (extra: Record<string, unknown>) => s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: data, ChecksumAlgorithm: 'SHA256', ...extra }));
  await expectError(part({ UploadId: randomBytes(22).toString('hex') }), 'NoSuchUpload', 404);
  await expectError(part({ UploadId: 'not-an-upload-id' }), 'NoSuchUpload', 404);
  await expectError(part({ UploadId: '../../../../etc' }), 'NoSuchUpload', 404);
  await expectError(part({ Key: 'errors/other-key' }), 'NoSuchUpload', 404);
  await expectError(part({ PartNumber: 0 }), 'InvalidArgument', 400);
  await expectError(part({ PartNumber: 10001 }), 'InvalidArgument', 400);
  await expectError(part({ ContentMD5: md5(Buffer.from('other')).toString('base64') }), 'BadDigest', 400);
  await expectError(part({ ChecksumSHA256: createHash('sha256').update('other').digest('base64') }), 'BadDigest', 400);
  await expectError(part({ ChecksumAlgorithm: 'CRC32' }), 'InvalidRequest', 400);
  const ok = await part({ PartNumber: 10000, ContentMD5: md5(data).toString('base64') });
  assert.equal(ok.ChecksumSHA256, createHash('sha256').update(data).digest('base64'));
  const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  assert.deepEqual(listed.Parts?.map((p) => p.PartNumber), [10000], 'failed parts left nothing');
  const files = readdirSync(stagingDir(uploadId)).sort();
  assert.equal(files.filter((f) => f.endsWith('.part')).length, 1, `only the good part's bytes are staged: ${files}`);
  assert.equal(files.some((f) => f.endsWith('.tmp')), false);

  for (const send of [
    () => s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: randomBytes(22).toString('hex') })),
    () => s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: 'zzz' })),
    () => complete(key, '../' + uploadId, [{ PartNumber: 10000, ETag: ok.ETag }]),
  ]) await expectError(send(), 'NoSuchUpload', 404);
  await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
});

test('complete errors: InvalidPart, InvalidPartOrder, EntityTooSmall, MalformedXML, NoSuchUpload; a failed complete changes nothing', async () => {
  const key = 'errors/complete.bin';
  const uploadId = await create(key, { ChecksumAlgorithm: 'CRC32' });
  const parts = [randomBytes(5 * MiB), randomBytes(100), randomBytes(200)];
  const c = await uploadParts(key, uploadId, parts, { ChecksumAlgorithm: 'CRC32' });
  await expectError(complete(key, uploadId, [c[0], { PartNumber: 7, ETag: c[1].ETag }]), 'InvalidPart', 400);
  await expectError(complete(key, uploadId, [c[0], { ...c[1], ETag: `"${'0'.repeat(32)}"` }]), 'InvalidPart', 400);
  await expectError(complete(key, uploadId, [c[0], { ...c[1], ChecksumCRC32: 'AAAAAA==' }]), 'InvalidPart', 400);
  await expectError(complete(key, uploadId, [c[1], c[0]]), 'InvalidPartOrder', 400);
  await expectError(complete(key, uploadId, [c[0], c[0]]), 'InvalidPartOrder', 400);
  const small = await expectError(complete(key, uploadId, c), 'EntityTooSmall', 400);
  assert.match(small.message, /smaller than the minimum/);
  await expectError(complete(key, uploadId, []), 'MalformedXML', 400);
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), (e: S3ServiceException) => e.$metadata.httpStatusCode === 404);
  // the upload is intact: 5 MiB + a small last part completes fine
  const done = await complete(key, uploadId, [c[0], c[1]]);
  assert.equal(done.ETag, multipartEtag([parts[0], parts[1]]));
  assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength, 5 * MiB + 100);
  await expectError(complete(key, uploadId, [c[0], c[1]]), 'NoSuchUpload', 404);
  await expectError(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })), 'NoSuchUpload', 404);
});

test('complete with If-None-Match: * and If-Match', async () => {
  const key = 'conditional.bin';
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'existing' }));
  const uploadId = await create(key);
  const c = await uploadParts(key, uploadId, [Buffer.from('new content')]);
  await expectError(complete(key, uploadId, c, { IfNoneMatch: '*' }), 'PreconditionFailed', 412);
  await expectError(complete(key, uploadId, c, { IfMatch: '"0123456789abcdef0123456789abcdef"' }), 'PreconditionFailed', 412);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  await complete(key, uploadId, c, { IfMatch: head.ETag });
  assert.equal((await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))).toString(), 'new content');
  const fresh = await create('conditional-new.bin');
  const c2 = await uploadParts('conditional-new.bin', fresh, [Buffer.from('created')]);
  await complete('conditional-new.bin', fresh, c2, { IfNoneMatch: '*' });
});

test('re-uploading a part replaces the earlier one and leaves no stale bytes', async () => {
  const key = 'replace.bin';
  const uploadId = await create(key);
  const first = randomBytes(5 * MiB);
  const second = randomBytes(5 * MiB + 10);
  const tail = Buffer.from('tail');
  const send = (n: number, b: Buffer) => s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: b }));
  await send(1, first);
  await send(2, tail);
  const replaced = await send(1, second);
  const parts = (await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))).Parts!;
  assert.deepEqual(parts.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, second.length, replaced.ETag], [2, 4, `"${md5(tail).toString('hex')}"`]]);
  assert.equal(readdirSync(stagingDir(uploadId)).filter((f) => f.endsWith('.part')).length, 2, 'the replaced part\'s bytes are removed');
  await expectError(complete(key, uploadId, [{ PartNumber: 1, ETag: `"${md5(first).toString('hex')}"` }, { PartNumber: 2, ETag: parts[1].ETag }]), 'InvalidPart', 400);
  await complete(key, uploadId, parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })));
  assert.equal(sha256(await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))), sha256(Buffer.concat([second, tail])));
});

test('abort: 204, nothing left under the staging dir, later calls NoSuchUpload', async () => {
  const b = 'mp-abort';
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
  await s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: r.UploadId, PartNumber: 1, Body: randomBytes(1000) }));
  await s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: r.UploadId, PartNumber: 2, Body: randomBytes(1000) }));
  const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: r.UploadId }));
  assert.equal(aborted.$metadata.httpStatusCode, 204);
  assert.equal(existsSync(join(server.dataDir, '.s3gate.sys', 'multipart', b)), false, 'no files or directories left for the bucket');
  await expectError(s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: r.UploadId, PartNumber: 1, Body: 'x' })), 'NoSuchUpload', 404);
  await expectError(s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: r.UploadId })), 'NoSuchUpload', 404);
});

test('ListParts pagination with part-number-marker and max-parts, checksums per part', async () => {
  const key = 'list-parts.bin';
  const uploadId = await create(key, { ChecksumAlgorithm: 'CRC32' });
  const parts = [1, 2, 3, 4, 5].map((n) => Buffer.alloc(100 + n, n));
  for (const n of [5, 1, 3, 2, 4]) {
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: parts[n - 1], ChecksumAlgorithm: 'CRC32' }));
  }
  const seen: number[] = [];
  let marker: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 2, PartNumberMarker: marker }));
    pages++;
    assert.equal(page.MaxParts, 2);
    assert.equal(page.ChecksumAlgorithm, 'CRC32');
    for (const p of page.Parts ?? []) {
      seen.push(p.PartNumber!);
      assert.equal(p.Size, parts[p.PartNumber! - 1].length);
      assert.equal(p.ChecksumCRC32, crc32Raw(parts[p.PartNumber! - 1]).toString('base64'));
      assert.ok(p.LastModified instanceof Date);
    }
    if (!page.IsTruncated) break;
    assert.equal(String(page.NextPartNumberMarker), String(seen[seen.length - 1]));
    marker = String(page.NextPartNumberMarker);
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(pages, 3);
  await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
});

test('ListMultipartUploads: prefix, delimiter/CommonPrefixes, key and upload-id markers, max-uploads', async () => {
  const b = 'mp-list';
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  const keys = ['a/1', 'a/2', 'b', 'b', 'b', 'c/x/y', 'd'];
  const ids: [string, string][] = [];
  for (const k of keys) {
    const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: k, ChecksumAlgorithm: k === 'd' ? 'SHA256' : undefined }));
    ids.push([k, r.UploadId!]);
    await new Promise((ok) => setTimeout(ok, 2)); // distinct creation times
  }
  const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
  assert.deepEqual(all.Uploads!.map((u) => [u.Key, u.UploadId]), ids, 'sorted by key, then initiation');
  assert.equal(all.IsTruncated, false);
  assert.equal(all.Uploads!.find((u) => u.Key === 'd')!.ChecksumAlgorithm, 'SHA256');
  assert.ok(all.Uploads![0].Initiated instanceof Date);

  const seen: [string, string][] = [];
  let km: string | undefined;
  let im: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, MaxUploads: 2, KeyMarker: km, UploadIdMarker: im }));
    for (const u of page.Uploads ?? []) seen.push([u.Key!, u.UploadId!]);
    if (!page.IsTruncated) break;
    km = page.NextKeyMarker;
    im = page.NextUploadIdMarker;
  }
  assert.deepEqual(seen, ids, 'pages with key and upload-id markers cover every upload once');

  const grouped = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, Delimiter: '/' }));
  assert.deepEqual(grouped.CommonPrefixes!.map((p) => p.Prefix), ['a/', 'c/']);
  assert.deepEqual(grouped.Uploads!.map((u) => u.Key), ['b', 'b', 'b', 'd']);
  const prefixed = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, Prefix: 'c/', Delimiter: '/' }));
  assert.deepEqual(prefixed.CommonPrefixes!.map((p) => p.Prefix), ['c/x/']);
  assert.equal((prefixed.Uploads ?? []).length, 0);
  const paged = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, Delimiter: '/', MaxUploads: 1 }));
  assert.deepEqual(paged.CommonPrefixes!.map((p) => p.Prefix), ['a/']);
  assert.equal(paged.IsTruncated, true);
  const next = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, Delimiter: '/', MaxUploads: 2, KeyMarker: paged.NextKeyMarker }));
  assert.deepEqual(next.Uploads!.map((u) => u.Key), ['b', 'b']);
  const afterKey = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, KeyMarker: 'b' }));
  assert.deepEqual(afterKey.Uploads!.map((u) => u.Key), ['c/x/y', 'd'], 'key-marker alone skips every upload of that key');
  for (const [k, id] of ids) await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: k, UploadId: id }));
  assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads, undefined);
});

test('UploadPartCopy with ranges and copy-source conditions', async () => {
  const src = randomBytes(12 * MiB);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/source', Body: src }));
  const key = 'copy/dest';
  const uploadId = await create(key, { ChecksumAlgorithm: 'CRC32' });
  const copy = (n: number, extra: Record<string, unknown>) =>
    s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, CopySource: `${bucket}/copy/source`, ...extra }));
  const first = await copy(1, { CopySourceRange: `bytes=0-${6 * MiB - 1}` });
  assert.equal(first.CopyPartResult!.ETag, `"${md5(src.subarray(0, 6 * MiB)).toString('hex')}"`);
  assert.equal(first.CopyPartResult!.ChecksumCRC32, crc32Raw(src.subarray(0, 6 * MiB)).toString('base64'));
  assert.ok(first.CopyPartResult!.LastModified instanceof Date);
  const second = await copy(2, { CopySourceRange: `bytes=${6 * MiB}-${12 * MiB - 1}` });
  const whole = await copy(3, {});
  await expectError(copy(4, { CopySourceRange: `bytes=0-${12 * MiB}` }), 'InvalidRange', 416);
  await expectError(copy(4, { CopySourceRange: 'bytes=5-' }), 'InvalidArgument', 400);
  await expectError(copy(4, { CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' }), 'PreconditionFailed', 412);
  await expectError(copy(4, { CopySourceIfNoneMatch: `"${md5(src).toString('hex')}"` }), 'PreconditionFailed', 412);
  await expectError(copy(4, { CopySourceIfUnmodifiedSince: new Date(Date.now() - 3600_000) }), 'PreconditionFailed', 412);
  await expectError(copy(4, { CopySource: `${bucket}/copy/missing` }), 'NoSuchKey', 404);
  const ok = await copy(4, { CopySourceIfMatch: `"${md5(src).toString('hex')}"`, CopySourceRange: 'bytes=10-19' });
  const done = await complete(key, uploadId, [
    { PartNumber: 1, ETag: first.CopyPartResult!.ETag }, { PartNumber: 2, ETag: second.CopyPartResult!.ETag },
    { PartNumber: 3, ETag: whole.CopyPartResult!.ETag }, { PartNumber: 4, ETag: ok.CopyPartResult!.ETag },
  ]);
  const expected = Buffer.concat([src, src, src.subarray(10, 20)]);
  assert.equal(done.ETag, multipartEtag([src.subarray(0, 6 * MiB), src.subarray(6 * MiB), src, src.subarray(10, 20)]));
  assert.equal(sha256(await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))), sha256(expected));
});

test('several uploads to one key completing at once end with exactly one of them', async () => {
  const key = 'race/target.bin';
  const contents = [0, 1, 2, 3].map(() => [randomBytes(5 * MiB), randomBytes(300_000)]);
  const uploads = await Promise.all(contents.map(async (parts) => {
    const id = await create(key);
    return { id, parts, completed: await uploadParts(key, id, parts) };
  }));
  const results = await Promise.all(uploads.map((u) => complete(key, u.id, u.completed)));
  results.forEach((r, i) => assert.equal(r.ETag, multipartEtag(contents[i])));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const data = await body(got);
  const winner = contents.findIndex((parts) => sha256(Buffer.concat(parts)) === sha256(data));
  assert.ok(winner >= 0, 'the object is one complete upload, never a mix');
  assert.equal(got.ETag, multipartEtag(contents[winner]));
  for (const u of uploads) assert.equal(existsSync(stagingDir(u.id)), false);
});

function randomStream(size: number, hash: ReturnType<typeof createHash>): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left === 0) { this.push(null); return; }
      const n = Math.min(left, 256 * 1024 + 17);
      const chunk = randomBytes(n);
      hash.update(chunk);
      left -= n;
      this.push(chunk);
    },
  });
}

for (const mode of ['ChecksumAlgorithm CRC32', 'SDK defaults'] as const) {
  test(`lib-storage Upload of a ~40 MiB stream (${mode})`, async () => {
    const key = `lib-storage/${mode.replace(/\W+/g, '-')}`;
    const hash = createHash('sha256');
    const size = 40 * MiB + 12345;
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: randomStream(size, hash), ...(mode === 'ChecksumAlgorithm CRC32' ? { ChecksumAlgorithm: 'CRC32' as const } : {}) },
      partSize: 5 * MiB,
      queueSize: 4,
    });
    const done = await upload.done();
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-9"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    assert.equal(head.ContentLength, size);
    assert.match(head.ChecksumCRC32 ?? '', /-9$/, 'the SDK asks for CRC32 on the upload: a composite checksum');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const h = createHash('sha256');
    for await (const c of got.Body as Readable) h.update(c);
    assert.equal(h.digest('hex'), hash.digest('hex'));
    const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    assert.equal(left.Uploads, undefined, 'the completed upload is gone');
  });
}
