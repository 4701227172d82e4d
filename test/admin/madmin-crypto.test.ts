import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  decryptData, encryptData, isEncrypted, replyAlgorithm, deriveKey, MadminCryptoError,
} from '../../src/admin/madmin/crypto.js';
import { sioDecrypt, sioEncrypt } from '../../src/admin/madmin/sio-stream.js';
import { closeArgon2Pool } from '../../src/admin/madmin/argon2-derive.js';

after(() => closeArgon2Pool());

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Upstream vectors (spec §2.6): all-zero plaintexts, id 0x00.
const U = [
  { name: 'U0', password: '', len: 0, data: hex(`828aa81599df0651c0461adb82283e8b89956baee9f6e719947ef9cddc849028001dc9d3ac0938f66b07bacc9751437e1985
f8a9763c240e81`) },
  { name: 'U1', password: '', len: 256, data: hex(`1793c71df6647860437134073c15688cbb15961dc0758c7ee1225e66e79c724c00d790dba9c671eae89da2c736d858286ac9
bd027abacc64430375cd41b63b67c070c7fba475a8dd66ae65ba905176c48cbe6f734fc74df87343d8ccff54bada4aeb0a04
bd021633ebe6c4768e23f5dea142561d4fe3f90ed59d13dc5fb3a585dadec1742325291b9c81692bdd3420b2428127f8195e
0ecd9a1c9237712ed67af7339fbbf7ff3ee1c516e1f81e69d933e057b30997e7274a2c9698e07c39f0e8d6818858f34c8191
871b5a52bea9061806bd029024bfc1d9c1f230904968d6c9e10fddcbc006ba97356ff243570fd96df07dd6894e215a6b24c4
ed730369519289ebd877aff6ccbd2265985e4ab1a2b7930bab9cfb767b97348a639ddf8db81bf5151da7e8f3d9638a1b86eb
1dd78cc6a526f10a414c78638f`) },
  { name: 'U2', password: 'xPl.8/rhR"Q_1xLt', len: 32, data: hex(`b5c016e93b84b473fc8a37af94936563630c36d6df1841d23a86ee51ca161f9e00ac19116b32f643ff6a56a212b265d8c561
95bb0d12ce199e13dfdc5272f80c1564da2c6fc2fa18da91d8062de02af5cdafea491c6f3cae1f`) },
  { name: 'U3', password: '7h5oU4$te{;K}fgqlI^]', len: 256, data: hex(`c58edf7cfd557b6b655de6f48b1a3049d8d049dadb3a7bfa9ac9ccbb5baf37ec00f83086a26f43b7d6bc9075ad038bf5741f
118d502ebe94165e4072ba7f98535d6b1e3b6ae67a98115d146d9b4d90e4df4ae82df9cfa17ed7cd42465181559f7ddf09c9
8beec521bb4478e0cb73c4e0827af8688ff4e7a07327a10d5a180035e6ddb16d974a85257981cd9e0360a20f7b4d65319026
7dfb241148f018ae180568042e864b9e1b5bc05425a3abc2b0324f50c72d56798f924405dfc0f8523f4bb564ed65af8e1b1c
82a7a0640552ecf81985d95d0993d99172592ddc1393dfa63e8f0b3d744b2cc4b73384ca4693f0c1aec0e9b00e85f2937e89
1105d67da8f59c14ca96608e0425c42f9c1e7c2a8b3413e1381784f9cfe01de7c47cea1f8d7a7d88f5d4aca783cf55332b47
f957a6b9a65269d7eb606b877b`) },
];

for (const v of U) {
  test(`upstream vector ${v.name} decrypts and re-encrypts byte for byte`, async () => {
    const { plaintext, algorithm } = await decryptData(v.password, v.data);
    assert.equal(algorithm, 0);
    assert.deepEqual(plaintext, Buffer.alloc(v.len));
    const again = await encryptData(v.password, plaintext, { algorithm: 0, salt: v.data.subarray(0, 32), nonce: v.data.subarray(33, 41) });
    assert.equal(again.toString('hex'), v.data.toString('hex'));
  });
}

test('derived intermediate keys match the spec (U0 empty password, U2)', async () => {
  assert.equal((await deriveKey(0, '', U[0].data.subarray(0, 32))).toString('hex'), '5561ddb170ed8de32f914a90ee5b78416a5e72fe87d068ece1b481a6e2cce8d3');
  assert.equal((await deriveKey(0, U[2].password, U[2].data.subarray(0, 32))).toString('hex'), 'b7cc749ee036a40c47c16a1087a4c776a9d5ecaf328f8726bc7c547c9fc8fd35');
});

