/** S3 core over the AWS SDK v3 with its default settings (checksums on). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketLocationCommand,
  GetObjectCommand, GetObjectTaggingCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsCommand,
  ListObjectsV2Command, PutBucketTaggingCommand, GetBucketTaggingCommand, DeleteBucketTaggingCommand, PutObjectCommand,
  PutObjectTaggingCommand, DeleteObjectTaggingCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectError } from '../helpers/s3-assert.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'core-bucket';

before(async () => {
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => { await server?.stop(); });

const body = async (r: { Body?: any }) => Buffer.from(await r.Body!.transformToByteArray());

test('buckets: create, list, head, location, already owned, bad names, delete non-empty', async () => {
  const list = await s3.send(new ListBucketsCommand({}));
  assert.ok(list.Buckets!.some((b) => b.Name === bucket));
  await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  const loc = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
  assert.ok(!loc.LocationConstraint);
  await expectError(s3.send(new CreateBucketCommand({ Bucket: bucket })), 'BucketAlreadyOwnedByYou', 409);
  await expectError(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })), 'InvalidBucketName', 400);
  await expectError(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })), 'NotFound', 404);
  await s3.send(new CreateBucketCommand({ Bucket: 'tmp-bucket' }));
  await s3.send(new PutObjectCommand({ Bucket: 'tmp-bucket', Key: 'x', Body: 'x' }));
  await expectError(s3.send(new DeleteBucketCommand({ Bucket: 'tmp-bucket' })), 'BucketNotEmpty', 409);
  await s3.send(new DeleteObjectCommand({ Bucket: 'tmp-bucket', Key: 'x' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'tmp-bucket' }));
  assert.equal(existsSync(join(server.dataDir, 'tmp-bucket')), false);
});

test('put/get round trip with metadata, standard headers and checksums', async () => {
  const data = randomBytes(300_000);
  const put = await s3.send(new PutObjectCommand({
    Bucket: bucket, Key: 'dir/sub/file.bin', Body: data, ContentType: 'application/x-test',
    Metadata: { color: 'blue', 'multi-word': 'hello world' }, CacheControl: 'max-age=60', ContentDisposition: 'attachment; filename="f.bin"',
    ContentLanguage: 'en', ContentEncoding: 'identity', Expires: new Date('2030-01-01T00:00:00Z'),
  }));
  assert.equal(put.ETag, `"${createHash('md5').update(data).digest('hex')}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/sub/file.bin', ChecksumMode: 'ENABLED' }));
  assert.deepEqual(await body(got), data);
  assert.equal(got.ContentType, 'application/x-test');
  assert.deepEqual(got.Metadata, { color: 'blue', 'multi-word': 'hello world' });
  assert.equal(got.CacheControl, 'max-age=60');
  assert.equal(got.ContentDisposition, 'attachment; filename="f.bin"');
  assert.equal(got.ContentLanguage, 'en');
  assert.equal(got.ContentEncoding, 'identity');
  assert.equal(got.ExpiresString ?? got.Expires?.toUTCString(), 'Tue, 01 Jan 2030 00:00:00 GMT');
  assert.ok(got.ChecksumCRC32, 'the SDK default CRC32 checksum is stored and returned');
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/sub/file.bin' }));
  assert.equal(head.ContentLength, data.length);
  assert.equal(head.ETag, put.ETag);
});

test('streamed upload (aws-chunked with trailer checksum) and explicit SHA256 checksum', async () => {
  const data = randomBytes(2 * 1024 * 1024 + 17);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed', Body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]), ContentLength: data.length }));
  assert.deepEqual(await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed' }))), data);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sha', Body: data, ChecksumAlgorithm: 'SHA256' }));
  assert.equal(put.ChecksumSHA256, createHash('sha256').update(data).digest('base64'));
});

test('bad checksum and bad Content-MD5 are refused and change nothing', async () => {
  await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-md5', Body: 'hello', ContentMD5: createHash('md5').update('other').digest('base64') })), 'BadDigest', 400);
  await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-crc', Body: 'hello', ChecksumCRC32: 'AAAAAA==' })), 'BadDigest', 400);
  await expectError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-md5' })), 'NotFound', 404);
  await expectError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad-crc' })), 'NotFound', 404);
});

test('ranges: normal, open, suffix, 416, partNumber', async () => {
  const data = Buffer.from('0123456789abcdefghij');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: data }));
  const r1 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=2-5' }));
  assert.equal((await body(r1)).toString(), '2345');
  assert.equal(r1.ContentRange, 'bytes 2-5/20');
  assert.equal(r1.$metadata.httpStatusCode, 206);
  assert.equal((await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=15-' })))).toString(), 'fghij');
  assert.equal((await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=-3' })))).toString(), 'hij');
  assert.equal((await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=18-100' })))).toString(), 'ij');
  await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=20-' })), 'InvalidRange', 416);
  const p1 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', PartNumber: 1 }));
  assert.equal((await body(p1)).toString(), data.toString());
  await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', PartNumber: 2 })), 'InvalidPartNumber', 416);
  const ov = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', ResponseContentType: 'text/x-override', ResponseContentDisposition: 'inline' }));
  assert.equal(ov.ContentType, 'text/x-override');
  assert.equal(ov.ContentDisposition, 'inline');
});

test('conditional GET/HEAD/PUT', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v1' }));
  const etag = put.ETag!;
  await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: etag }));
  await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"nope"' })), 'PreconditionFailed', 412);
  const notModified = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err) => err as S3ServiceException);
    assert.equal(e?.$metadata.httpStatusCode, 304);
  };
  await notModified(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: etag })));
  await notModified(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond', IfModifiedSince: new Date(Date.now() + 3600_000) })));
  const headStatus = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond', IfUnmodifiedSince: new Date('2000-01-01') })).then(() => 200, (e) => e.$metadata.httpStatusCode);
  assert.equal(headStatus, 412);
  // If-Match wins over a failing If-Unmodified-Since
  await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: etag, IfUnmodifiedSince: new Date('2000-01-01') }));
  await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-new', Body: 'v1', IfNoneMatch: '*' }));
  await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfMatch: '"nope"' })), 'PreconditionFailed', 412);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'v2', IfMatch: etag }));
  assert.equal((await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' })))).toString(), 'v2');
});

test('copy: COPY and REPLACE directives, onto itself, source conditions', async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'copy me', ContentType: 'text/plain', Metadata: { a: '1' } }));
  const c1 = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src` }));
  assert.ok(c1.CopyObjectResult?.ETag);
  const h1 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst' }));
  assert.deepEqual(h1.Metadata, { a: '1' });
  assert.equal(h1.ContentType, 'text/plain');
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst2', CopySource: `/${bucket}/src`, MetadataDirective: 'REPLACE', Metadata: { b: '2' }, ContentType: 'text/x-new' }));
  const h2 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst2' }));
  assert.deepEqual(h2.Metadata, { b: '2' });
  assert.equal(h2.ContentType, 'text/x-new');
  await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src` })), 'InvalidRequest', 400);
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src`, MetadataDirective: 'REPLACE', Metadata: { c: '3' } }));
  const h3 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }));
  assert.deepEqual(h3.Metadata, { c: '3' });
  assert.equal((await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'src' })))).toString(), 'copy me');
  await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst3', CopySource: `${bucket}/src`, CopySourceIfMatch: '"nope"' })), 'PreconditionFailed', 412);
  await expectError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst3', CopySource: `${bucket}/missing` })), 'NoSuchKey', 404);
});

test('tagging: object and bucket, x-amz-tagging on PUT, tag count', async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 'x', Tagging: 'k1=v1&k2=v%202' }));
  const t = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
  assert.deepEqual(t.TagSet, [{ Key: 'k1', Value: 'v1' }, { Key: 'k2', Value: 'v 2' }]);
  const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tagged' }));
  assert.equal(g.TagCount, 2);
  await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet, [{ Key: 'only', Value: 'one' }]);
  await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
  assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet, []);
  await expectError(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) } })), 'InvalidTag', 400);
  await expectError(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 'NoSuchTagSet', 404);
  await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'core' }] } }));
  assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet, [{ Key: 'team', Value: 'core' }]);
  await s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
  await expectError(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 'NoSuchTagSet', 404);
});

test('listing: thousands of keys, byte order across nested dirs, delimiter, pagination, v1 markers', async () => {
  const b = 'list-bucket';
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  const keys: string[] = [];
  for (let i = 0; i < 40; i++) for (let j = 0; j < 50; j++) keys.push(`d${String(i).padStart(2, '0')}/f${j}`);
  keys.push('a-b', 'a.b/c', 'a/b', 'a0', 'z', 'ä', '😀', '\uFFFD');
  // write files straight into the tree: listing must serve files that came in through POSIX too
  for (const k of keys) {
    const p = join(server.dataDir, b, k);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, k);
  }
  const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: token, MaxKeys: 333 }));
    seen.push(...(r.Contents ?? []).map((c) => c.Key!));
    token = r.NextContinuationToken;
    pages++;
    if (r.IsTruncated) assert.equal(r.KeyCount, 333);
  } while (token);
  assert.deepEqual(seen, expected);
  assert.equal(pages, Math.ceil(expected.length / 333));

  const d = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
  assert.deepEqual(d.CommonPrefixes!.map((p) => p.Prefix), ['a.b/', 'a/', ...Array.from({ length: 40 }, (_, i) => `d${String(i).padStart(2, '0')}/`)]);
  assert.deepEqual(d.Contents!.map((c) => c.Key), ['a-b', 'a0', 'z', 'ä', '\uFFFD', '😀']);

  const p = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'd1', Delimiter: '/', MaxKeys: 4 }));
  assert.deepEqual(p.CommonPrefixes!.map((x) => x.Prefix), ['d10/', 'd11/', 'd12/', 'd13/']);
  assert.equal(p.IsTruncated, true);
  const p2 = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'd1', Delimiter: '/', ContinuationToken: p.NextContinuationToken }));
  assert.deepEqual(p2.CommonPrefixes!.map((x) => x.Prefix), ['d14/', 'd15/', 'd16/', 'd17/', 'd18/', 'd19/']);

  const sa = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'd39/f5', MaxKeys: 3 }));
  assert.deepEqual(sa.Contents!.map((c) => c.Key), ['d39/f6', 'd39/f7', 'd39/f8']);

  const v1 = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'd05/', MaxKeys: 10, Delimiter: '/' }));
  assert.equal(v1.IsTruncated, true);
  assert.equal(v1.NextMarker, 'd05/f17');
  const v1b = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'd05/', Marker: v1.NextMarker }));
  assert.equal(v1b.Contents!.length, 40);
  assert.ok(v1b.Contents![0].Owner?.ID);

  const enc = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'ä', EncodingType: 'url' }));
  assert.equal(enc.Contents![0].Key, '%C3%A4');
  assert.equal(enc.EncodingType, 'url');
  const owner = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 1, FetchOwner: true }));
  assert.ok(owner.Contents![0].Owner?.ID);
  await expectError(s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: 'garbage' })), 'InvalidArgument', 400);
});

test('delete: single, multi with quiet mode, parents removed, directory objects', async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deep/a/b/c.txt', Body: 'x' }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'deep/a/b/c.txt' }));
  assert.equal(existsSync(join(server.dataDir, bucket, 'deep')), false, 'empty parents are removed');
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-existed' }));

  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'folder/', Body: '' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'folder/in', Body: 'x' }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'folder/in' }));
  const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'folder/' }));
  assert.equal(h.ContentLength, 0);
  const l = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'folder' }));
  assert.deepEqual(l.Contents!.map((c) => c.Key), ['folder/']);

  const keys = Array.from({ length: 1000 }, (_, i) => `multi/${i}`);
  await Promise.all(keys.slice(0, 20).map((k) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }))));
  const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  assert.equal(r.Deleted!.length, 1000);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'multi/q', Body: 'q' }));
  const q = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'multi/q' }], Quiet: true } }));
  assert.equal(q.Deleted, undefined);
  await expectError(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` })) } })), 'MalformedXML', 400);
});

test('keys that cannot be paths are refused and nothing escapes the bucket', async () => {
  const raw = async (path: string) => {
    const { signRequest } = await import('../../src/auth/sigv4.js');
    const { request } = await import('node:http');
    const headers = signRequest({ method: 'PUT', url: new URL(server.url), rawPath: path, headers: {}, body: 'evil', accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', service: 's3' });
    // node:http sends the path as given (fetch would normalise the dot segments away)
    return new Promise<{ status: number; text: () => Promise<string> }>((ok, fail) => {
      const req = request({ host: '127.0.0.1', port: server.port, method: 'PUT', path, headers: { ...headers, 'content-length': 4 } }, (res) => {
        let b = '';
        res.on('data', (d) => { b += d; });
        res.on('end', () => ok({ status: res.statusCode!, text: async () => b }));
      });
      req.on('error', fail);
      req.end('evil');
    });
  };
  for (const p of [`/${bucket}/a/../../escape`, `/${bucket}/a//b`, `/${bucket}/./x`, `/${bucket}/%2e%2e/x`]) {
    const r = await raw(p);
    assert.equal(r.status, 400, p);
    assert.match(await r.text(), /<Code>InvalidArgument<\/Code>/);
  }
  assert.equal(existsSync(join(server.dataDir, 'escape')), false);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'file-then-dir', Body: 'x' }));
  await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'file-then-dir/child', Body: 'x' })), 'XMinioParentIsObject', 409);
});

test('errors: bad signature, unknown key, skew; XML body with request id; HEAD errors have no body', async () => {
  const bad = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: server.accessKey, secretAccessKey: 'wrong-secret' } });
  await expectError(bad.send(new ListBucketsCommand({})), 'SignatureDoesNotMatch', 403);
  const unknown = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'nobody', secretAccessKey: 'whatever-secret' } });
  await expectError(unknown.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  const skewed = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, systemClockOffset: 20 * 60 * 1000, maxAttempts: 1, credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey } });
  await expectError(skewed.send(new ListBucketsCommand({})), 'RequestTimeTooSkewed', 403);
  bad.destroy(); unknown.destroy(); skewed.destroy();
  const anon = await fetch(`${server.url}/${bucket}/x`);
  assert.equal(anon.status, 403);
  const xml = await anon.text();
  assert.match(xml, /<Code>AccessDenied<\/Code>/);
  assert.match(xml, new RegExp(`<RequestId>${anon.headers.get('x-amz-request-id')}</RequestId>`));
  const head = await fetch(`${server.url}/${bucket}/x`, { method: 'HEAD' });
  assert.equal(head.status, 403);
  assert.equal((await head.text()).length, 0);
  const health = await fetch(`${server.url}/minio/health/live`);
  assert.equal(health.status, 200);
  assert.equal((await fetch(`${server.url}/minio/health/ready`)).status, 200);
});
