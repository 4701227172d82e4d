/**
 * notify_amqp: MinIO's AMQP 0-9-1 (RabbitMQ) target.
 *
 * Each event is published to `exchange` with `routing_key`, body
 * {"EventName", "Key", "Records":[record]} (MinIO's event.Log), content type
 * application/json, headers minio-bucket and minio-event, and delivery_mode (2 =
 * persistent). When `exchange` is set it is declared with exchange_type/durable/
 * internal/auto_deleted (an existing exchange must match, as with MinIO).
 *
 * Publishing always goes through a confirm channel: send() resolves only on the
 * broker's ack (a batch: on the acks of all, published at once), whatever
 * publisher_confirms says (the delivery loop needs the ack to drop the event from its
 * queue; the key is kept for MinIO compatibility). With
 * mandatory=on, a message no queue is bound for comes back and send() rejects.
 * no_wait is accepted and has no effect (amqplib always waits for declare-ok);
 * immediate=on is refused: RabbitMQ does not implement it.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { EventTarget, QueuedEvent } from '../target.js';
import { LazyConnection } from './connection.js';
import { DEFAULT_TARGET_TIMEOUT_MS, ONLINE_CHECK_TIMEOUT_MS, withTimeout } from './deadline.js';
import { COMMENT_OPTION, OptionReader, parseQueueOptions, QUEUE_OPTIONS, type TargetOptionSpec } from './options.js';
import { minioLogMessage } from './payload.js';
import { failureOf, settleInOrder } from './in-order.js';

const SUBSYSTEM = 'notify_amqp';

export const AMQP_OPTIONS: TargetOptionSpec[] = [
  { key: 'url', default: '', type: 'url', optional: false, sensitive: true, help: 'AMQP server endpoint e.g. `amqp://guest:guest@localhost:5672`' },
  { key: 'exchange', default: '', type: 'string', optional: true, help: "name of the AMQP exchange ('' = the default exchange)" },
  { key: 'routing_key', default: '', type: 'string', optional: true, help: 'routing key for publishing' },
  { key: 'exchange_type', default: '', type: 'string', optional: true, help: "type of the AMQP exchange (direct, fanout, topic, headers), defaults to 'direct'" },
  { key: 'delivery_mode', default: '0', type: 'number', optional: true, help: "delivery mode for publishing, '2' = persistent, '0'/'1' = transient" },
  { key: 'mandatory', default: 'off', type: 'on|off', optional: true, help: "refuse events no queue is bound for, defaults to 'off'" },
  { key: 'immediate', default: 'off', type: 'on|off', optional: true, help: "'on' is not supported by RabbitMQ and refused" },
  { key: 'durable', default: 'off', type: 'on|off', optional: true, help: "declare the exchange durable (survives broker restarts), defaults to 'off'" },
  { key: 'internal', default: 'off', type: 'on|off', optional: true, help: "declare the exchange internal, defaults to 'off'" },
  { key: 'no_wait', default: 'off', type: 'on|off', optional: true, help: "accepted for MinIO compatibility; declarations always wait for the broker" },
  { key: 'auto_deleted', default: 'off', type: 'on|off', optional: true, help: "declare the exchange auto-deleted when unused, defaults to 'off'" },
  { key: 'publisher_confirms', default: 'off', type: 'on|off', optional: true, help: 'accepted for MinIO compatibility; s3gate always waits for publisher confirms' },
  ...QUEUE_OPTIONS,
  COMMENT_OPTION,
];

export interface AmqpSettings {
  url: string;
  exchange: string;
  routingKey: string;
  exchangeType: string;
  deliveryMode: number;
  mandatory: boolean;
  durable: boolean;
  internal: boolean;
  autoDelete: boolean;
}

export function validateAmqpOptions(id: string, options: Record<string, string>): AmqpSettings {
  const r = new OptionReader(SUBSYSTEM, id, AMQP_OPTIONS, options);
  parseQueueOptions(SUBSYSTEM, id, options);
  const url = r.required('url');
  let parsed: URL | undefined;
  try { parsed = new URL(url); } catch { parsed = undefined; }
  if (!parsed || (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:')) throw r.error('url', 'must be an amqp:// or amqps:// URL');
  if (r.bool('immediate')) throw r.error('immediate', "cannot be 'on': RabbitMQ does not support the immediate flag");
  r.bool('no_wait');
  r.bool('publisher_confirms');
  const exchangeType = r.string('exchange_type') || 'direct';
  if (!/^[A-Za-z0-9._-]+$/.test(exchangeType)) throw r.error('exchange_type', `is not a valid exchange type '${exchangeType}'`);
  return {
    url,
    exchange: r.string('exchange'),
    routingKey: r.string('routing_key'),
    exchangeType,
    deliveryMode: r.int('delivery_mode', 0, 2),
    mandatory: r.bool('mandatory'),
    durable: r.bool('durable'),
    internal: r.bool('internal'),
    autoDelete: r.bool('auto_deleted'),
  };
}

interface AmqpState {
  model: amqp.ChannelModel;
  channel: amqp.ConfirmChannel;
  /** messageIds the broker returned as unroutable (mandatory), checked at ack time. */
  returned: Set<string>;
}

