import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand, CreateMultipartUploadCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { signRequest } from '../../src/auth/sigv4.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Sends a signed PUT announcing `length` bytes, then only `sent` of them, then drops the connection. */
async function abortedPut(server: TestServer, path: string, length: number, sent: number): Promise<void> {
  const url = new URL(`${server.url}${path}`);
  const headers = signRequest({ method: 'PUT', url, headers: { 'content-length': String(length) }, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
  const socket = connect(server.port, '127.0.0.1');
  await new Promise<void>((ok, fail) => { socket.once('connect', ok); socket.once('error', fail); });
  const head = `PUT ${url.pathname}${url.search} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  socket.write(head);
  socket.write(randomBytes(sent));
  await new Promise((r) => setTimeout(r, 200)); // the server is streaming the body to its temp file
  await new Promise<void>((ok) => { socket.once('close', () => ok()); socket.destroy(); });
}

async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a client that drops the connection mid-body: no object, no part, no temp file left, no error logged, and the server goes on', async () => {
  const server = await startServer();
  try {
    const s3 = server.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'aborts' }));
    const tmpDir = join(server.dataDir, '.s3gate.sys', 'tmp');
    const tempFiles = () => readdirSync(tmpDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    const before = tempFiles();

    await abortedPut(server, '/aborts/half.bin', 1 << 20, 100_000);
    await until(() => tempFiles() === before, 5000, 'the temp file of the dropped PUT to go');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'aborts', Key: 'half.bin' })), (e: any) => e.$metadata?.httpStatusCode === 404);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'aborts', Key: 'mp.bin' }));
    await abortedPut(server, `/aborts/mp.bin?partNumber=1&uploadId=${UploadId}`, 1 << 20, 100_000);
    const staging = join(server.dataDir, '.s3gate.sys', 'multipart', 'aborts', UploadId!);
    await until(() => !readdirSync(staging).some((f) => f.endsWith('.part')), 5000, 'the dropped part\'s bytes to go');
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'aborts', Key: 'mp.bin', UploadId }));
    assert.deepEqual(parts.Parts ?? [], []);

    // Still serving, with the same bytes in and out.
    const body = randomBytes(300_000);
    await s3.send(new PutObjectCommand({ Bucket: 'aborts', Key: 'whole.bin', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'aborts', Key: 'whole.bin' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    await s3.send(new UploadPartCommand({ Bucket: 'aborts', Key: 'mp.bin', UploadId, PartNumber: 1, Body: body }));

    // A download the client gives up on mid-body.
    await s3.send(new PutObjectCommand({ Bucket: 'aborts', Key: 'big.bin', Body: randomBytes(16 << 20) }));
    const big = await s3.send(new GetObjectCommand({ Bucket: 'aborts', Key: 'big.bin' }));
    (big.Body as Readable).destroy();
    await new Promise((r) => setTimeout(r, 300));
    // Clients that go away are not the server's internal errors.
    assert.equal(await s3.send(new HeadObjectCommand({ Bucket: 'aborts', Key: 'big.bin' })).then((h) => h.ContentLength), 16 << 20);
    assert.doesNotMatch(server.output(), /"level":"error"/);
  } finally {
    await server.stop();
  }
});
