import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder, type AwsChunkedOptions } from '../../src/auth/chunked.js';
import { S3Error } from '../../src/server/errors.js';
import { splitPackets } from '../helpers/packets.js';

// The example from AWS's "Transferring Payload in Multiple Chunks" page.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AMZ_DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';

// Signing key computed here independently of src/auth/sigv4.ts.
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const SIGNING_KEY = hmac(hmac(hmac(hmac('AWS4' + SECRET, '20130524'), 'us-east-1'), 's3'), 'aws4_request');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const EMPTY = sha('');

interface BuildOptions {
  mode: AwsChunkedOptions['mode'];
  chunkSize?: number;
  trailers?: Record<string, string>;
  seed?: string;
}

/** Frames `payload` as aws-chunked, signing chunks and trailer when the mode is signed. */
function build(payload: Buffer, o: BuildOptions): { body: Buffer; sigs: string[] } {
  const signed = o.mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const size = o.chunkSize ?? 65536;
  const parts: Buffer[] = [];
  const sigs: string[] = [];
  let prev = o.seed ?? SEED;
  const pieces: Buffer[] = [];
  for (let off = 0; off < payload.length; off += size) pieces.push(payload.subarray(off, off + size));
  pieces.push(Buffer.alloc(0));
  for (const p of pieces) {
    if (signed) {
      prev = hmac(SIGNING_KEY, ['AWS4-HMAC-SHA256-PAYLOAD', AMZ_DATE, SCOPE, prev, EMPTY, sha(p)].join('\n')).toString('hex');
      sigs.push(prev);
      parts.push(Buffer.from(`${p.length.toString(16)};chunk-signature=${prev}\r\n`));
    } else {
      parts.push(Buffer.from(`${p.length.toString(16)}\r\n`));
    }
    if (p.length > 0) parts.push(p, Buffer.from('\r\n'));
  }
  if (o.mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') {
    parts.push(Buffer.from('\r\n'));
  } else {
    const t = o.trailers ?? {};
    for (const [k, v] of Object.entries(t)) parts.push(Buffer.from(`${k}:${v}\r\n`));
    if (signed) {
      const canonical = Object.keys(t).sort().map((k) => `${k}:${t[k]}\n`).join('');
      const ts = hmac(SIGNING_KEY, ['AWS4-HMAC-SHA256-TRAILER', AMZ_DATE, SCOPE, prev, sha(canonical)].join('\n')).toString('hex');
      sigs.push(ts);
      parts.push(Buffer.from(`x-amz-trailer-signature:${ts}\r\n`));
    }
    parts.push(Buffer.from('\r\n'));
  }
  return { body: Buffer.concat(parts), sigs };
}

function decoder(mode: AwsChunkedOptions['mode'], extra: Partial<AwsChunkedOptions> = {}): AwsChunkedDecoder {
  const signed = mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  return new AwsChunkedDecoder(signed ? { mode, signingKey: SIGNING_KEY, seedSignature: SEED, amzDate: AMZ_DATE, scope: SCOPE, ...extra } : { mode, ...extra });
}

async function decode(d: AwsChunkedDecoder, packets: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(packets), d, new Writable({ write(c, _e, cb) { out.push(c); cb(); } }));
  return Buffer.concat(out);
}

/** base64 CRC32, as a trailer value. */
function zlib(data: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(data) >>> 0);
  return b.toString('base64');
}

const code = (c: string) => (e: unknown) => e instanceof S3Error && e.code === c;
const SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' as const;
const SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' as const;
const UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' as const;

