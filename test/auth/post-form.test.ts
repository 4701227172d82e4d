import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parsePostForm, parseMultipartBoundary, type PostForm } from '../../src/auth/post-form.js';
import { S3Error } from '../../src/server/errors.js';
import { splitPackets } from '../helpers/packets.js';

const code = (c: string) => (e: unknown) => e instanceof S3Error && e.code === c;

/** Encodes a form with the platform's own FormData encoder (an independent implementation). */
async function encode(parts: [string, string | { data: Buffer; filename: string; type?: string }][]): Promise<{ body: Buffer; contentType: string }> {
  const fd = new FormData();
  for (const [name, v] of parts) {
    if (typeof v === 'string') fd.append(name, v);
    else fd.append(name, new Blob([new Uint8Array(v.data)], { type: v.type ?? '' }), v.filename);
  }
  const res = new Response(fd);
  return { body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type')! };
}

const packets = (body: Buffer, seed: number, max: number): Readable => Readable.from(splitPackets(body, seed, max));

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// File content full of near-boundaries: CRLF, "--", and the boundary-ish prefix.
function trickyFile(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const r = x % 16;
    b[i] = r < 3 ? 0x0d : r < 6 ? 0x0a : r < 9 ? 0x2d : x & 0xff;
  }
  return b;
}

test('fields before the file, the file streamed, fields after it ignored', async () => {
  const file = trickyFile(300000);
  const { body, contentType } = await encode([
    ['key', 'uploads/${filename}'],
    ['Content-Type', 'image/png'],
    ['x-amz-meta-note', 'héllo wörld'],
    ['file', { data: file, filename: 'pic ü.png', type: 'image/png' }],
    ['after', 'ignored'],
  ]);
  for (const [seed, max] of [[1, 1], [2, 13], [3, 1000], [4, 65536], [5, 1 << 20]] as const) {
    const form = await parsePostForm(packets(body, seed, max), contentType);
    assert.deepEqual(form.fields, { key: 'uploads/${filename}', 'content-type': 'image/png', 'x-amz-meta-note': 'héllo wörld' });
    assert.equal(form.filename, 'pic ü.png');
    assert.equal(form.fileContentType, 'image/png');
    const got = await readAll(form.file);
    assert.ok(got.equals(file), `seed ${seed}: ${got.length} vs ${file.length}`);
  }
});

test('the boundary may be quoted; preamble, empty file and empty fields are fine', async () => {
  const body = Buffer.from('preamble text\r\n--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\n\r\n--XyZ\r\n'
    + 'Content-Disposition: form-data; name="file"; filename="e.txt"\r\n\r\n\r\n--XyZ--\r\n');
  const form = await parsePostForm(Readable.from([body]), 'multipart/form-data; boundary="XyZ"');
  assert.deepEqual(form.fields, { key: '' });
  assert.equal((await readAll(form.file)).length, 0);
  assert.equal(parseMultipartBoundary('multipart/form-data; charset=utf-8; boundary=abc'), 'abc');
  assert.throws(() => parseMultipartBoundary('application/x-www-form-urlencoded'), code('PreconditionFailed'));
  assert.throws(() => parseMultipartBoundary('multipart/form-data'), code('MalformedPOSTRequest'));
});

