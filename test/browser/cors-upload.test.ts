/**
 * A real browser (headless Chromium) on another origin talks to s3gate: it submits an
 * HTML POST policy form (redirecting back to the page), uploads with FormData through
 * fetch and with a presigned PUT, reads both back through CORS with presigned GETs, and
 * is blocked where no CORS rule matches.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as Minio from 'minio';
import { startServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
let server: TestServer;
let s3: S3Client;
let pageServer: Server;
let pageOrigin: string;
let browser: Browser;
let page: Page;
const redirects: URL[] = [];
let formHtml = '';
const bucket = 'browser-bucket';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

before(async () => {
  if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} is missing: install the Debian package chromium (apt-get install chromium)`);
  server = await startServer();
  s3 = server.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: 'no-cors-bucket' }));
  await s3.send(new PutObjectCommand({ Bucket: 'no-cors-bucket', Key: 'secret.txt', Body: 'not for other origins' }));

  // the page lives on another loopback address: a different origin than the gateway
  pageServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', pageOrigin);
    if (url.pathname === '/done') {
      redirects.push(url);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="done">uploaded</p>');
      return;
    }
    if (url.pathname === '/form') { res.writeHead(200, { 'content-type': 'text/html' }).end(formHtml); return; }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>uploader</title><p>uploader</p><script>${PAGE_SCRIPT}</script>`);
  });
  await new Promise<void>((ok) => pageServer.listen(0, '127.0.0.2', ok));
  const addr = pageServer.address() as { port: number };
  pageOrigin = `http://127.0.0.2:${addr.port}`;

  await s3.send(new PutBucketCorsCommand({
    Bucket: bucket, CORSConfiguration: {
      CORSRules: [{ AllowedOrigins: [pageOrigin], AllowedMethods: ['GET', 'PUT', 'POST'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'Location'], MaxAgeSeconds: 60 }],
    },
  }));

  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage();
  await page.goto(`${pageOrigin}/`);
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => pageServer ? pageServer.close(ok) : ok(undefined));
  await server?.stop();
});

function minio(): Minio.Client {
  return new Minio.Client({ endPoint: '127.0.0.1', port: server.port, useSSL: false, accessKey: server.accessKey, secretKey: server.secretKey, region: 'us-east-1' });
}

/** A SigV4 POST policy (minio client) for keys under `prefix`, with extra conditions/fields. */
async function postPolicy(prefix: string, extra: Record<string, string> = {}) {
  const policy = minio().newPostPolicy();
  policy.setBucket(bucket);
  policy.setKeyStartsWith(prefix);
  policy.setExpires(new Date(Date.now() + 5 * 60_000));
  policy.setContentLengthRange(1, 10 * 1024 * 1024);
  for (const [k, v] of Object.entries(extra)) {
    policy.policy.conditions.push(['eq', `$${k}`, v]);
    policy.formData[k] = v;
  }
  return minio().presignedPostPolicy(policy);
}

/** The uploader page's script: plain browser JavaScript, served with the page. */
const PAGE_SCRIPT = `
  async function runUploads(a) {
    const b64ToBytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const bytesToB64 = (u) => { let s = ''; for (const x of u) s += String.fromCharCode(x); return btoa(s); };
    const out = { origin: location.origin };
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...a.formData, key: 'fetch/posted.bin' })) form.append(k, v);
    form.append('file', new File([b64ToBytes(a.posted)], 'posted.bin'));
    const p = await fetch(a.postURL, { method: 'POST', body: form });
    out.postStatus = p.status;
    out.postEtag = p.headers.get('etag');
    out.postBody = await p.text();
    const u = await fetch(a.putUrl, { method: 'PUT', body: b64ToBytes(a.putData), headers: { 'content-type': 'application/x-upload' } });
    out.putStatus = u.status;
    out.putEtag = u.headers.get('etag');
    const g1 = await fetch(a.getPosted);
    out.gotPosted = bytesToB64(new Uint8Array(await g1.arrayBuffer()));
    const g2 = await fetch(a.getPut);
    out.gotPutType = g2.headers.get('content-type');
    out.gotPut = bytesToB64(new Uint8Array(await g2.arrayBuffer()));
    const blocked = async (f) => { try { await f(); return 'not blocked'; } catch (e) { return e.name; } };
    out.blockedGet = await blocked(() => fetch(a.getNoCors));
    out.blockedPut = await blocked(() => fetch(a.putNoCors, { method: 'PUT', body: 'x' }));
    out.blockedHeader = await blocked(() => fetch(a.getPut, { headers: { authorization: 'AWS x:y' }, credentials: 'omit', method: 'DELETE' }));
    return out;
  }
`;

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