test('AWS documented example: chunk signatures and decoded body', async () => {
  const payload = Buffer.alloc(66560, 'a');
  const { body, sigs } = build(payload, { mode: SIGNED });
  // Public values from the AWS example (chunk 1 of 65536 bytes, chunk 2 of 1024, final).
  assert.equal(sigs[0], 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
  assert.ok(body.subarray(0, 90).toString().startsWith('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'));
  const d = decoder(SIGNED, { decodedLength: payload.length });
  const out = await decode(d, [body]);
  assert.ok(out.equals(payload));
  assert.equal(d.decodedBytes, 66560);
  assert.equal(d.lastSignature, sigs[2]);
});

test('decodes the same body split into random packet sizes, down to single bytes', async () => {
  const payload = Buffer.from(Array.from({ length: 200000 }, (_, i) => (i * 31) & 0xff));
  for (const mode of [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER]) {
    const { body } = build(payload, { mode, chunkSize: 8192, trailers: { 'x-amz-checksum-crc32': zlib(payload) } });
    for (const [seed, max] of [[1, 1], [2, 7], [3, 100], [4, 5000], [5, 70000]] as const) {
      const d = decoder(mode, { decodedLength: payload.length });
      const out = await decode(d, splitPackets(body, seed, max));
      assert.ok(out.equals(payload), `${mode} seed ${seed}`);
      if (mode !== SIGNED) assert.deepEqual(d.trailers, { 'x-amz-checksum-crc32': zlib(payload) });
    }
  }
});

test('empty payload: only the final chunk', async () => {
  for (const mode of [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER]) {
    const { body } = build(Buffer.alloc(0), { mode, trailers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    const out = await decode(decoder(mode, { decodedLength: 0 }), [body]);
    assert.equal(out.length, 0);
  }
});

test('a tampered chunk, a wrong signature or a wrong seed gives SignatureDoesNotMatch', async () => {
  const payload = Buffer.alloc(20000, 'z');
  const { body } = build(payload, { mode: SIGNED, chunkSize: 8192 });
  const flipped = Buffer.from(body);
  flipped[body.indexOf('\r\n') + 2 + 9000 - 8192] ^= 1; // a byte inside the first chunk's data
  await assert.rejects(decode(decoder(SIGNED), [flipped]), code('SignatureDoesNotMatch'));

  const badSig = Buffer.from(body.toString('latin1').replace(/chunk-signature=([0-9a-f])/, (_m, c: string) => `chunk-signature=${c === '0' ? '1' : '0'}`), 'latin1');
  await assert.rejects(decode(decoder(SIGNED), [badSig]), code('SignatureDoesNotMatch'));

  await assert.rejects(decode(decoder(SIGNED, { seedSignature: '0'.repeat(64) }), [body]), code('SignatureDoesNotMatch'));

  // Reordering two equally sized chunks breaks the chain even though each is "valid".
  const a = build(Buffer.concat([Buffer.alloc(8192, 1), Buffer.alloc(8192, 2)]), { mode: SIGNED, chunkSize: 8192 }).body.toString('latin1');
  const lines = a.split('\r\n');
  const swapped = [lines[2], lines[3], lines[0], lines[1], ...lines.slice(4)].join('\r\n');
  await assert.rejects(decode(decoder(SIGNED), [Buffer.from(swapped, 'latin1')]), code('SignatureDoesNotMatch'));
});

test('the bad chunk is refused before the stream ends (nothing downstream sees end)', async () => {
  const payload = Buffer.alloc(30000, 'q');
  const { body } = build(payload, { mode: SIGNED, chunkSize: 10000 });
  const tampered = Buffer.from(body);
  tampered[100] ^= 1;
  let ended = false;
  const d = decoder(SIGNED);
  const sink = new Writable({ write(_c, _e, cb) { cb(); }, final(cb) { ended = true; cb(); } });
  await assert.rejects(pipeline(Readable.from([tampered]), d, sink), code('SignatureDoesNotMatch'));
  assert.equal(ended, false);
});

test('framing errors: truncated body, wrong decoded length, missing signature, garbage', async () => {
  const payload = Buffer.alloc(10000, 'x');
  const { body } = build(payload, { mode: SIGNED, chunkSize: 4096 });
  await assert.rejects(decode(decoder(SIGNED), [body.subarray(0, body.length - 100)]), code('IncompleteBody'));
  await assert.rejects(decode(decoder(SIGNED), [body.subarray(0, 5000)]), code('IncompleteBody'));
  await assert.rejects(decode(decoder(SIGNED, { decodedLength: 10001 }), [body]), code('IncompleteBody'));
  await assert.rejects(decode(decoder(SIGNED, { decodedLength: 9999 }), [body]), code('IncompleteBody'));

  const unsigned = build(payload, { mode: UNSIGNED_TRAILER, chunkSize: 4096 }).body;
  await assert.rejects(decode(decoder(SIGNED), [unsigned]), code('InvalidRequest'));
  await assert.rejects(decode(decoder(SIGNED), [Buffer.from('zz;chunk-signature=00\r\n')]), code('InvalidRequest'));
  // Declared size shorter than the data that follows.
  await assert.rejects(decode(decoder(UNSIGNED_TRAILER), [Buffer.from('3\r\nabcdef\r\n0\r\n\r\n')]), code('InvalidRequest'));
  // Bytes after the end of the body.
  await assert.rejects(decode(decoder(SIGNED), [Buffer.concat([body, Buffer.from('junk')])]), code('InvalidRequest'));
  // A signed decoder refuses bodies without any framing at all.
  await assert.rejects(decode(decoder(SIGNED), [Buffer.from('hello world')]), code('IncompleteBody'));
});

test('header lines are bounded: an endless line fails without waiting for the end', async () => {
  const d = decoder(UNSIGNED_TRAILER);
  const err = new Promise<unknown>((resolve) => d.on('error', resolve));
  d.resume();
  for (let i = 0; i < 10; i++) d.write(Buffer.alloc(1000, 'f'));
  const e = await err;
  assert.ok(code('InvalidRequest')(e), String(e));
  assert.match((e as Error).message, /line too long/);
});

test('signed trailer: trailers exposed, trailer signature verified', async () => {
  const payload = Buffer.alloc(70000, 'b');
  const trailers = { 'x-amz-checksum-crc32c': 'sOO8/Q==' };
  const { body } = build(payload, { mode: SIGNED_TRAILER, trailers });
  const d = decoder(SIGNED_TRAILER, { decodedLength: payload.length });
  assert.ok((await decode(d, splitPackets(body, 9, 3000))).equals(payload));
  assert.deepEqual(d.trailers, trailers);

  // Changing the trailer value breaks its signature.
  const changed = Buffer.from(body.toString('latin1').replace('sOO8/Q==', 'AAAAAA=='), 'latin1');
  await assert.rejects(decode(decoder(SIGNED_TRAILER), [changed]), code('SignatureDoesNotMatch'));

  // Dropping the trailer signature line: the body is incomplete.
  const text = body.toString('latin1');
  const noSig = text.slice(0, text.indexOf('x-amz-trailer-signature:')) + '\r\n';
  await assert.rejects(decode(decoder(SIGNED_TRAILER), [Buffer.from(noSig, 'latin1')]), code('IncompleteBody'));

  // A blank line between the checksum and the signature is tolerated; the last CRLF may be missing.
  const blank = text.replace('\r\nx-amz-trailer-signature', '\r\n\r\nx-amz-trailer-signature').replace(/\r\n\r\n$/, '\r\n');
  assert.ok((await decode(decoder(SIGNED_TRAILER), [Buffer.from(blank, 'latin1')])).equals(payload));
});

test('unsigned trailer: several trailers, LF-only line ends, no closing blank line', async () => {
  const d = decoder(UNSIGNED_TRAILER);
  const out = await decode(d, [Buffer.from('5\r\nhello\r\n6\n world\n0\r\nX-Amz-Checksum-CRC32: DUoRhQ==\r\nx-extra:1\r\n')]);
  assert.equal(out.toString(), 'hello world');
  assert.deepEqual(d.trailers, { 'x-amz-checksum-crc32': 'DUoRhQ==', 'x-extra': '1' });
  await assert.rejects(decode(decoder(UNSIGNED_TRAILER), [Buffer.from('0\r\nnot a trailer\r\n\r\n')]), code('InvalidRequest'));
  await assert.rejects(decode(decoder(UNSIGNED_TRAILER), [Buffer.from('0\r\n' + 'a:b\r\n'.repeat(5000))]), code('InvalidRequest'));
});

test('throughput: 64 MiB in 64 KiB and 1 MiB signed chunks', async () => {
  const payload = Buffer.alloc(64 << 20, 'p');
  for (const chunkSize of [65536, 1 << 20]) {
    const { body } = build(payload, { mode: SIGNED, chunkSize });
    const packets = splitPackets(body, 11, 65536);
    const t0 = process.hrtime.bigint();
    const d = decoder(SIGNED, { decodedLength: payload.length });
    let n = 0;
    await pipeline(Readable.from(packets), d, new Writable({ write(c, _e, cb) { n += c.length; cb(); } }));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    assert.equal(n, payload.length);
    console.log(`# aws-chunked signed, ${chunkSize}-byte chunks: ${(64 / secs).toFixed(0)} MiB/s`);
    assert.ok(secs < 10);
  }
});