class AmqpTarget implements EventTarget {
  readonly type = 'amqp' as const;
  private readonly conn: LazyConnection<AmqpState>;

  constructor(readonly id: string, private readonly settings: AmqpSettings) {
    this.conn = new LazyConnection(`amqp target ${id}`, DEFAULT_TARGET_TIMEOUT_MS, () => this.open(), (s) => s.model.close());
  }

  private async open(): Promise<AmqpState> {
    const s = this.settings;
    let model: amqp.ChannelModel;
    try {
      model = await amqp.connect(s.url, { timeout: DEFAULT_TARGET_TIMEOUT_MS });
    } catch (err) {
      // amqplib messages do not include the URL, so credentials stay out of logs.
      throw new Error(`amqp target ${this.id}: cannot connect: ${(err as Error).message}`);
    }
    try {
      const channel = await model.createConfirmChannel();
      const state: AmqpState = { model, channel, returned: new Set() };
      const lost = () => this.conn.drop(state);
      model.on('error', () => {});
      model.on('close', lost);
      channel.on('error', () => {});
      channel.on('close', lost);
      channel.on('return', (msg: amqp.Message) => {
        if (typeof msg.properties.messageId === 'string') state.returned.add(msg.properties.messageId);
      });
      if (s.exchange !== '') {
        await channel.assertExchange(s.exchange, s.exchangeType, { durable: s.durable, internal: s.internal, autoDelete: s.autoDelete });
      }
      return state;
    } catch (err) {
      await model.close().catch(() => {});
      throw new Error(`amqp target ${this.id}: ${(err as Error).message}`);
    }
  }

  async init(): Promise<void> {
    await this.conn.get();
  }

  send(event: QueuedEvent): Promise<void> {
    return this.sendBatch([event]);
  }

  /**
   * Every event published at once on the confirm channel (in order), the broker's
   * confirms awaited in order: one round trip for the batch. A nack or a return stops
   * at that event (PartialDelivery for the ones before it); the ones behind it may have
   * been routed already and are published again with it (at-least-once, in order).
   */
  async sendBatch(events: QueuedEvent[]): Promise<void> {
    const state = await this.conn.get();
    const answers = events.map((e) => this.publish(state, e));
    try {
      await settleInOrder(answers, { wait: (a) => withTimeout(a, DEFAULT_TARGET_TIMEOUT_MS, `amqp target ${this.id}: send`) });
    } catch (err) {
      if (!/unroutable|nack/.test(failureOf(err).message)) this.conn.drop(state);
      throw err;
    }
  }

  /** Publishes one event; resolves on the broker's ack. */
  private publish(state: AmqpState, event: QueuedEvent): Promise<void> {
    const s = this.settings;
    const messageId = randomUUID();
    return new Promise<void>((resolve, reject) => {
      try {
        state.channel.publish(s.exchange, s.routingKey, Buffer.from(minioLogMessage(event)), {
          mandatory: s.mandatory,
          contentType: 'application/json',
          deliveryMode: s.deliveryMode === 0 ? undefined : s.deliveryMode,
          headers: { 'minio-bucket': event.key.slice(0, event.key.indexOf('/')), 'minio-event': event.eventName },
          messageId,
        }, (err) => {
          if (err) reject(new Error(`amqp target ${this.id}: broker refused the message (nack)`));
          else if (state.returned.delete(messageId)) reject(new Error(`amqp target ${this.id}: message unroutable: no queue bound to exchange '${s.exchange}' with routing key '${s.routingKey}' (mandatory)`));
          else resolve();
        });
      } catch (err) {
        reject(err);
      }
    });
  }

  async isOnline(): Promise<boolean> {
    try {
      await withTimeout(this.conn.get(), ONLINE_CHECK_TIMEOUT_MS, 'amqp online check');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

export function createAmqpTarget(id: string, options: Record<string, string>): EventTarget {
  return new AmqpTarget(id, validateAmqpOptions(id, options));
}
