/**
 * S3/MinIO event names: the set a notification rule or a watch may name, wildcard
 * expansion (s3:ObjectCreated:* ...), and matching of a concrete event against a name.
 *
 * The accepted set is MinIO's (so `mc event add --event replica,ilm` and the scanner
 * events validate); s3gate only emits the ones listed in EMITTED_EVENTS.
 */

/** Concrete events, grouped under their wildcard. */
const FAMILIES: Record<string, string[]> = {
  's3:ObjectAccessed:*': ['Get', 'Head', 'GetRetention', 'GetLegalHold', 'Attributes'],
  's3:ObjectCreated:*': ['Put', 'Post', 'Copy', 'CompleteMultipartUpload', 'PutRetention', 'PutLegalHold', 'PutTagging', 'DeleteTagging'],
  's3:ObjectRemoved:*': ['Delete', 'DeleteMarkerCreated', 'NoOP', 'DeleteAllVersions'],
  's3:Replication:*': ['OperationFailedReplication', 'OperationCompletedReplication', 'OperationMissedThreshold', 'OperationReplicatedAfterThreshold', 'OperationNotTracked'],
  's3:ObjectRestore:*': ['Post', 'Completed'],
  's3:ObjectTransition:*': ['Failed', 'Complete'],
  's3:Scanner:*': ['ManyVersions', 'BigVersions', 'BigPrefix'],
  's3:ObjectTagging:*': ['Put', 'Delete'],
  's3:ILM:*': ['DelMarkerExpirationDelete'],
};

const BUCKET_EVENTS = ['s3:BucketCreated', 's3:BucketRemoved'];

/** The events s3gate publishes today. */
export const EMITTED_EVENTS = [
  's3:ObjectCreated:Put', 's3:ObjectCreated:Post', 's3:ObjectCreated:Copy', 's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:Delete', 's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectAccessed:Get', 's3:ObjectAccessed:Head',
  's3:BucketCreated', 's3:BucketRemoved',
] as const;

const EXPANSION = new Map<string, string[]>();
for (const [wild, members] of Object.entries(FAMILIES)) {
  const base = wild.slice(0, -1);
  const names = members.map((m) => base + m);
  EXPANSION.set(wild, names);
  for (const n of names) EXPANSION.set(n, [n]);
}
for (const n of BUCKET_EVENTS) {
  EXPANSION.set(n, [n]);
  // mc watch sends s3:BucketCreated:* for --events bucket-creation.
  EXPANSION.set(`${n}:*`, [n]);
}

/** True if MinIO accepts this name in a rule or a watch. */
export function isValidEventName(name: string): boolean {
  return EXPANSION.has(name);
}

/** The concrete events a (possibly wildcard) name stands for; [] if unknown. */
export function expandEventName(name: string): string[] {
  return EXPANSION.get(name) ?? [];
}

/** Does the rule/watch name `pattern` cover the concrete event `event`? */
export function eventMatches(pattern: string, event: string): boolean {
  if (pattern === event) return true;
  return expandEventName(pattern).includes(event);
}

export function isBucketEvent(name: string): boolean {
  return name === 's3:BucketCreated' || name === 's3:BucketRemoved';
}
