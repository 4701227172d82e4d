import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRedisTarget, REDIS_OPTIONS, validateRedisOptions } from '../../../src/events/targets/redis.js';
import { closedPort, requireService } from '../../helpers/services.js';
import { lifecycle, rejectsWithin, uniqueName } from './fixtures.js';

describe('redis target (real Redis)', () => {
  let redis: Redis;
  const keys: string[] = [];
  const db = 1;

  before(async () => {
    await requireService('redis');
    redis = new Redis({ host: '127.0.0.1', port: 6379, db, lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    if (keys.length) await redis.del(...keys);
    await redis.acl('DELUSER', 'u_' + process.pid).catch(() => {});
    redis.disconnect();
  });

  it('namespace format: HSET bucket/object = {"Records":[record]}, HDEL on removal', async () => {
    const key = uniqueName('bucketevents');
    keys.push(key);
    const target = createRedisTarget('1', { address: `127.0.0.1:6379/${db}`, format: 'namespace', key, password: '', queue_dir: '', queue_limit: '0' });
    const ev = lifecycle('images', 'photos/my photo.jpg');
    await target.init();
    assert.equal(await target.isOnline(), true);

    await target.send(ev.created);
    assert.deepEqual(await redis.hgetall(key), { 'images/photos/my photo.jpg': JSON.stringify({ Records: [ev.created.record] }) });

    await target.send(ev.accessed);
    assert.deepEqual(await redis.hgetall(key), { 'images/photos/my photo.jpg': JSON.stringify({ Records: [ev.accessed.record] }) });

    await target.send(ev.removed);
    assert.deepEqual(await redis.hgetall(key), {});
    await target.close();
  });

  it('access format: RPUSH [{"Event":[record],"EventTime":...}] for every event', async () => {
    const key = uniqueName('accesseventskey');
    keys.push(key);
    const target = createRedisTarget('acc', { address: `127.0.0.1:6379/${db}`, format: 'access', key });
    const ev = lifecycle('images', 'myphoto.jpg');
    for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
    const items = await redis.lrange(key, 0, -1);
    assert.deepEqual(items, [ev.created, ev.accessed, ev.removed].map((e) => JSON.stringify([{ Event: [e.record], EventTime: e.eventTime }])));
    // The JuiceFS blog's exact prefix: a JSON list holding one {Event, EventTime} object.
    assert.match(items[0], /^\[\{"Event":\[\{"eventVersion":"2\.0",/);
    assert.match(items[0], /\}\],"EventTime":"[^"]+"\}\]$/);
    await target.close();
  });

  it('sendBatch lands exactly like one send() per event, in order (both formats)', async () => {
    const a = lifecycle('images', 'a.jpg');
    const b = lifecycle('images', 'b.jpg');
    const c = lifecycle('images', 'c.jpg');
    // a: created, accessed, removed (gone); b: created, accessed (accessed wins); c: removed then created (present).
    const batch = [a.created, b.created, a.accessed, c.removed, b.accessed, a.removed, c.created];
    for (const format of ['namespace', 'access'] as const) {
      const one = uniqueName(`one_${format}`);
      const many = uniqueName(`many_${format}`);
      keys.push(one, many);
      const single = createRedisTarget('s', { address: `127.0.0.1:6379/${db}`, format, key: one });
      const batched = createRedisTarget('b', { address: `127.0.0.1:6379/${db}`, format, key: many });
      for (const e of batch) await single.send(e);
      await batched.sendBatch!(batch);
      if (format === 'namespace') {
        const got = await redis.hgetall(many);
        assert.deepEqual(got, await redis.hgetall(one));
        assert.deepEqual(got, {
          'images/b.jpg': JSON.stringify({ Records: [b.accessed.record] }),
          'images/c.jpg': JSON.stringify({ Records: [c.created.record] }),
        });
      } else {
        const got = await redis.lrange(many, 0, -1);
        assert.deepEqual(got, await redis.lrange(one, 0, -1));
        assert.deepEqual(got, batch.map((e) => JSON.stringify([{ Event: [e.record], EventTime: e.eventTime }])));
      }
      await single.close();
      await batched.close();
    }
  });

  it('sendBatch rejects when a command in the batch fails (WRONGTYPE)', async () => {
    const key = uniqueName('wrongtype');
    keys.push(key);
    await redis.set(key, 'a string, not a hash');
    const target = createRedisTarget('wt', { address: `127.0.0.1:6379/${db}`, key });
    const ev = lifecycle('b', 'k');
    await assert.rejects(target.sendBatch!([ev.created, ev.accessed]), /WRONGTYPE/);
    await target.close();
  });

  it('database 0 when the address has no /db suffix', async () => {
    const key = uniqueName('db0');
    const target = createRedisTarget('db0', { address: '127.0.0.1:6379', key });
    const ev = lifecycle('b', 'k');
    await target.send(ev.created);
    const db0 = new Redis({ host: '127.0.0.1', port: 6379, db: 0, lazyConnect: true });
    await db0.connect();
    try {
      assert.equal(await db0.hexists(key, 'b/k'), 1);
      await db0.del(key);
    } finally {
      db0.disconnect();
      await target.close();
    }
  });

  it('authenticates with user and password (Redis ACL)', async () => {
    const user = 'u_' + process.pid;
    const key = uniqueName('acl');
    keys.push(key);
    await redis.acl('SETUSER', user, 'on', '>s3cret-pass', '~*', '+@all');
    const good = createRedisTarget('acl', { address: `127.0.0.1:6379/${db}`, key, user, password: 's3cret-pass' });
    await good.send(lifecycle('b', 'k').created);
    assert.equal(await redis.hexists(key, 'b/k'), 1);
    await good.close();

    const bad = createRedisTarget('acl2', { address: `127.0.0.1:6379/${db}`, key, user, password: 'wrong' });
    const err = await rejectsWithin(bad.send(lifecycle('b', 'k').created), 15000);
    assert.doesNotMatch(err.message, /wrong/, 'the password never appears in errors');
    assert.equal(await bad.isOnline(), false);
    await bad.close();
  });

  it('rejects init() and send() within the timeout against a closed port', async () => {
    const port = await closedPort();
    const target = createRedisTarget('down', { address: `127.0.0.1:${port}`, key: 'x' });
    await rejectsWithin(target.init(), 12000);
    await rejectsWithin(target.send(lifecycle('b', 'k').created), 12000);
    assert.equal(await target.isOnline(), false);
    await target.close();
  });

  it('reconnects after the server dropped the connection', async () => {
    const key = uniqueName('reconnect');
    keys.push(key);
    const id = uniqueName('rc');
    const target = createRedisTarget(id, { address: `127.0.0.1:6379/${db}`, key });
    await target.send(lifecycle('b', 'k1').created);
    // Kill only the target's own connection (the server is shared with other tests).
    const line = String(await redis.client('LIST')).split('\n').find((l) => l.includes(`name=s3gate-notify-redis-${id} `));
    assert.ok(line, 'the target names its connection');
    await redis.client('KILL', 'ID', /id=(\d+)/.exec(line)![1]);
    // The first send after the kill may fail (the loop retries); a retry must succeed.
    await target.send(lifecycle('b', 'k2').created).catch(() => target.send(lifecycle('b', 'k2').created));
    assert.deepEqual(Object.keys(await redis.hgetall(key)).sort(), ['b/k1', 'b/k2']);
    await target.close();
  });

  it('validates options with errors naming the key', () => {
    assert.throws(() => validateRedisOptions('1', { key: 'k' }), /notify_redis:1: 'address' is not optional/);
    assert.throws(() => validateRedisOptions('1', { address: 'h:6379' }), /'key' is not optional/);
    assert.throws(() => validateRedisOptions('1', { address: 'h:6379', key: 'k', format: 'json' }), /'format' must be one of namespace\|access/);
    assert.throws(() => validateRedisOptions('1', { address: 'h:99999', key: 'k' }), /'address' has a bad port/);
    assert.throws(() => validateRedisOptions('1', { address: 'h:6379/x', key: 'k' }), /'address' has a bad database/);
    assert.throws(() => validateRedisOptions('1', { address: 'h', key: 'k', queue_limit: 'lots' }), /'queue_limit' must be an integer/);
    assert.throws(() => validateRedisOptions('1', { address: 'h', key: 'k', adress: 'x' }), /'adress' is not a valid key/);
    assert.deepEqual(validateRedisOptions('1', { address: '127.0.0.1:6379/1', key: 'k', enable: 'on', comment: 'c' }),
      { format: 'namespace', host: '127.0.0.1', port: 6379, db: 1, key: 'k', user: '', password: '' });
    assert.deepEqual(REDIS_OPTIONS.filter((o) => !o.extension).map((o) => `${o.key}=${o.default}`),
      ['format=namespace', 'address=', 'key=', 'password=', 'queue_dir=', 'queue_limit=0', 'comment=']);
  });
});
