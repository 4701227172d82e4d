/**
 * Put/GetBucketNotificationConfiguration as plain functions over a Backend, for the S3
 * handler table. The validated rules are stored as JSON in the bucket's config
 * document 'notification.json'; an empty configuration deletes the document. Every
 * change is announced on the cluster bus topic 'bucket-notification' ({ bucket }) so the
 * rule caches of all workers drop the bucket at once (other instances re-read on TTL).
 */
import type { Backend } from '../storage/backend.js';
import { publishAndWait } from '../server/cluster-bus.js';
import type { TargetArn } from './arn.js';
import { parseNotificationConfig, serializeNotificationConfig, type NotificationConfig } from './rules.js';

export const NOTIFICATION_DOC = 'notification.json';
export const BUCKET_NOTIFICATION_TOPIC = 'bucket-notification';

export interface BucketNotificationDeps {
  backend: Backend;
  region: string;
  targetExists(target: TargetArn): boolean;
}

/** Validates and stores the document (throws S3Error: NoSuchBucket, MalformedXML, InvalidArgument ...). */
export async function putBucketNotification(deps: BucketNotificationDeps, bucket: string, xmlBody: Buffer | string): Promise<void> {
  await deps.backend.headBucket(bucket);
  const config = parseNotificationConfig(xmlBody, deps);
  if (config.queues.length === 0) await deps.backend.deleteBucketConfig(bucket, NOTIFICATION_DOC);
  else await deps.backend.putBucketConfig(bucket, NOTIFICATION_DOC, Buffer.from(JSON.stringify({ version: 1, ...config })));
  await publishAndWait(BUCKET_NOTIFICATION_TOPIC, { bucket });
}

/** The stored configuration as the GET response body (an empty document when none). */
export async function getBucketNotification(deps: BucketNotificationDeps, bucket: string): Promise<string> {
  await deps.backend.headBucket(bucket);
  const config = await loadBucketNotification(deps.backend, bucket);
  return serializeNotificationConfig(config ?? { queues: [] }, deps.region, deps.targetExists);
}

/** The stored rules, or undefined when the bucket has none (or no longer exists). */
export async function loadBucketNotification(backend: Backend, bucket: string): Promise<NotificationConfig | undefined> {
  let data: Buffer | undefined;
  try {
    data = await backend.getBucketConfig(bucket, NOTIFICATION_DOC);
  } catch (e: any) {
    if (e?.code === 'NoSuchBucket') return undefined;
    throw e;
  }
  if (!data) return undefined;
  const doc = JSON.parse(data.toString()) as { queues?: NotificationConfig['queues'] };
  return { queues: doc.queues ?? [] };
}