const salt = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const nonce = Buffer.from(Array.from({ length: 8 }, (_, i) => i));
const body = Buffer.from('{"secretKey":"abcd1234","status":"enabled"}');
const IDS = [
  { id: 0 as const, key: 'f47daeb086b4a23e59bb9349885408115f7ef1daef6466e2bbc5867abf09afd9', env: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000001020304050607357d0fcfd7dd0f31591ee599784149c579b0ce3e4ae04a52720f52c1f3cec9fc36794093f8f31bac6d5c694b779ff15a9544ff7a6b7eec4a803fdf' },
  { id: 1 as const, key: 'f47daeb086b4a23e59bb9349885408115f7ef1daef6466e2bbc5867abf09afd9', env: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0100010203040506076ee1b7bc71c58cc68477b0e09de1594a51f238d6ec6aac068ef63fdcd76e315a218fa3c9b141aade2dc8d559a500c9f287d1f63bc63fe58f1353c6' },
  { id: 2 as const, key: 'e0e2e20052ba02c24a0901f88f0a5dba5eec19aa3bcd2a838a06e7e997b7a115', env: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f02000102030405060798ad5e80469f0f14b7279dbe2e94efd0ca1a18956bfe39b1c0cafbe01db6fe427d5661c214445ab61fcc7759836371475f1b367b7bba2f60d21249' },
];

for (const v of IDS) {
  test(`algorithm id 0x0${v.id}: key, envelope and decryption match the spec`, async () => {
    assert.equal((await deriveKey(v.id, 'minio123', salt)).toString('hex'), v.key);
    const env = await encryptData('minio123', body, { algorithm: v.id, salt, nonce });
    assert.equal(env.length, 100);
    assert.equal(env.toString('hex'), v.env);
    const d = await decryptData('minio123', hex(v.env));
    assert.equal(d.algorithm, v.id);
    assert.equal(d.plaintext.toString(), body.toString());
  });
}

test('multi-fragment streams: 40000 and 32768 bytes hash as in the spec and round-trip', async () => {
  for (const [n, len, sha] of [
    [40000, 40089, '9a940f10e8dae7f4ab90dd9c0b640f747a02dcf82e60dd362d0b9f16ac4e974f'],
    [32768, 32841, '971c097fdba631113304c47db6379713f747dc7a40b9f49386e3b5fb2d22273d'],
  ] as const) {
    const pt = Buffer.alloc(n, 0x61);
    const env = await encryptData('minio123', pt, { algorithm: 0, salt, nonce });
    assert.equal(env.length, len);
    assert.equal(createHash('sha256').update(env).digest('hex'), sha);
    assert.deepEqual((await decryptData('minio123', env)).plaintext, pt);
  }
});

const SIO = [
  { buf: 16, key: '00000000000000000000000000000000', nonce: '0000000000000000', ad: '', pt: '', ct: 'e0247a864e783cecb1f7996c13cd3f64' },
  { buf: 16, key: '10000000000000000000000000000000', nonce: '0000000000000002', ad: '', pt: '0000000000000000000000000000000000', ct: '691deb7b9ccbee91f48d12c7ad5fe3cd4e1e5e7d394f06b91228ec9a5dd2456ac7de9502a0b4010fb1ee1db94e940458fb' },
  { buf: 16, key: '20000000000000000000000000000000', nonce: '2000000000000000', ad: '00', pt: '0000000000000000000000000000000000000000000000000000000000000000', ct: 'f58d8fef7ac7782a4361a79c07f5e6c4672d8a45e6cb9ef67cb7177897358deb8d338d313d44f78e0b68a3723d7ca0fe5f62aa8af0a72e508f5d5f8491ecedb2' },
  { buf: 17, key: '31dd758d120fd5d30063921a21f723be', nonce: 'd3794fe387018e32', ad: '1d838b6e861ea7576de110e08818de82a27337a99db7b95aa95c3347971ad4cfa0ef0960d6645f5a64f88c7d', pt: 'd0ae0d85e93ed6be853ded2031643116a03215b4fda224d2986d7233039aa47e91b686f4', ct: 'a6fe911b94e0b25a25bf6da71f28ad6a6b6920be01589e9194226f77c164606545d5cbdb76c99415b468c54517f5a8bc8dc8ac13b1b4285fe36f37f7884d5e4bfb32ecef56b4026bf02bfb1d4fce222e01ef9db9' },
];

test('sio-go stream vectors (AES-128-GCM, small buffers, user AD)', () => {
  for (const v of SIO) {
    const opts = { bufSize: v.buf, associatedData: hex(v.ad) };
    assert.equal(sioEncrypt('aes-128-gcm', hex(v.key), hex(v.nonce), hex(v.pt), opts).toString('hex'), v.ct);
    assert.equal(sioDecrypt('aes-128-gcm', hex(v.key), hex(v.nonce), hex(v.ct), opts).toString('hex'), v.pt);
  }
});

test('tampering, truncation, trailing bytes, wrong password and unknown id are rejected', async () => {
  const env = hex(IDS[0].env);
  const flip = Buffer.from(env); flip[60] ^= 1;
  await assert.rejects(decryptData('minio123', flip), /not authentic/);
  await assert.rejects(decryptData('minio123', env.subarray(0, env.length - 1)), MadminCryptoError);
  await assert.rejects(decryptData('minio123', Buffer.concat([env, Buffer.from([0])])), MadminCryptoError);
  await assert.rejects(decryptData('minio124', env), /not authentic/);
  const badId = Buffer.from(env); badId[32] = 3;
  await assert.rejects(decryptData('minio123', badId), /invalid encryption algorithm ID/);
  // A stream cut at a fragment boundary must fail: drop the final fragment of a 2-fragment stream.
  const big = await encryptData('minio123', Buffer.alloc(20000, 1), { algorithm: 2 });
  await assert.rejects(decryptData('minio123', big.subarray(0, 41 + 16384 + 16)), /not authentic/);
});

test('isEncrypted and reply algorithm choice', () => {
  assert.equal(isEncrypted(hex(IDS[2].env)), true);
  assert.equal(isEncrypted(Buffer.from('{"secretKey":"abcdefgh12345678901234567890xx"}')), false);
  assert.equal(replyAlgorithm(2), 0);
  assert.equal(replyAlgorithm(1), 1);
  assert.equal(replyAlgorithm(undefined), 0);
});

test('derivation keeps the event loop responsive', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const t0 = Date.now();
  await Promise.all([1, 2, 3, 4].map(() => encryptData('some-secret-key', Buffer.from('x'))));
  clearInterval(timer);
  const elapsed = Date.now() - t0;
  // Timers fire roughly every 10 ms while four 64 MiB derivations run off-thread.
  assert.ok(ticks >= Math.floor(elapsed / 10) / 3, `only ${ticks} ticks in ${elapsed} ms`);
});
