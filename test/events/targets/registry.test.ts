import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TargetConfigError, parseQueueOptions } from '../../../src/events/targets/options.js';
import { TARGET_KINDS, targetKindBySubsystem, targetKindByType } from '../../../src/events/targets/registry.js';

describe('target registry and shared options', () => {
  it('lists every target type with its MinIO subsystem and ARN type', () => {
    assert.deepEqual(TARGET_KINDS.map((k) => `${k.subsystem}->${k.type}`), [
      'notify_webhook->webhook', 'notify_mysql->mysql', 'notify_postgres->postgresql', 'notify_redis->redis',
      'notify_amqp->amqp', 'notify_mqtt->mqtt', 'notify_nats->nats',
    ]);
    assert.equal(targetKindBySubsystem('notify_postgres')?.type, 'postgresql');
    assert.equal(targetKindByType('redis')?.subsystem, 'notify_redis');
  });

  it('every kind has queue_dir, queue_limit and comment last, and help text for each key', () => {
    for (const k of TARGET_KINDS) {
      const keys = k.options.map((o) => o.key);
      assert.ok(keys.includes('queue_dir') && keys.includes('queue_limit'), k.subsystem);
      assert.equal(keys.at(-1), 'comment', k.subsystem);
      assert.equal(new Set(keys).size, keys.length, `${k.subsystem} has no duplicate keys`);
      for (const o of k.options) assert.ok(o.help.length > 5, `${k.subsystem} ${o.key} has help`);
      for (const o of k.options.filter((x) => /password|token|dsn_string|connection_string|url/.test(x.key) && x.key !== 'endpoint')) {
        assert.equal(o.sensitive, true, `${k.subsystem} ${o.key} is marked sensitive`);
      }
    }
  });

  it('factories refuse bad settings with TargetConfigError naming subsystem, id and key', () => {
    for (const k of TARGET_KINDS) {
      assert.throws(() => k.create('x', {}), (e: unknown) => e instanceof TargetConfigError && e.message.startsWith(`${k.subsystem}:x: '`));
    }
  });

  it('queue options: 0 means the default 100000, queue_dir must be absolute', () => {
    assert.deepEqual(parseQueueOptions('notify_redis', '1', { queue_dir: '', queue_limit: '0' }), { queueDir: '', queueLimit: 100000 });
    assert.deepEqual(parseQueueOptions('notify_redis', '1', { queue_dir: '/home/events', queue_limit: '1000' }), { queueDir: '/home/events', queueLimit: 1000 });
    assert.throws(() => parseQueueOptions('notify_redis', '1', { queue_limit: '-1' }), /notify_redis:1: 'queue_limit' must be between/);
  });
});
