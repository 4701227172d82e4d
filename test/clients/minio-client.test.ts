/**
 * The `minio` npm client against the real server: buckets, putObject with metadata,
 * fPutObject (multipart) / fGetObject byte-exact, statObject, listObjectsV2 streams,
 * copyObject (both signatures), removeObjects, presignedGetObject fetched with plain HTTP.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let mc: Minio.Client;
let dir: string;
const bucket = 'minio-js';

before(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 's3gate-minio-'));
  mc = new Minio.Client({
    endPoint: '127.0.0.1', port: server.port, useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey,
    region: 'us-east-1', partSize: 5 * 1024 * 1024,
  });
});
after(async () => {
  if (process.env.S3GATE_TEST_SHOW_LOG) console.log(server.output().slice(-4000));
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function listAll(prefix: string, recursive: boolean, startAfter?: string): Promise<Minio.BucketItem[]> {
  const items: Minio.BucketItem[] = [];
  for await (const it of mc.listObjectsV2(bucket, prefix, recursive, startAfter)) items.push(it as Minio.BucketItem);
  return items;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return (e as { code?: string }).code ?? String(e); }
  return 'no error';
}

test('buckets: makeBucket, bucketExists, listBuckets, duplicate', async () => {
  assert.equal(await mc.bucketExists(bucket), false);
  await mc.makeBucket(bucket, 'us-east-1');
  assert.equal(await mc.bucketExists(bucket), true);
  assert.ok((await mc.listBuckets()).some((b) => b.name === bucket));
  assert.equal(await codeOf(mc.makeBucket(bucket, 'us-east-1')), 'BucketAlreadyOwnedByYou');
});

test('putObject with metadata and statObject; getObject and getPartialObject', async () => {
  const data = randomBytes(123_457);
  const up = await mc.putObject(bucket, 'meta/obj.bin', data, data.length, { 'Content-Type': 'application/x-minio', 'X-Amz-Meta-Owner': 'alice', 'x-amz-meta-Project': 'gate' });
  assert.equal(up.etag, createHash('md5').update(data).digest('hex'));
  const st = await mc.statObject(bucket, 'meta/obj.bin');
  assert.equal(st.size, data.length);
  assert.equal(st.etag, up.etag);
  assert.equal(st.metaData['content-type'], 'application/x-minio');
  assert.equal(st.metaData.owner, 'alice');
  assert.equal(st.metaData.project, 'gate');
  assert.ok(st.lastModified instanceof Date && Math.abs(st.lastModified.getTime() - Date.now()) < 60_000);

  const chunks: Buffer[] = [];
  for await (const c of await mc.getObject(bucket, 'meta/obj.bin')) chunks.push(c as Buffer);
  assert.equal(sha(Buffer.concat(chunks)), sha(data));
  const part: Buffer[] = [];
  for await (const c of await mc.getPartialObject(bucket, 'meta/obj.bin', 1000, 24)) part.push(c as Buffer);
  assert.deepEqual(Buffer.concat(part), data.subarray(1000, 1024));

  // a stream of unknown length goes up as a multipart upload
  const streamed = randomBytes(11 * 1024 * 1024);
  await mc.putObject(bucket, 'meta/streamed.bin', Readable.from([streamed.subarray(0, 4 << 20), streamed.subarray(4 << 20)]));
  const sst = await mc.statObject(bucket, 'meta/streamed.bin');
  assert.equal(sst.size, streamed.length);
  assert.match(sst.etag, /-1$/, 'unknown length: one multipart part of the maximum part size');
  assert.equal(await codeOf(mc.statObject(bucket, 'meta/nope')), 'NotFound');
});

test('fPutObject (multipart) and fGetObject are byte-exact', async () => {
  const data = randomBytes(23 * 1024 * 1024 + 77);
  writeFileSync(join(dir, 'up.bin'), data);
  await mc.fPutObject(bucket, 'files/up.bin', join(dir, 'up.bin'), { 'x-amz-meta-source': 'file' });
  const st = await mc.statObject(bucket, 'files/up.bin');
  assert.equal(st.size, data.length);
  assert.match(st.etag, /-5$/, 'five 5 MiB parts');
  assert.equal(st.metaData.source, 'file');
  await mc.fGetObject(bucket, 'files/up.bin', join(dir, 'down.bin'));
  assert.equal(sha(readFileSync(join(dir, 'down.bin'))), sha(data));
});

test('listObjectsV2 streams: recursive, by prefix, with delimiter, startAfter, more than a page', async () => {
  const keys: string[] = [];
  for (let i = 0; i < 1100; i++) keys.push(`many/${String(i).padStart(4, '0')}`);
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => mc.putObject(bucket, k, k)));
  const all = await listAll('many/', true);
  assert.deepEqual(all.map((o) => o.name), keys, 'the client followed the continuation token past 1000 keys');
  assert.equal(all[5].size, 9);
  const after = await listAll('many/', true, 'many/1090');
  assert.deepEqual(after.map((o) => o.name), keys.slice(1091));
  const top = await listAll('', false);
  assert.deepEqual(top.map((o) => o.prefix ?? o.name), ['files/', 'many/', 'meta/']);
});

test('copyObject: legacy signature with conditions, and source/destination options', async () => {
  const cond = new Minio.CopyConditions();
  const src = await mc.statObject(bucket, 'meta/obj.bin');
  cond.setMatchETag(src.etag);
  const r = await mc.copyObject(bucket, 'copies/one.bin', `/${bucket}/meta/obj.bin`, cond);
  assert.equal((r as { etag?: string }).etag, src.etag);
  const copied = await mc.statObject(bucket, 'copies/one.bin');
  assert.equal(copied.metaData.owner, 'alice');

  const bad = new Minio.CopyConditions();
  bad.setMatchETag('0123456789abcdef0123456789abcdef');
  assert.equal(await codeOf(mc.copyObject(bucket, 'copies/never.bin', `/${bucket}/meta/obj.bin`, bad)), 'PreconditionFailed');

  await mc.copyObject(
    new Minio.CopySourceOptions({ Bucket: bucket, Object: 'meta/obj.bin' }),
    new Minio.CopyDestinationOptions({ Bucket: bucket, Object: 'copies/two.bin', MetadataDirective: 'REPLACE', UserMetadata: { owner: 'bob' } }),
  );
  const two = await mc.statObject(bucket, 'copies/two.bin');
  assert.equal(two.metaData.owner, 'bob');
  assert.equal(two.size, src.size);
});

test('presignedGetObject works with plain fetch, and expires', async () => {
  const url = await mc.presignedGetObject(bucket, 'meta/obj.bin', 60);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const got = Buffer.from(await res.arrayBuffer());
  const st = await mc.statObject(bucket, 'meta/obj.bin');
  assert.equal(got.length, st.size);
  assert.equal(createHash('md5').update(got).digest('hex'), st.etag);
  const old = await mc.presignedGetObject(bucket, 'meta/obj.bin', 1, undefined, new Date(Date.now() - 3600_000));
  const expired = await fetch(old);
  assert.equal(expired.status, 403);
  assert.match(await expired.text(), /<Code>AccessDenied<\/Code>.*expired/s);
});

test('removeObjects deletes in bulk; the bucket can then be removed', async () => {
  const names = (await listAll('', true)).map((o) => o.name!);
  assert.ok(names.length > 1100);
  const res = await mc.removeObjects(bucket, names);
  assert.ok(res.every((r) => !(r as { Error?: unknown }).Error), JSON.stringify(res.slice(0, 3)));
  assert.deepEqual(await listAll('', true), []);
  await mc.removeBucket(bucket);
  assert.equal(await mc.bucketExists(bucket), false);
});
