import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BucketPolicyCache, BUCKET_POLICY_TOPIC } from '../../src/policy/index.js';
import { S3Error } from '../../src/server/errors.js';

const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] });

function fakeBackend(store: Map<string, string>) {
  const reads: string[] = [];
  return {
    reads,
    backend: {
      async getBucketConfig(bucket: string, name: string) {
        reads.push(`${bucket}/${name}`);
        if (bucket === 'missing') throw new S3Error('NoSuchBucket');
        const v = store.get(bucket);
        return v === undefined ? undefined : Buffer.from(v);
      },
    },
  };
}

function fakeBus() {
  const handlers = new Map<string, (p: unknown) => void>();
  return {
    subscribe: (topic: string, h: (p: unknown) => void) => { handlers.set(topic, h); return () => handlers.delete(topic); },
    emit: (topic: string, payload: unknown) => handlers.get(topic)?.(payload),
    handlers,
  };
}

test('loads once, then answers synchronously from memory (also "no policy")', async () => {
  const store = new Map([['b', POLICY]]);
  const { backend, reads } = fakeBackend(store);
  const bus = fakeBus();
  const cache = new BucketPolicyCache({ backend, subscribe: bus.subscribe });
  const first = cache.get('b');
  assert.ok(first instanceof Promise);
  const p = await first;
  assert.equal(p?.name, 'bucket-policy:b');
  assert.equal(p?.kind, 'bucket');
  const again = cache.get('b');
  assert.ok(!(again instanceof Promise), 'cached: synchronous');
  assert.equal(again, p);
  assert.equal(await cache.get('none'), undefined);
  assert.equal(cache.get('none'), undefined, 'absence is cached too');
  assert.equal(await cache.get('missing'), undefined, 'NoSuchBucket reads as no policy');
  assert.deepEqual(reads, ['b/policy.json', 'none/policy.json', 'missing/policy.json']);
  cache.close();
  assert.equal(bus.handlers.size, 0);
});

test('concurrent misses share one read', async () => {
  const { backend, reads } = fakeBackend(new Map([['b', POLICY]]));
  const cache = new BucketPolicyCache({ backend, subscribe: fakeBus().subscribe });
  const [a, b] = await Promise.all([cache.get('b'), cache.get('b')]);
  assert.equal(a, b);
  assert.equal(reads.length, 1);
});

test("cluster-bus 'bucket-policy' invalidates one bucket or all", async () => {
  const store = new Map([['b', POLICY], ['c', POLICY]]);
  const { backend, reads } = fakeBackend(store);
  const bus = fakeBus();
  const cache = new BucketPolicyCache({ backend, subscribe: bus.subscribe });
  await cache.get('b');
  await cache.get('c');
  store.delete('b');
  bus.emit(BUCKET_POLICY_TOPIC, { bucket: 'b' });
  assert.equal(await cache.get('b'), undefined);
  assert.ok(!(cache.get('c') instanceof Promise), 'other buckets stay cached');
  bus.emit(BUCKET_POLICY_TOPIC, null);
  assert.ok(cache.get('c') instanceof Promise);
  assert.equal(reads.length, 4);
});

test('stale entries keep answering while they are re-read in the background', async () => {
  let now = 0;
  const store = new Map([['b', POLICY]]);
  const { backend, reads } = fakeBackend(store);
  const cache = new BucketPolicyCache({ backend, subscribe: fakeBus().subscribe, refreshIntervalMs: 1000, now: () => now });
  const p1 = await cache.get('b');
  now = 1500;
  store.delete('b');
  assert.equal(cache.get('b'), p1, 'the stale value answers at once');
  await new Promise((r) => setImmediate(r));
  assert.equal(reads.length, 2);
  assert.equal(cache.get('b'), undefined, 'then the fresh value');
});

test('a stored policy that no longer validates fails closed', async () => {
  const logs: Record<string, unknown>[] = [];
  const { backend } = fakeBackend(new Map([['b', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:Bogus","Resource":"arn:aws:s3:::b/*"}]}']]));
  const cache = new BucketPolicyCache({ backend, subscribe: fakeBus().subscribe, log: (l) => logs.push(l) });
  const p = await cache.get('b');
  assert.match(p!.invalid!, /stored bucket policy of 'b' is invalid: .*unknown action 's3:Bogus'/);
  assert.equal(logs[0].level, 'error');
});
