import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Crc32 } from '@smithy/core/checksum';
import { Crc32c } from '@aws-sdk/checksums/crc';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import {
  CHECKSUM_ALGORITHMS, DigestingTap, checksumOf, combineCrc, combineTwoCrcs, compositeChecksum, createChecksum,
  parseChecksumHeaders, parseContentMd5, type ChecksumAlgorithm,
} from '../../src/s3/checksums.js';
import { S3Error } from '../../src/server/errors.js';

// Deterministic pseudo-random bytes (xorshift32) so failures reproduce.
function prng(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  };
}

async function sdkDigest(alg: 'CRC32' | 'CRC32C' | 'CRC64NVME', data: Buffer): Promise<Buffer> {
  const c = alg === 'CRC32' ? new Crc32() : alg === 'CRC32C' ? new Crc32c() : new Crc64Nvme();
  c.update(data);
  return Buffer.from(await c.digest());
}

function s3err(code: string) {
  return (e: unknown) => e instanceof S3Error && e.code === code;
}

test('CRC check values for "123456789"', () => {
  const data = Buffer.from('123456789');
  assert.equal(checksumOf('CRC32', data).toString('hex'), 'cbf43926');
  assert.equal(checksumOf('CRC32C', data).toString('hex'), 'e3069283');
  assert.equal(checksumOf('CRC64NVME', data).toString('hex'), 'ae8b14860a799888');
  assert.equal(checksumOf('SHA1', Buffer.from('abc')).toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(checksumOf('MD5', Buffer.alloc(0)).toString('hex'), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal(checksumOf('SHA256', Buffer.alloc(0)).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    assert.equal(checksumOf(alg, Buffer.alloc(0)).readUIntBE(0, 4), 0, `${alg} of empty is 0`);
  }
});

test('CRCs match the AWS SDK on random buffers fed in random pieces', async () => {
  const rnd = prng(42);
  for (const len of [0, 1, 7, 8, 9, 63, 64, 1000, 65537, 1 << 20]) {
    const data = rnd(len);
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      const c = createChecksum(alg);
      let off = 0;
      let step = 1;
      while (off < len) {
        c.update(data.subarray(off, off + step));
        off += step;
        step = (step * 7 + 3) % 5003 + 1;
      }
      assert.deepEqual(c.digest(), await sdkDigest(alg, data), `${alg} len ${len}`);
      assert.equal(c.base64(), (await sdkDigest(alg, data)).toString('base64'));
    }
  }
});

test('SHA and MD5 checksums match node:crypto and digest twice gives the same value', () => {
  const data = randomBytes(10000);
  for (const [alg, name] of [['SHA1', 'sha1'], ['SHA256', 'sha256'], ['MD5', 'md5']] as const) {
    const c = createChecksum(alg);
    c.update(data.subarray(0, 100));
    c.update(data.subarray(100));
    const want = createHash(name).update(data).digest();
    assert.deepEqual(c.digest(), want);
    assert.deepEqual(c.digest(), want);
    assert.equal(c.base64(), want.toString('base64'));
  }
});

test('combineCrc gives the CRC of the concatenation (full-object multipart checksum)', async () => {
  const rnd = prng(7);
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    for (const sizes of [[0], [1], [5, 0, 3], [1000, 1000, 17], [65536, 65536, 65536, 12345], [3, 1 << 20]]) {
      const parts = sizes.map((n) => rnd(n));
      const whole = Buffer.concat(parts);
      const combined = combineCrc(alg, parts.map((p) => ({ checksum: checksumOf(alg, p).toString('base64'), size: p.length })));
      assert.deepEqual(combined, await sdkDigest(alg, whole), `${alg} ${sizes.join(',')}`);
    }
    const a = rnd(333);
    const b = rnd(4444);
    assert.deepEqual(combineTwoCrcs(alg, checksumOf(alg, a), checksumOf(alg, b), b.length), checksumOf(alg, Buffer.concat([a, b])));
    assert.deepEqual(combineCrc(alg, []), Buffer.alloc(alg === 'CRC64NVME' ? 8 : 4));
  }
});

test('combineCrc handles many parts and large sizes without reading data', () => {
  // 10 000 parts of 5 MiB of zeros: compare against combining zero-CRCs pairwise a
  // different way (a balanced tree), both must agree.
  const alg: ChecksumAlgorithm = 'CRC64NVME';
  const partSize = 5 * 1024 * 1024;
  const zeroCrc = checksumOf(alg, Buffer.alloc(partSize));
  const t0 = Date.now();
  const flat = combineCrc(alg, Array.from({ length: 10000 }, () => ({ checksum: zeroCrc, size: partSize })));
  assert.ok(Date.now() - t0 < 5000, 'combining 10000 parts is fast');
  let level: { crc: Buffer; size: number }[] = Array.from({ length: 10000 }, () => ({ crc: zeroCrc, size: partSize }));
  while (level.length > 1) {
    const next: typeof level = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i]!;
      const b = level[i + 1];
      next.push(b ? { crc: combineTwoCrcs(alg, a.crc, b.crc, b.size), size: a.size + b.size } : a);
    }
    level = next;
  }
  assert.deepEqual(flat, level[0]!.crc);
});

test('compositeChecksum is the checksum of the raw part checksums with -N', () => {
  const rnd = prng(9);
  const parts = [rnd(100), rnd(200), rnd(300)];
  for (const alg of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
    const raws = parts.map((p) => checksumOf(alg, p));
    const want = checksumOf(alg, Buffer.concat(raws)).toString('base64') + '-3';
    assert.equal(compositeChecksum(alg, raws.map((r) => r.toString('base64'))), want);
    assert.equal(compositeChecksum(alg, raws), want);
  }
  assert.throws(() => compositeChecksum('CRC32', ['AAAA']), s3err('InvalidPart'));
});

