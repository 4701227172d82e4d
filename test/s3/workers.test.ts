/**
 * `--workers 2`: a burst of concurrent PUT/GET/LIST served by both workers with correct
 * results, and graceful shutdown: SIGTERM during a slow streamed upload lets the upload
 * finish and commit a complete object, then the server exits 0. Instances on ephemeral
 * ports sharing a data dir each have their own temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request, type ClientRequest } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { signRequest } from '../../src/auth/sigv4.js';
import { startServer, type TestServer } from '../helpers/server.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

test('two workers: a burst of concurrent PUT/GET/LIST, served by both, all results right', async () => {
  const server = await startServer({ workers: 2, env: { S3GATE_LOG_LEVEL: 'debug' } });
  try {
    assert.match(server.output(), /2 workers/);
    const s3 = server.s3({ requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 48 }) } });
    await s3.send(new CreateBucketCommand({ Bucket: 'burst' }));
    const objects = Array.from({ length: 300 }, (_, i) => ({ key: `k/${i % 10}/obj-${i}`, data: randomBytes(1 + ((i * 7919) % 65536)) }));
    await pool(objects, 48, async (o) => { await s3.send(new PutObjectCommand({ Bucket: 'burst', Key: o.key, Body: o.data })); });

    // reads and listings interleaved with more writes of one hot key (each write is atomic)
    const versions = Array.from({ length: 40 }, (_, i) => Buffer.alloc(10_000 + i, i));
    const work: (() => Promise<void>)[] = [
      ...objects.map((o) => async () => {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'burst', Key: o.key }));
        assert.equal(sha(Buffer.from(await got.Body!.transformToByteArray())), sha(o.data), o.key);
      }),
      ...versions.map((v) => async () => { await s3.send(new PutObjectCommand({ Bucket: 'burst', Key: 'hot', Body: v })); }),
      ...Array.from({ length: 20 }, (_, i) => async () => {
        const l = await s3.send(new ListObjectsV2Command({ Bucket: 'burst', Prefix: `k/${i % 10}/` }));
        assert.equal(l.KeyCount, 30);
      }),
    ];
    await pool(work.sort(() => Math.random() - 0.5), 48, (w) => w());

    const hot = await s3.send(new GetObjectCommand({ Bucket: 'burst', Key: 'hot' }));
    const hotBody = Buffer.from(await hot.Body!.transformToByteArray());
    assert.ok(versions.some((v) => v.equals(hotBody)), 'the hot key holds one complete version');
    const all: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'burst', Prefix: 'k/', MaxKeys: 100, ContinuationToken: token }));
      all.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(all, objects.map((o) => o.key).sort());

    const pids = new Set([...server.output().matchAll(/"msg":"request","pid":(\d+)/g)].map((m) => m[1]));
    assert.equal(pids.size, 2, 'both workers served requests');
    assert.equal(await server.stop('SIGTERM'), 0);
  } finally {
    await server.stop('SIGKILL');
  }
});

/** Starts a PUT that sends `chunks` one by one with `gapMs` between them. */
function slowPut(server: TestServer, bucket: string, key: string, chunks: Buffer[], gapMs: number) {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const url = new URL(`${server.url}/${bucket}/${key}`);
  const headers = signRequest({ method: 'PUT', url, headers: { 'content-length': String(total) }, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
  let sent = 0;
  let req!: ClientRequest;
  const response = new Promise<{ status: number; body: string }>((ok, fail) => {
    req = request(url, { method: 'PUT', headers }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => ok({ status: res.statusCode!, body }));
    });
    req.on('error', fail);
  });
  const writing = (async () => {
    for (const c of chunks) {
      req.write(c);
      sent++;
      await sleep(gapMs);
    }
    req.end();
  })();
  return { response, writing, sent: () => sent };
}

/** Resolves once a file exists under dir (a request is in its handler once its temp file does). */
async function fileAppears(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => e.isFile())) {
    if (Date.now() > deadline) throw new Error(`no file appeared under ${dir}`);
    await sleep(20);
  }
}

