/**
 * Crash safety: SIGKILL the server while four 200 MiB PUTs, an overwrite of an
 * acknowledged object and a multipart part are streaming in. Before restart the data
 * dir holds exactly the acknowledged objects (partial bytes live only in the temp dir);
 * after restart on the same data dir the temp dir is clean, listings show only complete
 * objects, every acknowledged object is intact byte for byte, and the multipart upload
 * keeps its finished parts (not the half-sent one) and can still be completed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, ListPartsCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { signRequest } from '../../src/auth/sigv4.js';
import { startServer, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Files under dir (relative paths), skipping the system dir. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
    .filter((p) => !p.startsWith('.s3gate.sys'))
    .sort();
}

function tempFiles(dataDir: string): { path: string; size: number }[] {
  const root = join(dataDir, '.s3gate.sys/tmp');
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => {
    const path = join(e.parentPath ?? e.path, e.name);
    return { path, size: statSync(path, { throwIfNoEntry: false })?.size ?? 0 };
  });
}

/** Part files in the multipart staging dir (a part streams straight into it). */
function stagedParts(dataDir: string): { name: string; size: number }[] {
  const root = join(dataDir, '.s3gate.sys/multipart');
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.part'))
    .map((e) => ({ name: e.name, size: statSync(join(e.parentPath ?? e.path, e.name), { throwIfNoEntry: false })?.size ?? 0 }));
}

/**
 * A streamed PUT (UNSIGNED-PAYLOAD) announcing `size` bytes and sending at most `sendAtMost`,
 * as fast as the server takes them. Never settles with success: the server dies first.
 */
function streamingPut(server: TestServer, path: string, size: number, sendAtMost = size): { done: Promise<string> } {
  const url = new URL(server.url + path);
  const headers = signRequest({ method: 'PUT', url, headers: { 'content-length': String(size) }, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
  const block = randomBytes(MiB);
  let req!: ClientRequest;
  const done = new Promise<string>((ok) => {
    req = request(url, { method: 'PUT', headers, agent: false }, (res) => { res.resume(); ok(`answered ${res.statusCode}`); });
    req.on('error', (e) => ok(`failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
  (async () => {
    for (let sent = 0; sent < sendAtMost && !req.destroyed;) {
      const n = Math.min(MiB, sendAtMost - sent);
      sent += n;
      if (!req.write(block.subarray(0, n))) {
        await new Promise<void>((r) => {
          const go = () => { req.off('drain', go); req.off('close', go); r(); };
          req.on('drain', go);
          req.on('close', go);
        });
      }
    }
    // the rest never comes: the request stays in flight until the crash
  })().catch(() => undefined);
  return { done };
}

test('SIGKILL during large uploads: no partial object visible, temp dir cleaned on restart, acknowledged objects intact', async () => {
  const server = await startServer({ keepData: true });
  const dataDir = server.dataDir;
  try {
    const s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));

    // acknowledged before the crash
    const acked = new Map<string, Buffer>([
      ['small.txt', Buffer.from('acknowledged and durable')],
      ['nested/dir/medium.bin', randomBytes(3 * MiB + 11)],
      ['overwritten.bin', randomBytes(2 * MiB)],
      ['empty', Buffer.alloc(0)],
    ]);
    for (const [key, body] of acked) await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: body }));
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB)];
    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'crash', Key: 'multipart/object.bin' }));
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: 'crash', Key: 'multipart/object.bin', UploadId: mpu.UploadId, PartNumber: i + 1, Body: p }))).ETag!);

    // in flight at the crash
    const inflight = [
      ...[0, 1, 2, 3].map((i) => streamingPut(server, `/crash/big/upload-${i}.bin`, 200 * MiB)),
      streamingPut(server, '/crash/overwritten.bin', 200 * MiB),
      streamingPut(server, `/crash/multipart/object.bin?partNumber=3&uploadId=${encodeURIComponent(mpu.UploadId!)}`, 5 * MiB, 2 * MiB),
    ];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const temps = tempFiles(dataDir);
      const part3 = stagedParts(dataDir).filter((p) => /^3\./.test(p.name));
      if (temps.filter((t) => t.size >= 24 * MiB).length >= 5 && part3.some((p) => p.size >= 2 * MiB)) break;
      if (Date.now() > deadline) {
        const o = await Promise.all(inflight.map((u) => Promise.race([u.done, sleep(100)])));
        assert.fail(`uploads did not get going: ${JSON.stringify({ temps, part3, o })}`);
      }
      await sleep(20);
    }
    server.process.kill('SIGKILL');
    const outcomes = await Promise.all(inflight.map((u) => u.done));
    assert.ok(outcomes.every((o) => o.startsWith('failed')), `no in-flight upload was acknowledged: ${outcomes.join(', ')}`);
    await new Promise((ok) => { if (server.process.exitCode !== null || server.process.signalCode) ok(undefined); else server.process.once('exit', ok); });

    // the crash left partial bytes only in the temp dir
    assert.ok(tempFiles(dataDir).filter((t) => t.size >= 24 * MiB).length >= 5, 'partial uploads were in the temp dir at the crash');
    assert.deepEqual(filesUnder(join(dataDir, 'crash')), [...acked.keys()].sort());
    for (const [key, body] of acked) assert.equal(sha(readFileSync(join(dataDir, 'crash', key))), sha(body), key);

    const again = await startServer({ dataDir });
    try {
      assert.deepEqual(tempFiles(dataDir), [], 'start-up removed the temp garbage');
      const s3b = again.s3();
      const listed = await s3b.send(new ListObjectsV2Command({ Bucket: 'crash' }));
      assert.deepEqual(listed.Contents?.map((c) => [c.Key, c.Size]), [...acked].map(([k, b]) => [k, b.length]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
      for (const [key, body] of acked) {
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
        assert.equal(sha(Buffer.from(await got.Body!.transformToByteArray())), sha(body), key);
        assert.equal(got.ETag, `"${createHash('md5').update(body).digest('hex')}"`, `${key} kept its metadata`);
      }
      for (let i = 0; i < 4; i++) {
        await assert.rejects(s3b.send(new HeadObjectCommand({ Bucket: 'crash', Key: `big/upload-${i}.bin` })), { name: 'NotFound' });
      }

      // the multipart upload kept its two finished parts, not the half-sent third
      const lp = await s3b.send(new ListPartsCommand({ Bucket: 'crash', Key: 'multipart/object.bin', UploadId: mpu.UploadId }));
      assert.deepEqual(lp.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, 5 * MiB, etags[0]], [2, 5 * MiB, etags[1]]]);
      await s3b.send(new CompleteMultipartUploadCommand({
        Bucket: 'crash', Key: 'multipart/object.bin', UploadId: mpu.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }));
      const whole = await s3b.send(new GetObjectCommand({ Bucket: 'crash', Key: 'multipart/object.bin' }));
      assert.equal(sha(Buffer.from(await whole.Body!.transformToByteArray())), sha(Buffer.concat(parts)));
      assert.deepEqual(tempFiles(dataDir), []);
      assert.deepEqual(stagedParts(dataDir), [], 'completing the upload freed its staging, the half-sent part too');
    } finally {
      await again.stop();
    }
  } finally {
    // (the helper's stop() waits forever on a child that a signal already killed)
    if (server.process.exitCode === null && server.process.signalCode === null) await server.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
