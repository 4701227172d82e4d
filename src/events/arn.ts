/**
 * Notification target ARNs: `arn:minio:sqs:<region>:<id>:<type>`, what MinIO prints at
 * start-up and what `mc event add` sends. The region part is empty in what we print
 * (MinIO does the same) and, when a client fills it, must equal the server region.
 */

export interface TargetArn {
  region: string;
  id: string;
  type: string;
}

/** Parses an SQS target ARN; undefined when it is not one (wrong service, field count, empty id/type). */
export function parseTargetArn(arn: string): TargetArn | undefined {
  const f = arn.split(':');
  if (f.length !== 6 || f[0] !== 'arn' || f[1] !== 'minio' || f[2] !== 'sqs') return undefined;
  const [, , , region, id, type] = f;
  if (!id || !type) return undefined;
  return { region, id, type };
}

export function formatTargetArn(t: { id: string; type: string }, region = ''): string {
  return `arn:minio:sqs:${region}:${t.id}:${t.type}`;
}

/** The region-less form used as the identity of a target (registry keys, queue names). */
export function targetKey(t: { id: string; type: string }): string {
  return `${t.id}:${t.type}`;
}

/** The name of a target's consumer in a journal (its offset file is offset-<name>.json). */
export function queueName(t: { id: string; type: string }): string {
  return `${t.type}-${encodeURIComponent(t.id)}`;
}

/** queueName() of a targetKey(). */
export function queueNameOfKey(key: string): string {
  const at = key.lastIndexOf(':');
  return queueName({ id: key.slice(0, at), type: key.slice(at + 1) });
}
