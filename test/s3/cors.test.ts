/** Bucket CORS: configuration API, preflight answers, headers on actual responses, cache invalidation across workers. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, DeleteBucketCorsCommand, GetBucketCorsCommand, GetObjectCommand, PutBucketCorsCommand, PutObjectCommand,
  S3Client, type CORSRule,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { signRequest } from '../../src/auth/sigv4.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { expectError } from '../helpers/s3-assert.js';

let server: TestServer;
let s3: S3Client;
const bucket = 'cors-bucket';

before(async () => {
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-none' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello', ContentType: 'text/plain' }));
});
after(async () => { await server?.stop(); });

const RULES: CORSRule[] = [
  { ID: 'app', AllowedOrigins: ['http://*.example.com'], AllowedMethods: ['GET', 'PUT', 'POST'], AllowedHeaders: ['x-amz-*', 'Content-Type'], ExposeHeaders: ['ETag', 'x-amz-request-id'], MaxAgeSeconds: 600 },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
];

function preflight(path: string, origin: string | undefined, method: string | undefined, headers?: string) {
  const h: Record<string, string> = {};
  if (origin !== undefined) h.origin = origin;
  if (method !== undefined) h['access-control-request-method'] = method;
  if (headers !== undefined) h['access-control-request-headers'] = headers;
  return fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: h });
}

async function errorCode(r: Response): Promise<{ code: string; message: string }> {
  const text = await r.text();
  return { code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '', message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '' };
}

test('Put/Get/DeleteBucketCors round trip and NoSuchCORSConfiguration', async () => {
  await expectError(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NoSuchCORSConfiguration', 404);
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: RULES } }));
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
  assert.deepEqual(got.CORSRules, [
    { ID: 'app', AllowedOrigins: ['http://*.example.com'], AllowedMethods: ['GET', 'PUT', 'POST'], AllowedHeaders: ['x-amz-*', 'Content-Type'], ExposeHeaders: ['ETag', 'x-amz-request-id'], MaxAgeSeconds: 600 },
    { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
  ]);
  await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
  await expectError(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 'NoSuchCORSConfiguration', 404);
  await expectError(s3.send(new GetBucketCorsCommand({ Bucket: 'no-such-bucket-cors' })), 'NoSuchBucket', 404);
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: RULES } }));
});

test('invalid CORS configurations are refused with S3 errors and change nothing', async () => {
  const put = (rules: CORSRule[]) => s3.send(new PutBucketCorsCommand({ Bucket: 'cors-none', CORSConfiguration: { CORSRules: rules } }));
  await expectError(put([{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }]), 'InvalidRequest', 400, /unsupported HTTP method.*PATCH/);
  await expectError(put([{ AllowedOrigins: ['*'], AllowedMethods: ['get'] }]), 'InvalidRequest', 400, /Unsupported method is get/);
  await expectError(put([{ AllowedOrigins: ['http://*.*.example.com'], AllowedMethods: ['GET'] }]), 'InvalidRequest', 400, /more than one wildcard/);
  await expectError(put([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] }]), 'InvalidRequest', 400, /AllowedHeader/);
  await expectError(put([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['x-amz-*'] }]), 'InvalidRequest', 400, /ExposeHeader/);
  await expectError(put([{ AllowedOrigins: [], AllowedMethods: ['GET'] }]), 'MalformedXML', 400);
  await expectError(put([{ AllowedOrigins: ['*'], AllowedMethods: [] }]), 'MalformedXML', 400);
  await expectError(put([]), 'MalformedXML', 400);
  await expectError(put(Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }))), 'InvalidRequest', 400, /100 rules/);
  // raw bodies: not XML at all, and a non-numeric MaxAgeSeconds
  const url = new URL(`${server.url}/cors-none?cors`);
  for (const body of ['not xml', '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>ten</MaxAgeSeconds></CORSRule></CORSConfiguration>']) {
    const headers = signRequest({ method: 'PUT', url, headers: {}, body, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1', service: 's3' });
    const r = await fetch(url, { method: 'PUT', body, headers });
    assert.equal(r.status, 400);
    assert.equal((await errorCode(r)).code, 'MalformedXML');
  }
  await expectError(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-none' })), 'NoSuchCORSConfiguration', 404);
});

test('preflight: wildcard origins, methods, headers, max age, expose headers', async () => {
  const r = await preflight(`/${bucket}/some/key`, 'http://app.example.com', 'PUT', 'Content-Type, X-Amz-Date, x-amz-meta-color');
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal(r.headers.get('access-control-allow-origin'), 'http://app.example.com');
  assert.equal(r.headers.get('access-control-allow-methods'), 'GET, PUT, POST');
  assert.equal(r.headers.get('access-control-allow-headers'), 'content-type, x-amz-date, x-amz-meta-color');
  assert.equal(r.headers.get('access-control-max-age'), '600');
  assert.equal(r.headers.get('access-control-expose-headers'), 'ETag, x-amz-request-id');
  assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
  assert.match(r.headers.get('vary') ?? '', /Origin/);
  // the * rule answers * and no credentials
  const any = await preflight(`/${bucket}/k`, 'https://elsewhere.test', 'GET');
  assert.equal(any.status, 200);
  assert.equal(any.headers.get('access-control-allow-origin'), '*');
  assert.equal(any.headers.get('access-control-allow-credentials'), null);
  assert.equal(any.headers.get('access-control-max-age'), null);
  // the bucket itself (POST form uploads preflight the bucket URL)
  assert.equal((await preflight(`/${bucket}`, 'http://a.example.com', 'POST')).status, 200);
});

test('preflight refusals: origin, method, header, no configuration, malformed', async () => {
  const cases: [string, string | undefined, string | undefined, string | undefined, number, string, RegExp][] = [
    [`/${bucket}/k`, 'https://elsewhere.test', 'PUT', undefined, 403, 'AccessForbidden', /not allowed/],
    [`/${bucket}/k`, 'http://example.com', 'PUT', undefined, 403, 'AccessForbidden', /not allowed/], // *.example.com needs a subdomain
    [`/${bucket}/k`, 'http://app.example.com', 'DELETE', undefined, 403, 'AccessForbidden', /not allowed/],
    [`/${bucket}/k`, 'http://app.example.com', 'PUT', 'authorization', 403, 'AccessForbidden', /not allowed/],
    ['/cors-none/k', 'http://app.example.com', 'GET', undefined, 403, 'AccessForbidden', /CORS is not enabled/],
    ['/no-such-bucket-cors/k', 'http://app.example.com', 'GET', undefined, 403, 'AccessForbidden', /CORS is not enabled/],
    [`/${bucket}/k`, undefined, 'GET', undefined, 400, 'BadRequest', /Origin/],
    [`/${bucket}/k`, 'http://app.example.com', undefined, undefined, 400, 'BadRequest', /Access-Control-Request-Method/],
    [`/${bucket}/k`, 'http://app.example.com', 'PATCH', undefined, 400, 'BadRequest', /Access-Control-Request-Method/],
  ];
  for (const [path, origin, method, headers, status, code, message] of cases) {
    const r = await preflight(path, origin, method, headers);
    assert.equal(r.status, status, `${path} ${origin} ${method} ${headers}`);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    const e = await errorCode(r);
    assert.equal(e.code, code);
    assert.match(e.message, message);
  }
});

test('actual requests with an Origin get CORS headers, error responses too', async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
  const ok = await fetch(url, { headers: { origin: 'http://app.example.com' } });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'hello');
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://app.example.com');
  assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(ok.headers.get('access-control-expose-headers'), 'ETag, x-amz-request-id');
  assert.match(ok.headers.get('vary') ?? '', /Origin/);

  // anonymous: AccessDenied, still readable by the page
  const denied = await fetch(`${server.url}/${bucket}/hello.txt`, { headers: { origin: 'https://elsewhere.test' } });
  assert.equal(denied.status, 403);
  assert.equal(denied.headers.get('access-control-allow-origin'), '*');
  assert.equal((await errorCode(denied)).code, 'AccessDenied');

  const missing = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'missing' }));
  const nk = await fetch(missing, { headers: { origin: 'http://app.example.com' } });
  assert.equal(nk.status, 404);
  assert.equal(nk.headers.get('access-control-allow-origin'), 'http://app.example.com');
  // a method no rule allows for that origin: no Allow-Origin, but Vary
  const delUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'put-from-elsewhere' }));
  const put = await fetch(delUrl, { method: 'PUT', body: 'x', headers: { origin: 'https://elsewhere.test' } });
  assert.equal(put.status, 200);
  assert.equal(put.headers.get('access-control-allow-origin'), null);
  assert.match(put.headers.get('vary') ?? '', /Origin/);

  // no Origin: no CORS headers at all; no configuration: none either
  const plain = await fetch(url);
  assert.equal(plain.headers.get('access-control-allow-origin'), null);
  await s3.send(new PutObjectCommand({ Bucket: 'cors-none', Key: 'k', Body: 'k' }));
  const none = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'cors-none', Key: 'k' })), { headers: { origin: 'http://app.example.com' } });
  assert.equal(none.status, 200);
  assert.equal(none.headers.get('access-control-allow-origin'), null);
  assert.equal(none.headers.get('vary'), null);
});

test('with several workers, Put/DeleteBucketCors apply at once in every worker', async () => {
  const multi = await startServer({ workers: 3 });
  try {
    const c = multi.s3();
    await c.send(new CreateBucketCommand({ Bucket: 'multi' }));
    const probe = async () => {
      const rs = await Promise.all(Array.from({ length: 30 }, () => fetch(`${multi.url}/multi/k`, {
        method: 'OPTIONS', headers: { origin: 'http://x.test', 'access-control-request-method': 'GET', connection: 'close' },
      }).then(async (r) => { await r.arrayBuffer(); return r.status; })));
      return new Set(rs);
    };
    assert.deepEqual(await probe(), new Set([403])); // every worker caches "no CORS"
    await c.send(new PutBucketCorsCommand({ Bucket: 'multi', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://x.test'], AllowedMethods: ['GET'] }] } }));
    assert.deepEqual(await probe(), new Set([200]));
    await c.send(new DeleteBucketCorsCommand({ Bucket: 'multi' }));
    assert.deepEqual(await probe(), new Set([403]));
  } finally {
    await multi.stop();
  }
});
