/**
 * The catalogue of target types: notify_* subsystem name, description (as
 * `mc admin config get A` lists it), option specs and factory. The config service
 * and the delivery loop look targets up here instead of importing each module.
 * Note the MinIO subsystem for PostgreSQL is notify_postgres while its ARN type is
 * "postgresql".
 */
import type { EventTarget, TargetType } from '../target.js';
import { AMQP_OPTIONS, createAmqpTarget } from './amqp.js';
import { createMqttTarget, MQTT_OPTIONS } from './mqtt.js';
import { createMysqlTarget, MYSQL_OPTIONS } from './mysql.js';
import { createNatsTarget, NATS_OPTIONS } from './nats.js';
import type { TargetOptionSpec } from './options.js';
import { createPostgresqlTarget, POSTGRESQL_OPTIONS } from './postgresql.js';
import { createRedisTarget, REDIS_OPTIONS } from './redis.js';
import { createWebhookTarget, WEBHOOK_OPTIONS } from './webhook.js';

export interface TargetKind {
  type: TargetType;
  subsystem: string;
  description: string;
  options: TargetOptionSpec[];
  /** Validates (throws TargetConfigError naming the key) and builds; does not connect. */
  create(id: string, options: Record<string, string>): EventTarget;
}

export const TARGET_KINDS: readonly TargetKind[] = [
  { type: 'webhook', subsystem: 'notify_webhook', description: 'publish bucket notifications to webhook endpoints', options: WEBHOOK_OPTIONS, create: createWebhookTarget },
  { type: 'mysql', subsystem: 'notify_mysql', description: 'publish bucket notifications to MySQL databases', options: MYSQL_OPTIONS, create: createMysqlTarget },
  { type: 'postgresql', subsystem: 'notify_postgres', description: 'publish bucket notifications to Postgres databases', options: POSTGRESQL_OPTIONS, create: createPostgresqlTarget },
  { type: 'redis', subsystem: 'notify_redis', description: 'publish bucket notifications to Redis datastores', options: REDIS_OPTIONS, create: createRedisTarget },
  { type: 'amqp', subsystem: 'notify_amqp', description: 'publish bucket notifications to AMQP endpoints', options: AMQP_OPTIONS, create: createAmqpTarget },
  { type: 'mqtt', subsystem: 'notify_mqtt', description: 'publish bucket notifications to MQTT endpoints', options: MQTT_OPTIONS, create: createMqttTarget },
  { type: 'nats', subsystem: 'notify_nats', description: 'publish bucket notifications to NATS endpoints', options: NATS_OPTIONS, create: createNatsTarget },
];

export function targetKindBySubsystem(subsystem: string): TargetKind | undefined {
  return TARGET_KINDS.find((k) => k.subsystem === subsystem);
}

export function targetKindByType(type: string): TargetKind | undefined {
  return TARGET_KINDS.find((k) => k.type === type);
}
