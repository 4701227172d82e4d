import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, DiscardPolicy, type JetStreamManager, type NatsConnection, type StreamConfig } from 'nats';
import { createNatsTarget, NATS_OPTIONS, validateNatsOptions } from '../../../src/events/targets/nats.js';
import { PartialDelivery } from '../../../src/events/target.js';
import { closedPort, requireService } from '../../helpers/services.js';
import { lifecycle, rejectsWithin, uniqueName } from './fixtures.js';

const ADDRESS = '127.0.0.1:4222';

describe('nats target (real NATS with JetStream)', () => {
  let nc: NatsConnection;
  const streams: string[] = [];

  before(async () => {
    await requireService('nats');
    nc = await connect({ servers: ADDRESS });
    try {
      await (await nc.jetstreamManager()).getAccountInfo();
    } catch (err) {
      throw new Error(`NATS at ${ADDRESS} has no JetStream (${(err as Error).message}); start the Debian package 'nats-server' with -js`);
    }
  });
  after(async () => {
    const jsm = await nc.jetstreamManager();
    for (const s of streams) await jsm.streams.delete(s).catch(() => {});
    await nc.close();
  });

  /** A JetStream stream capturing `subject`, deleted after the tests. */
  async function addStream(prefix: string, subject: string, extra: Partial<StreamConfig> = {}): Promise<{ stream: string; jsm: JetStreamManager }> {
    const stream = uniqueName(prefix);
    streams.push(stream);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [subject], ...extra });
    return { stream, jsm };
  }

  it('core NATS: publishes {EventName, Key, Records} to the subject, acknowledged by a flush', async () => {
    const subject = `minio.${uniqueName('events')}`;
    const sub = nc.subscribe(subject);
    await nc.flush();
    const target = createNatsTarget('1', { address: ADDRESS, subject, jetstream: 'off', queue_dir: '', queue_limit: '0' });
    try {
      await target.init();
      assert.equal(await target.isOnline(), true);
      const ev = lifecycle('images', 'photos/my photo.jpg');
      for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
      const got: string[] = [];
      const timer = setTimeout(() => sub.unsubscribe(), 5000);
      for await (const m of sub) {
        got.push(m.string());
        if (got.length === 3) break;
      }
      clearTimeout(timer);
      assert.deepEqual(got, [ev.created, ev.accessed, ev.removed].map((e) => JSON.stringify({ EventName: e.eventName, Key: 'images/photos/my photo.jpg', Records: [e.record] })));
    } finally {
      sub.unsubscribe();
      await target.close();
    }
  });

  it('JetStream: messages land in the stream, send resolves on the PubAck', async () => {
    const subject = `minio.${uniqueName('js')}`;
    const { stream, jsm } = await addStream('S3GATE_EVENTS', subject);
    const target = createNatsTarget('js', { address: ADDRESS, subject, jetstream: 'on' });
    try {
      const ev = lifecycle('images', 'a.jpg');
      for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
      const info = await jsm.streams.info(stream);
      assert.equal(info.state.messages, 3);
      const stored = await Promise.all([1, 2, 3].map(async (seq) => (await jsm.streams.getMessage(stream, { seq })).string()));
      assert.deepEqual(stored, [ev.created, ev.accessed, ev.removed].map((e) => JSON.stringify({ EventName: e.eventName, Key: 'images/a.jpg', Records: [e.record] })));
    } finally {
      await target.close();
    }
  });

  it('sendBatch: core NATS and JetStream get a batch in order; JetStream resolves on every PubAck', async () => {
    const events = Array.from({ length: 30 }, (_, i) => lifecycle('b', `k${i}`).created);
    const subject = `minio.${uniqueName('batch')}`;
    const sub = nc.subscribe(subject);
    await nc.flush();
    const core = createNatsTarget('core', { address: ADDRESS, subject, jetstream: 'off' });
    try {
      await core.sendBatch!(events);
      const got: string[] = [];
      const timer = setTimeout(() => sub.unsubscribe(), 5000);
      for await (const m of sub) {
        got.push(JSON.parse(m.string()).Key);
        if (got.length === events.length) break;
      }
      clearTimeout(timer);
      assert.deepEqual(got, events.map((e) => e.key));
    } finally {
      sub.unsubscribe();
      await core.close();
    }

    const jsSubject = `minio.${uniqueName('jsbatch')}`;
    const { stream, jsm } = await addStream('S3GATE_BATCH', jsSubject);
    const js = createNatsTarget('js', { address: ADDRESS, subject: jsSubject, jetstream: 'on' });
    try {
      await js.sendBatch!(events);
      assert.equal((await jsm.streams.info(stream)).state.messages, events.length, 'all stored when sendBatch resolved');
      const stored = await Promise.all(events.map(async (_, i) => JSON.parse((await jsm.streams.getMessage(stream, { seq: i + 1 })).string()).Key));
      assert.deepEqual(stored, events.map((e) => e.key));
    } finally {
      await js.close();
    }
  });

  it('JetStream: a batch the stream refuses part-way rejects with PartialDelivery naming the stored prefix', async () => {
    const subject = `minio.${uniqueName('jsfull')}`;
    // Holds 5 messages and refuses new ones beyond that.
    const { stream, jsm } = await addStream('S3GATE_FULL', subject, { max_msgs: 5, discard: DiscardPolicy.New });
    const target = createNatsTarget('full', { address: ADDRESS, subject, jetstream: 'on' });
    try {
      const events = Array.from({ length: 8 }, (_, i) => lifecycle('b', `k${i}`).created);
      const err = await target.sendBatch!(events).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof PartialDelivery, String(err));
      assert.equal(err.delivered, 5);
      assert.match(err.message, /^nats target full: JetStream refused the message: maximum messages exceeded/);
      assert.equal((await jsm.streams.info(stream)).state.messages, 5);
    } finally {
      await target.close();
    }
  });

  it('JetStream: rejects when no stream captures the subject', async () => {
    const target = createNatsTarget('nostream', { address: ADDRESS, subject: `minio.${uniqueName('none')}`, jetstream: 'on' });
    const err = await rejectsWithin(target.send(lifecycle('b', 'k').created), 12000);
    assert.match(err.message, /no JetStream stream captures subject/);
    await target.close();
  });

  it('rejects send() within the timeout against a closed port', async () => {
    const port = await closedPort();
    const target = createNatsTarget('down', { address: `127.0.0.1:${port}`, subject: 's', token: 'topsecret' });
    const err = await rejectsWithin(target.send(lifecycle('b', 'k').created), 12000);
    assert.doesNotMatch(err.message, /topsecret/);
    assert.equal(await target.isOnline(), false);
    await target.close();
  });

  it('validates options naming the key', () => {
    assert.throws(() => validateNatsOptions('1', { subject: 's' }), /notify_nats:1: 'address' is not optional/);
    assert.throws(() => validateNatsOptions('1', { address: ADDRESS }), /'subject' is not optional/);
    assert.throws(() => validateNatsOptions('1', { address: ADDRESS, subject: 'a.*' }), /'subject' must be a plain subject/);
    assert.throws(() => validateNatsOptions('1', { address: ADDRESS, subject: 's', jetstream: 'yes please' }), /'jetstream' must be 'on' or 'off'/);
    assert.throws(() => validateNatsOptions('1', { address: ADDRESS, subject: 's', client_key: '/k.pem' }), /'client_cert' must be set together with client_key/);
    assert.throws(() => validateNatsOptions('1', { address: 'h:0', subject: 's' }), /'address' has a bad port/);
    assert.equal(validateNatsOptions('1', { address: 'nats://h', subject: 's', ping_interval: '30' }).pingIntervalMs, 30000);
    assert.deepEqual(NATS_OPTIONS.map((o) => o.key), ['address', 'subject', 'username', 'user_credentials', 'password', 'token', 'tls', 'tls_skip_verify', 'cert_authority', 'client_cert', 'client_key', 'ping_interval', 'jetstream', 'queue_dir', 'queue_limit', 'comment']);
  });
});
