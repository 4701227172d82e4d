/**
 * Virtual-host style requests (`--domain s3.local.test`): the bucket comes from the Host
 * header (`bucket.s3.local.test:PORT`). Driven by the AWS SDK with forcePathStyle off
 * (its agent resolves every name to 127.0.0.1) and by raw requests signed with our
 * signRequest, and checked against the files in the data dir.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LookupFunction } from 'node:net';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { signRequest } from '../../src/auth/sigv4.js';
import { startServer, type TestServer } from '../helpers/server.js';

const DOMAIN = 's3.local.test';
let server: TestServer;
let vh: S3Client;
const hostsSeen: string[] = [];

/** Every name is 127.0.0.1: stands in for a wildcard DNS record *.s3.local.test. */
const loopbackLookup = ((hostname: string, options: { all?: boolean }, cb: (...a: unknown[]) => void) => {
  hostsSeen.push(hostname);
  if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

before(async () => {
  server = await startServer({ args: ['--domain', DOMAIN] });
  vh = new S3Client({
    endpoint: `http://${DOMAIN}:${server.port}`, region: 'us-east-1', forcePathStyle: false,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
    // the SDK accepts its node handler's options here (no direct @smithy import)
    requestHandler: { httpAgent: new Agent({ keepAlive: true, lookup: loopbackLookup }) },
  });
});
after(async () => {
  vh?.destroy();
  await server?.stop();
});

/** A raw request to 127.0.0.1 with the given Host header, SigV4-signed for that host. */
function raw(method: string, host: string, path: string, body = ''): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(`http://${host}${path}`);
  const headers = signRequest({ method, url, headers: {}, body, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', service: 's3' });
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

test('SDK with virtual-host addressing: create, put, get, list, head, delete address the bucket from Host', async () => {
  await vh.send(new CreateBucketCommand({ Bucket: 'vhost-bucket' }));
  await vh.send(new PutObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt', Body: 'hello virtual host' }));
  assert.ok(hostsSeen.includes(`vhost-bucket.${DOMAIN}`), `the SDK connected to the bucket's host name (saw ${[...new Set(hostsSeen)].join(', ')})`);
  assert.equal(readFileSync(join(server.dataDir, 'vhost-bucket/dir/hello.txt'), 'utf8'), 'hello virtual host');

  const got = await vh.send(new GetObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt' }));
  assert.equal(await got.Body!.transformToString(), 'hello virtual host');
  const list = await vh.send(new ListObjectsV2Command({ Bucket: 'vhost-bucket', Delimiter: '/' }));
  assert.deepEqual(list.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
  assert.equal(list.Name, 'vhost-bucket');
  await vh.send(new HeadBucketCommand({ Bucket: 'vhost-bucket' }));

  // the same object through path style on the same server
  const path = server.s3();
  const viaPath = await path.send(new GetObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt' }));
  assert.equal(await viaPath.Body!.transformToString(), 'hello virtual host');

  const url = await getSignedUrl(vh, new GetObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt' }), { expiresIn: 60 });
  assert.ok(new URL(url).host.startsWith(`vhost-bucket.${DOMAIN}:`));
  const presigned = await new Promise<string>((ok, fail) => {
    const u = new URL(url);
    request({ host: '127.0.0.1', port: server.port, path: u.pathname + u.search, headers: { host: u.host } }, (res) => {
      let s = ''; res.on('data', (c) => { s += c; }); res.on('end', () => ok(`${res.statusCode} ${s}`));
    }).on('error', fail).end();
  });
  assert.equal(presigned, '200 hello virtual host');

  await vh.send(new DeleteObjectCommand({ Bucket: 'vhost-bucket', Key: 'dir/hello.txt' }));
  assert.equal((await vh.send(new ListObjectsV2Command({ Bucket: 'vhost-bucket' }))).KeyCount, 0);
});

test('raw signed requests: the Host bucket wins over a bucket-looking path; the bare domain is path style', async () => {
  const port = server.port;
  await raw('PUT', `127.0.0.1:${port}`, '/other-bucket');
  let r = await raw('PUT', `vraw-bucket.${DOMAIN}:${port}`, '/');
  assert.equal(r.status, 200);
  // on a virtual host the whole path is the key, even when it starts like another bucket
  r = await raw('PUT', `vraw-bucket.${DOMAIN}:${port}`, '/other-bucket/k.txt', 'in vraw');
  assert.equal(r.status, 200, r.body);
  assert.equal(readFileSync(join(server.dataDir, 'vraw-bucket/other-bucket/k.txt'), 'utf8'), 'in vraw');
  r = await raw('GET', `127.0.0.1:${port}`, '/other-bucket/k.txt');
  assert.equal(r.status, 404);
  assert.match(r.body, /<Code>NoSuchKey<\/Code>/);

  r = await raw('GET', `vraw-bucket.${DOMAIN}:${port}`, '/?list-type=2&prefix=other-bucket/');
  assert.equal(r.status, 200);
  assert.match(r.body, /<Name>vraw-bucket<\/Name>/);
  assert.match(r.body, /<Key>other-bucket\/k\.txt<\/Key>/);
  r = await raw('GET', `VRAW-BUCKET.S3.LOCAL.TEST:${port}`, '/other-bucket/k.txt');
  assert.equal(r.status, 200, 'host names are case-insensitive');
  assert.equal(r.body, 'in vraw');

  // the bare domain and the IP address are path style
  r = await raw('GET', `${DOMAIN}:${port}`, '/vraw-bucket/other-bucket/k.txt');
  assert.equal(r.body, 'in vraw');
  r = await raw('GET', `${DOMAIN}:${port}`, '/');
  assert.match(r.body, /<Name>vraw-bucket<\/Name>/, 'ListBuckets on the bare domain');

  // a virtual-host bucket that does not exist
  r = await raw('GET', `nope-bucket.${DOMAIN}:${port}`, '/k');
  assert.equal(r.status, 404);
  assert.match(r.body, /<Code>NoSuchBucket<\/Code>/);
  // a signature made for another host does not verify
  const url = new URL(`http://vraw-bucket.${DOMAIN}:${port}/other-bucket/k.txt`);
  const headers = signRequest({ method: 'GET', url, headers: {}, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', service: 's3' });
  const status = await new Promise<number>((ok, fail) => {
    request({ host: '127.0.0.1', port, path: url.pathname, headers: { ...headers, host: `other.${DOMAIN}:${port}` } }, (res) => { res.resume(); ok(res.statusCode!); }).on('error', fail).end();
  });
  assert.equal(status, 403);
});
