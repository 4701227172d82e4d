import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { AMQP_OPTIONS, createAmqpTarget, validateAmqpOptions } from '../../../src/events/targets/amqp.js';
import { PartialDelivery } from '../../../src/events/target.js';
import { closedPort, requireService } from '../../helpers/services.js';
import { lifecycle, rejectsWithin, uniqueName } from './fixtures.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672';

describe('amqp target (real RabbitMQ)', () => {
  let model: amqp.ChannelModel;
  let ch: amqp.Channel;
  const exchanges: string[] = [];

  before(async () => {
    await requireService('rabbitmq');
    model = await amqp.connect(URL);
    ch = await model.createChannel();
  });
  after(async () => {
    for (const x of exchanges) await ch.deleteExchange(x).catch(() => {});
    await model.close();
  });

  async function boundQueue(exchange: string, pattern: string): Promise<string> {
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    if (exchange !== '') await ch.bindQueue(q.queue, exchange, pattern);
    return q.queue;
  }

  async function take(queue: string, n: number): Promise<amqp.GetMessage[]> {
    const out: amqp.GetMessage[] = [];
    const deadline = Date.now() + 5000;
    while (out.length < n && Date.now() < deadline) {
      const m = await ch.get(queue, { noAck: true });
      if (m) out.push(m); else await new Promise((r) => setTimeout(r, 20));
    }
    return out;
  }

  it('publishes {EventName, Key, Records} to the declared exchange with routing key and MinIO headers', async () => {
    const exchange = uniqueName('minio_events');
    exchanges.push(exchange);
    const target = createAmqpTarget('1', { url: URL, exchange, exchange_type: 'topic', routing_key: 'bucketlogs', durable: 'off', publisher_confirms: 'on', queue_dir: '', queue_limit: '0' });
    await target.init(); // declares the exchange
    assert.equal(await target.isOnline(), true);
    const queue = await boundQueue(exchange, 'bucketlogs');
    const ev = lifecycle('images', 'photos/my photo.jpg');
    for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
    const msgs = await take(queue, 3);
    assert.deepEqual(msgs.map((m) => m.content.toString()),
      [ev.created, ev.accessed, ev.removed].map((e) => JSON.stringify({ EventName: e.eventName, Key: 'images/photos/my photo.jpg', Records: [e.record] })));
    assert.equal(msgs[0].fields.routingKey, 'bucketlogs');
    assert.equal(msgs[0].properties.contentType, 'application/json');
    assert.deepEqual(msgs[2].properties.headers, { 'minio-bucket': 'images', 'minio-event': 's3:ObjectRemoved:Delete' });
    await target.close();
  });

  it('default exchange with routing_key = queue name, persistent delivery_mode 2', async () => {
    const queue = await boundQueue('', '');
    const target = createAmqpTarget('q', { url: URL, routing_key: queue, delivery_mode: '2' });
    const ev = lifecycle('b', 'k.txt');
    await target.send(ev.created);
    const [m] = await take(queue, 1);
    assert.equal(m.properties.deliveryMode, 2);
    assert.equal(JSON.parse(m.content.toString()).Key, 'b/k.txt');
    await target.close();
  });

  it('sendBatch publishes a batch at once and resolves once the broker confirmed every one, in order', async () => {
    const queue = await boundQueue('', '');
    const target = createAmqpTarget('b', { url: URL, routing_key: queue });
    try {
      const events = Array.from({ length: 30 }, (_, i) => lifecycle('b', `k${i}`).created);
      await target.sendBatch!(events);
      assert.equal((await ch.checkQueue(queue)).messageCount, events.length, 'all routed when sendBatch resolved');
      const msgs = await take(queue, events.length);
      assert.deepEqual(msgs.map((m) => JSON.parse(m.content.toString()).Key), events.map((e) => e.key));
    } finally {
      await target.close();
    }
  });

  it('a batch the broker nacks part-way rejects with PartialDelivery naming the confirmed prefix', async () => {
    // A queue that holds 5 messages and nacks publishes beyond that (reject-publish).
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true, arguments: { 'x-max-length': 5, 'x-overflow': 'reject-publish' } });
    const target = createAmqpTarget('nack', { url: URL, routing_key: q.queue });
    try {
      const events = Array.from({ length: 8 }, (_, i) => lifecycle('b', `k${i}`).created);
      const err = await target.sendBatch!(events).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof PartialDelivery, String(err));
      assert.equal(err.delivered, 5);
      assert.match(err.message, /amqp target nack: broker refused the message \(nack\)/);
      const msgs = await take(q.queue, 5);
      assert.deepEqual(msgs.map((m) => JSON.parse(m.content.toString()).Key), events.slice(0, 5).map((e) => e.key));
      // Room again: the rest goes through on the same connection.
      await target.sendBatch!(events.slice(5));
      assert.deepEqual((await take(q.queue, 3)).map((m) => JSON.parse(m.content.toString()).Key), events.slice(5).map((e) => e.key));
    } finally {
      await target.close();
    }
  });

  it('mandatory=on rejects an event no queue receives; it is delivered once a queue is bound', async () => {
    const exchange = uniqueName('minio_mand');
    exchanges.push(exchange);
    const target = createAmqpTarget('m', { url: URL, exchange, exchange_type: 'direct', routing_key: 'rk', mandatory: 'on' });
    const ev = lifecycle('b', 'k');
    await assert.rejects(target.send(ev.created), /unroutable/);
    const queue = await boundQueue(exchange, 'rk');
    await target.send(ev.created);
    assert.equal((await take(queue, 1)).length, 1);
    await target.close();
  });

  it('reconnects after the broker closed the channel (exchange deleted, then re-declared)', async () => {
    const exchange = uniqueName('minio_gone');
    exchanges.push(exchange);
    const target = createAmqpTarget('g', { url: URL, exchange, exchange_type: 'fanout' });
    await target.init();
    await ch.deleteExchange(exchange);
    // Publishing to a missing exchange makes the broker close the channel: reject...
    await rejectsWithin(target.send(lifecycle('b', 'k').created), 12000);
    // ...and the next call opens a new channel and declares the exchange again.
    await target.init();
    const queue = await boundQueue(exchange, '');
    await target.send(lifecycle('b', 'k2').created);
    assert.equal(JSON.parse((await take(queue, 1))[0].content.toString()).Key, 'b/k2');
    await target.close();
  });

  it('rejects send() within the timeout against a closed port', async () => {
    const port = await closedPort();
    const target = createAmqpTarget('down', { url: `amqp://guest:topsecret@127.0.0.1:${port}`, exchange: 'x' });
    const err = await rejectsWithin(target.send(lifecycle('b', 'k').created), 12000);
    assert.doesNotMatch(err.message, /topsecret/);
    assert.equal(await target.isOnline(), false);
    await target.close();
  });

  it('validates options naming the key', () => {
    assert.throws(() => validateAmqpOptions('1', {}), /notify_amqp:1: 'url' is not optional/);
    assert.throws(() => validateAmqpOptions('1', { url: 'http://h' }), /'url' must be an amqp/);
    assert.throws(() => validateAmqpOptions('1', { url: URL, immediate: 'on' }), /'immediate' cannot be 'on'/);
    assert.throws(() => validateAmqpOptions('1', { url: URL, delivery_mode: '3' }), /'delivery_mode' must be between 0 and 2/);
    assert.throws(() => validateAmqpOptions('1', { url: URL, durable: 'maybe' }), /'durable' must be 'on' or 'off'/);
    assert.deepEqual(AMQP_OPTIONS.map((o) => o.key), ['url', 'exchange', 'routing_key', 'exchange_type', 'delivery_mode', 'mandatory', 'immediate', 'durable', 'internal', 'no_wait', 'auto_deleted', 'publisher_confirms', 'queue_dir', 'queue_limit', 'comment']);
  });
});
