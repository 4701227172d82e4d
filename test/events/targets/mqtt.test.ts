import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { createMqttTarget, MQTT_OPTIONS, validateMqttOptions } from '../../../src/events/targets/mqtt.js';
import { closedPort, requireService } from '../../helpers/services.js';
import { lifecycle, rejectsWithin, uniqueName } from './fixtures.js';

const BROKER = 'tcp://127.0.0.1:1883';

describe('mqtt target (real Mosquitto)', () => {
  let sub: mqtt.MqttClient;

  before(async () => {
    await requireService('mosquitto');
    sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: uniqueName('s3gate-test-sub') });
  });
  after(async () => { await sub.endAsync(true); });

  async function collect(topic: string): Promise<{ messages: Array<{ payload: string; qos: number }>; stop: () => Promise<void> }> {
    const messages: Array<{ payload: string; qos: number }> = [];
    const onMessage = (t: string, payload: Buffer, packet: mqtt.IPublishPacket) => { if (t === topic) messages.push({ payload: payload.toString(), qos: packet.qos }); };
    sub.on('message', onMessage);
    await sub.subscribeAsync(topic, { qos: 2 });
    return { messages, stop: async () => { sub.removeListener('message', onMessage); await sub.unsubscribeAsync(topic); } };
  }

  async function waitFor(list: unknown[], n: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (list.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  for (const qos of ['0', '1', '2']) {
    it(`publishes {EventName, Key, Records} to the topic with qos ${qos}`, async () => {
      const topic = `minio/${uniqueName('events')}`;
      const rx = await collect(topic);
      const target = createMqttTarget('1', { broker: BROKER, topic, qos, keep_alive_interval: '10s', reconnect_interval: '0s', queue_dir: '', queue_limit: '0' });
      try {
        await target.init();
        assert.equal(await target.isOnline(), true);
        const ev = lifecycle('images', 'photos/my photo.jpg');
        for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
        await waitFor(rx.messages, 3);
        assert.deepEqual(rx.messages.map((m) => m.payload),
          [ev.created, ev.accessed, ev.removed].map((e) => JSON.stringify({ EventName: e.eventName, Key: 'images/photos/my photo.jpg', Records: [e.record] })));
        assert.deepEqual(rx.messages.map((m) => m.qos), [Number(qos), Number(qos), Number(qos)]);
      } finally {
        await target.close();
        await rx.stop();
      }
    });
  }

  it('reconnects on the next send after the broker dropped the connection', async () => {
    const topic = `minio/${uniqueName('rc')}`;
    const rx = await collect(topic);
    const id = uniqueName('rc');
    const target = createMqttTarget(id, { broker: BROKER, topic, qos: '1' });
    try {
      await target.send(lifecycle('b', 'k1').created);
      // A second client with the same id makes the broker drop the first (MQTT takeover).
      const clientId = (target as unknown as { conn: { peek(): mqtt.MqttClient } }).conn.peek().options.clientId!;
      const thief = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId });
      await thief.endAsync(true);
      await new Promise((r) => setTimeout(r, 200));
      await target.send(lifecycle('b', 'k2').created).catch(() => target.send(lifecycle('b', 'k2').created));
      await waitFor(rx.messages, 2);
      assert.deepEqual(rx.messages.map((m) => JSON.parse(m.payload).Key), ['b/k1', 'b/k2']);
    } finally {
      await target.close();
      await rx.stop();
    }
  });

  it('rejects send() within the timeout against a closed port', async () => {
    const port = await closedPort();
    const target = createMqttTarget('down', { broker: `tcp://127.0.0.1:${port}`, topic: 't', password: 'topsecret', username: 'u' });
    const err = await rejectsWithin(target.send(lifecycle('b', 'k').created), 12000);
    assert.doesNotMatch(err.message, /topsecret/);
    assert.equal(await target.isOnline(), false);
    await target.close();
  });

  it('validates options naming the key', () => {
    assert.throws(() => validateMqttOptions('1', { topic: 't' }), /notify_mqtt:1: 'broker' is not optional/);
    assert.throws(() => validateMqttOptions('1', { broker: 'localhost:1883', topic: 't' }), /'broker' must be a URL like tcp:\/\/host:1883/);
    assert.throws(() => validateMqttOptions('1', { broker: BROKER }), /'topic' is not optional/);
    assert.throws(() => validateMqttOptions('1', { broker: BROKER, topic: 'a/#' }), /'topic' must not contain the wildcards/);
    assert.throws(() => validateMqttOptions('1', { broker: BROKER, topic: 't', qos: '3' }), /'qos' must be between 0 and 2/);
    assert.throws(() => validateMqttOptions('1', { broker: BROKER, topic: 't', keep_alive_interval: 'x' }), /'keep_alive_interval' must be a duration/);
    assert.equal(validateMqttOptions('1', { broker: BROKER, topic: 't', keep_alive_interval: '1m' }).keepAliveSeconds, 60);
    assert.deepEqual(MQTT_OPTIONS.map((o) => o.key), ['broker', 'topic', 'qos', 'username', 'password', 'reconnect_interval', 'keep_alive_interval', 'queue_dir', 'queue_limit', 'comment']);
  });
});
