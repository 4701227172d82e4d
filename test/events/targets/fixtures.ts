/**
 * Sample queued events for target tests: one created, one accessed, one removed,
 * with records in the S3/MinIO shape.
 */
import { randomBytes } from 'node:crypto';
import type { QueuedEvent } from '../../../src/events/target.js';

/** A name unique to this test run, safe as a Redis key, SQL table, topic or subject. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export function sampleEvent(eventName: string, bucket: string, key: string, time = new Date()): QueuedEvent {
  const eventTime = time.toISOString();
  const record = {
    eventVersion: '2.0',
    eventSource: 'minio:s3',
    awsRegion: '',
    eventTime,
    eventName,
    userIdentity: { principalId: 'admin' },
    requestParameters: { principalId: 'admin', region: '', sourceIPAddress: '127.0.0.1' },
    responseElements: { 'content-length': '0', 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase() },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'Config',
      bucket: { name: bucket, ownerIdentity: { principalId: 'admin' }, arn: `arn:aws:s3:::${bucket}` },
      object: { key: encodeURIComponent(key), size: 4, eTag: '40b134ab8a3dee5dd9760a7805fd495c', userMetadata: { 'content-type': 'image/jpeg' }, sequencer: '17C43E89196AE2A0' },
    },
    source: { host: '127.0.0.1', port: '', userAgent: 'test' },
  };
  return { eventName, key: `${bucket}/${key}`, record, eventTime };
}

/** Created, accessed and removed events for one object, a second apart. */
export function lifecycle(bucket: string, key: string): { created: QueuedEvent; accessed: QueuedEvent; removed: QueuedEvent } {
  const t = Date.now();
  return {
    created: sampleEvent('s3:ObjectCreated:Put', bucket, key, new Date(t)),
    accessed: sampleEvent('s3:ObjectAccessed:Get', bucket, key, new Date(t + 1000)),
    removed: sampleEvent('s3:ObjectRemoved:Delete', bucket, key, new Date(t + 2000)),
  };
}

/** Asserts that `promise` rejects within `ms` (a dead service must not hang send()). */
export async function rejectsWithin(promise: Promise<unknown>, ms: number): Promise<Error> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(() => 'resolved', (e: Error) => e),
    new Promise<string>((r) => { timer = setTimeout(() => r('hung'), ms); }),
  ]);
  clearTimeout(timer);
  if (outcome === 'resolved') throw new Error('expected a rejection, but it resolved');
  if (outcome === 'hung') throw new Error(`still pending after ${ms} ms (${Date.now() - started} ms)`);
  return outcome as Error;
}