test('the file streams with back-pressure: a paused reader stops the request being read', async () => {
  const { body: head, contentType } = await encode([['key', 'k'], ['file', { data: Buffer.from('X'), filename: 'f' }]]);
  const text = head.toString('latin1');
  const fileStart = text.indexOf('\r\n\r\n', text.indexOf('name="file"')) + 4;
  const prefix = head.subarray(0, fileStart);
  const suffix = head.subarray(fileStart + 1);
  const total = 64 << 20;
  let pulled = 0;
  const src = new Readable({
    read() {
      if (pulled === 0) this.push(prefix);
      if (pulled >= total) { this.push(suffix); this.push(null); return; }
      const n = Math.min(65536, total - pulled);
      pulled += n;
      this.push(Buffer.alloc(n, 0x61));
    },
  });
  const form = await parsePostForm(src, contentType);
  let got = 0;
  let paused = false;
  form.file.on('data', (c: Buffer) => {
    got += c.length;
    if (got >= 1 << 20 && !paused) {
      paused = true;
      form.file.pause();
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(pulled < 8 << 20, `request read ${pulled} bytes while the reader was paused`);
  form.file.resume();
  await new Promise((r) => form.file.on('end', r));
  assert.equal(got, total);
});

test('a body without a file part, or cut short, is refused', async () => {
  const { body, contentType } = await encode([['key', 'k'], ['policy', 'p']]);
  await assert.rejects(parsePostForm(Readable.from([body]), contentType), code('IncorrectNumberOfFilesInPostRequest'));
  await assert.rejects(parsePostForm(Readable.from([body.subarray(0, 20)]), contentType), code('MalformedPOSTRequest'));
  await assert.rejects(parsePostForm(Readable.from([Buffer.from('no boundary here')]), contentType), code('MalformedPOSTRequest'));

  const withFile = await encode([['key', 'k'], ['file', { data: Buffer.alloc(10000, 1), filename: 'f' }]]);
  const form = await parsePostForm(Readable.from([withFile.body.subarray(0, withFile.body.length - 100)]), withFile.contentType);
  await assert.rejects(readAll(form.file), code('MalformedPOSTRequest'));
  // Also when the consumer attaches only after the failure happened.
  const late = await parsePostForm(Readable.from([withFile.body.subarray(0, withFile.body.length - 100)]), withFile.contentType);
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(pipeline(late.file, new Writable({ write(_c, _e, cb) { cb(); } })), code('MalformedPOSTRequest'));
});

test('limits: field size, total size before the file, field count, duplicates, bad headers', async () => {
  const big = await encode([['key', 'x'.repeat(70000)], ['file', { data: Buffer.from('a'), filename: 'f' }]]);
  await assert.rejects(parsePostForm(Readable.from([big.body]), big.contentType), code('MaxPostPreDataLengthExceededError'));
  const many = await encode([...Array.from({ length: 20 }, (_, i) => [`x-ignore-${i}`, 'y'.repeat(1000)] as [string, string]), ['file', { data: Buffer.from('a'), filename: 'f' }]]);
  await assert.rejects(parsePostForm(Readable.from([many.body]), many.contentType, { maxPreFileBytes: 10000 }), code('MaxPostPreDataLengthExceededError'));
  await assert.rejects(parsePostForm(Readable.from([many.body]), many.contentType, { maxFields: 5 }), code('MalformedPOSTRequest'));
  const dup = await encode([['key', 'a'], ['Key', 'b'], ['file', { data: Buffer.from('a'), filename: 'f' }]]);
  await assert.rejects(parsePostForm(Readable.from([dup.body]), dup.contentType), code('InvalidArgument'));
  const noName = Buffer.from('--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--\r\n');
  await assert.rejects(parsePostForm(Readable.from([noName]), 'multipart/form-data; boundary=B'), code('MalformedPOSTRequest'));
  // An endless header block stops at the limit instead of buffering.
  const endless = Readable.from((function* () { yield Buffer.from('--B\r\n'); for (let i = 0; i < 100; i++) yield Buffer.alloc(1000, 0x41); })());
  await assert.rejects(parsePostForm(endless, 'multipart/form-data; boundary=B'), code('MalformedPOSTRequest'));
});

test('filename* (RFC 5987) and backslashes kept as browsers send them', async () => {
  const body = Buffer.from('--B\r\nContent-Disposition: form-data; name="file"; filename="C:\\dir\\a%22b.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n');
  const f1: PostForm = await parsePostForm(Readable.from([body]), 'multipart/form-data; boundary=B');
  assert.equal(f1.filename, 'C:\\dir\\a%22b.txt');
  assert.equal((await readAll(f1.file)).toString(), 'hi');
  const body2 = Buffer.from("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"; filename*=UTF-8''%E2%82%AC.txt\r\n\r\nhi\r\n--B--\r\n");
  const f2 = await parsePostForm(Readable.from([body2]), 'multipart/form-data; boundary=B');
  assert.equal(f2.filename, '€.txt');
  await readAll(f2.file);
});

test('a consumer that gives up on the file lets the rest of the request drain', async () => {
  const { body, contentType } = await encode([['key', 'k'], ['file', { data: Buffer.alloc(5 << 20, 7), filename: 'f' }]]);
  const src = packets(body, 8, 65536);
  const form = await parsePostForm(src, contentType);
  form.file.once('data', () => form.file.destroy());
  await new Promise((r) => src.on('end', r));
});