test('an HTML POST policy form on another origin uploads a file and redirects back', async () => {
  const { postURL, formData } = await postPolicy('html/', { success_action_redirect: `${pageOrigin}/done`, 'Content-Type': 'image/png' });
  const hidden = Object.entries({ ...formData, key: 'html/${filename}' })
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('\n');
  formHtml = `<!doctype html><form id="f" action="${escapeHtml(postURL)}" method="post" enctype="multipart/form-data">
${hidden}
<input type="file" name="file" id="file"><button type="submit" id="go">Upload</button></form>`;
  await page.goto(`${pageOrigin}/form`);
  const png = randomBytes(64 * 1024);
  const file = join(mkdtempSync(join(tmpdir(), 'browser-')), 'picture.png');
  writeFileSync(file, png);
  await page.setInputFiles('#file', file);
  await Promise.all([page.waitForURL(`${pageOrigin}/done**`), page.click('#go')]);
  const done = redirects.at(-1)!;
  assert.equal(done.searchParams.get('bucket'), bucket);
  assert.equal(done.searchParams.get('key'), 'html/picture.png');
  assert.equal(done.searchParams.get('etag'), `"${md5(png)}"`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'html/picture.png' }));
  assert.equal(head.ContentType, 'image/png');
  assert.equal(head.ContentLength, png.length);
  await page.goto(`${pageOrigin}/`);
});

test('fetch + FormData POST, presigned PUT, then both read back through CORS; non-matching requests are blocked', async () => {
  const posted = randomBytes(300_000);
  const putData = randomBytes(500_000);
  const { postURL, formData } = await postPolicy('fetch/', { success_action_status: '201' });
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'fetch/put.bin', ContentType: 'application/x-upload' }), { expiresIn: 300, signableHeaders: new Set(['content-type']) });
  const getPosted = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'fetch/posted.bin' }), { expiresIn: 300 });
  const getPut = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'fetch/put.bin' }), { expiresIn: 300 });
  const getNoCors = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'no-cors-bucket', Key: 'secret.txt' }), { expiresIn: 300 });
  const putNoCors = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'no-cors-bucket', Key: 'from-browser.bin' }), { expiresIn: 300 });

  const result = await page.evaluate((a) => (window as unknown as { runUploads: (x: unknown) => Promise<Record<string, unknown>> }).runUploads(a), {
    formData, postURL, putUrl, getPosted, getPut, getNoCors, putNoCors,
    posted: posted.toString('base64'), putData: putData.toString('base64'),
  });

  assert.equal(result.origin, pageOrigin);
  assert.equal(result.postStatus, 201, String(result.postBody));
  assert.equal(result.postEtag, `"${md5(posted)}"`);
  assert.match(String(result.postBody), /<PostResponse>[\s\S]*<Key>fetch\/posted\.bin<\/Key>[\s\S]*<\/PostResponse>/);
  assert.equal(result.putStatus, 200);
  assert.equal(result.putEtag, `"${md5(putData)}"`);
  assert.equal(md5(Buffer.from(String(result.gotPosted), 'base64')), md5(posted));
  assert.equal(md5(Buffer.from(String(result.gotPut), 'base64')), md5(putData));
  assert.equal(result.gotPutType, 'application/x-upload');
  // the browser refuses to hand over responses no CORS rule allows
  assert.equal(result.blockedGet, 'TypeError');
  assert.equal(result.blockedPut, 'TypeError');
  assert.equal(result.blockedHeader, 'TypeError');
  // a preflight that failed means the PUT never reached the bucket
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'no-cors-bucket', Key: 'from-browser.bin' })));
  // and a DELETE no rule allows never happened either
  await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fetch/put.bin' }));
});