for (const workers of [2, 1]) {
  test(`SIGTERM with ${workers} worker(s): an in-flight slow upload completes, the object is whole, exit code 0`, async () => {
    const server = await startServer({ workers, keepData: true });
    try {
      const s3 = server.s3();
      await s3.send(new CreateBucketCommand({ Bucket: 'graceful' }));
      const chunks = Array.from({ length: 16 }, () => randomBytes(512 * 1024));
      const whole = Buffer.concat(chunks);
      const upload = slowPut(server, 'graceful', 'slow/upload.bin', chunks, 150);
      await fileAppears(join(server.dataDir, '.s3gate.sys/tmp'));
      assert.ok(upload.sent() < chunks.length, 'the upload is still in flight');

      const exited = new Promise<number | null>((ok) => server.process.once('exit', (code) => ok(code)));
      server.process.kill('SIGTERM');
      const res = await upload.response;
      assert.equal(res.status, 200, res.body);
      assert.equal(readFileSync(join(server.dataDir, 'graceful/slow/upload.bin')).equals(whole), true, 'the committed object has every byte');
      const t0 = Date.now();
      const code = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
      assert.equal(code, 0, `server exit code after SIGTERM\n${server.output().slice(-2000)}`);
      // the finished upload's keep-alive connection must not hold the exit (keepAliveTimeout is 5 s)
      assert.ok(Date.now() - t0 < 3000, `exited ${Date.now() - t0} ms after the last response`);

      // restarted on the same data dir, the object is there and whole
      const again = await startServer({ dataDir: server.dataDir, workers });
      try {
        const got = await again.s3().send(new GetObjectCommand({ Bucket: 'graceful', Key: 'slow/upload.bin' }));
        assert.equal(sha(Buffer.from(await got.Body!.transformToByteArray())), sha(whole));
        assert.equal(got.ETag, `"${createHash('md5').update(whole).digest('hex')}"`);
      } finally {
        await again.stop();
      }
    } finally {
      await server.stop('SIGKILL');
      rmSync(server.dataDir, { recursive: true, force: true });
    }
  });
}

test('instances on ephemeral ports sharing a data dir: own temp dirs, a second start leaves the first one\'s upload whole, a killed one\'s temp files go at the next start', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 's3gate-test-'));
  const tmpRoot = join(dataDir, '.s3gate.sys/tmp');
  const servers: TestServer[] = [];
  const start = async () => { const s = await startServer({ dataDir }); servers.push(s); return s; };
  const sorted = (pids: number[]) => [...pids].sort((x, y) => x - y);
  const owners = () => sorted(readdirSync(tmpRoot).map((id) => Number(/-0-(\d+)$/.exec(id)?.[1])));
  try {
    const a = await start();
    await a.s3().send(new CreateBucketCommand({ Bucket: 'shared' }));
    // about 6 s of upload: longer than an instance takes to start
    const chunks = Array.from({ length: 20 }, () => randomBytes(128 * 1024));
    const upload = slowPut(a, 'shared', 'whole.bin', chunks, 300);
    await fileAppears(tmpRoot);
    const b = await start();
    assert.ok(upload.sent() < chunks.length, 'the upload was still in flight when the second instance started');
    const res = await upload.response;
    assert.equal(res.status, 200, res.body);
    assert.ok(readFileSync(join(dataDir, 'shared/whole.bin')).equals(Buffer.concat(chunks)), 'the object has every byte');
    assert.deepEqual(owners(), sorted([a.process.pid!, b.process.pid!]), 'one temp dir per instance, named after its process');

    // a dies mid-upload: its partial temp file stays until an instance starts
    const doomed = slowPut(a, 'shared', 'partial.bin', chunks, 150);
    doomed.response.catch(() => {});
    await fileAppears(join(tmpRoot, readdirSync(tmpRoot).find((id) => id.endsWith(`-0-${a.process.pid}`))!));
    await a.stop('SIGKILL');
    const c = await start();
    assert.deepEqual(owners(), sorted([b.process.pid!, c.process.pid!]), 'the killed instance\'s temp dir is gone, the running one\'s is kept');
    await assert.rejects(c.s3().send(new GetObjectCommand({ Bucket: 'shared', Key: 'partial.bin' })), { name: 'NoSuchKey' });
  } finally {
    for (const s of servers) await s.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