test('parseChecksumHeaders', () => {
  const crc = checksumOf('CRC32', Buffer.from('x')).toString('base64');
  assert.equal(parseChecksumHeaders({}), undefined);
  assert.deepEqual(parseChecksumHeaders({ 'x-amz-checksum-crc32': crc }), { algorithm: 'CRC32', value: crc, inTrailer: false });
  assert.deepEqual(parseChecksumHeaders({ 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'crc32' }), { algorithm: 'CRC32', value: crc, inTrailer: false });
  assert.deepEqual(parseChecksumHeaders({ 'x-amz-trailer': 'x-amz-checksum-crc64nvme', 'x-amz-sdk-checksum-algorithm': 'CRC64NVME' }), { algorithm: 'CRC64NVME', inTrailer: true });
  // Wrong length for the algorithm, non-canonical base64, two checksums, mismatching sdk header.
  assert.throws(() => parseChecksumHeaders({ 'x-amz-checksum-sha256': crc }), s3err('InvalidRequest'));
  assert.throws(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': 'not base64!' }), s3err('InvalidRequest'));
  assert.throws(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': crc, 'x-amz-checksum-crc32c': crc }), s3err('InvalidRequest'));
  assert.throws(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': crc, 'x-amz-sdk-checksum-algorithm': 'SHA1' }), s3err('InvalidRequest'));
  assert.throws(() => parseChecksumHeaders({ 'x-amz-sdk-checksum-algorithm': 'CRC32' }), s3err('InvalidRequest'));
  assert.throws(() => parseChecksumHeaders({ 'x-amz-trailer': 'x-amz-checksum-md5' }), s3err('InvalidRequest'));
  assert.throws(() => parseChecksumHeaders({ 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-checksum-crc32': crc }), s3err('InvalidRequest'));
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = checksumOf(alg, Buffer.from('hello')).toString('base64');
    assert.equal(parseChecksumHeaders({ [`x-amz-checksum-${alg.toLowerCase()}`]: v })?.algorithm, alg);
  }
});

test('parseContentMd5', () => {
  const md5 = createHash('md5').update('hi').digest();
  assert.deepEqual(parseContentMd5(md5.toString('base64')), md5);
  assert.equal(parseContentMd5(undefined), undefined);
  assert.throws(() => parseContentMd5(md5.toString('hex')), s3err('InvalidDigest'));
});

async function runTap(data: Buffer, tap: DigestingTap, pieces = 10): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const step = Math.ceil(data.length / pieces) || 1;
  const src = Readable.from(Array.from({ length: Math.ceil(data.length / step) }, (_, i) => data.subarray(i * step, (i + 1) * step)));
  await pipeline(src, tap, new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }));
  return Buffer.concat(chunks);
}

test('DigestingTap passes bytes through unchanged and computes every digest', async () => {
  const data = prng(3)(300000);
  for (const alg of CHECKSUM_ALGORITHMS) {
    const tap = new DigestingTap({ sha256: true, checksum: alg });
    const out = await runTap(data, tap);
    assert.ok(out.equals(data));
    const r = tap.result;
    assert.equal(r.size, data.length);
    assert.deepEqual(r.md5, createHash('md5').update(data).digest());
    assert.deepEqual(r.sha256, createHash('sha256').update(data).digest());
    assert.deepEqual(r.checksum?.raw, checksumOf(alg, data));
    assert.equal(r.checksum?.algorithm, alg);
  }
  const plain = new DigestingTap();
  await runTap(data, plain);
  assert.equal(plain.result.sha256, undefined);
  assert.equal(plain.result.checksum, undefined);
});

test('DigestingTap verifies expectations at end of stream with the S3 error codes', async () => {
  const data = Buffer.from('hello world');
  const md5 = createHash('md5').update(data).digest();
  const sha = createHash('sha256').update(data).digest('hex');
  const crc = checksumOf('CRC32C', data).toString('base64');
  await runTap(data, new DigestingTap({ sha256: true, checksum: 'CRC32C', expect: () => ({ md5, sha256Hex: sha, checksum: crc }) }));

  await assert.rejects(runTap(data, new DigestingTap({ expect: () => ({ md5: Buffer.alloc(16) }) })), s3err('BadDigest'));
  await assert.rejects(runTap(data, new DigestingTap({ sha256: true, expect: () => ({ sha256Hex: '0'.repeat(64) }) })), s3err('XAmzContentSHA256Mismatch'));
  await assert.rejects(runTap(data, new DigestingTap({ checksum: 'CRC32C', expect: () => ({ checksum: 'AAAAAA==' }) })),
    (e: unknown) => e instanceof S3Error && e.code === 'BadDigest' && /CRC32C/.test(e.message));
  // The expectation is read lazily (trailer values arrive at the very end).
  const trailer: { value?: string } = {};
  const good = runTap(data, new DigestingTap({ checksum: 'CRC32C', expect: () => ({ checksum: trailer.value }) }));
  trailer.value = crc;
  await good;
  const late: { value?: string } = {};
  const bad = runTap(data, new DigestingTap({ checksum: 'CRC32C', expect: () => ({ checksum: late.value }) }));
  late.value = 'AAAAAA==';
  await assert.rejects(bad, s3err('BadDigest'));
});
