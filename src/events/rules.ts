/**
 * Bucket notification rules: the NotificationConfiguration document of
 * Put/GetBucketNotificationConfiguration, validated as MinIO validates it, and the
 * matcher that turns (event name, object key) into the target ARNs to deliver to.
 *
 * Accepted: QueueConfiguration entries (what `mc event add` sends) with an optional Id,
 * one or more Event names (wildcards allowed), an optional Filter/S3Key with at most
 * one prefix and one suffix FilterRule (Name compared case-insensitively, stored
 * lower-case), and a Queue ARN `arn:minio:sqs:<region>:<id>:<type>`.
 * Refused like MinIO: Topic/CloudFunction configurations (UnsupportedNotification),
 * unknown event names, a configuration without Event (MalformedXML), the same event
 * twice in one configuration, bad filter names/values, malformed or unknown ARNs and
 * ARNs of another region. Overlap: two configurations for the same target ARN with the
 * same prefix and suffix whose events overlap (after wildcard expansion) are refused
 * with MinIO's overlap error; this includes two identical configurations, which is what
 * MinIO refuses and what `mc event add --ignore-existing` looks for. Different filters
 * or different targets may overlap (MinIO accepts those too).
 */
import { S3Error } from '../server/errors.js';
import { asArray, parseXml, toXml, type XmlNode } from '../server/xml.js';
import { formatTargetArn, parseTargetArn, targetKey, type TargetArn } from './arn.js';
import { expandEventName, isValidEventName } from './names.js';

export interface QueueRule {
  id: string;
  /** The target the Queue ARN names (region as the client sent it). */
  target: TargetArn;
  /** Event names as configured (wildcards kept, for GET). */
  events: string[];
  prefix: string;
  suffix: string;
}

export interface NotificationConfig {
  queues: QueueRule[];
}

export interface RuleValidation {
  /** Server region; a non-empty ARN region must equal it. */
  region: string;
  /** Does a target with this id and type exist on this server? */
  targetExists(target: TargetArn): boolean;
}

const invalid = (message: string) => new S3Error('InvalidArgument', message);
const MSG = {
  arn: 'A specified destination ARN does not exist or is not well-formed. Verify the destination ARN.',
  region: 'A specified destination is in a different region than the bucket. You must use a destination that resides in the same region as the bucket.',
  event: 'A specified event is not supported for notifications.',
  sameEvent: 'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
  overlap: 'An object key name filtering rule defined with overlapping prefixes, overlapping suffixes, or overlapping combinations of prefixes and suffixes for the same event types.',
  filterName: 'filter rule name must be either prefix or suffix',
  twoPrefixes: 'Cannot specify more than one prefix rule in a filter.',
  twoSuffixes: 'Cannot specify more than one suffix rule in a filter.',
  filterValue: 'Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation',
};

function textOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') throw new S3Error('MalformedXML');
  return String(v);
}

/** MinIO's ValidateFilterRuleValue. */
function validFilterValue(v: string): boolean {
  if (v.split('/').some((seg) => seg === '.' || seg === '..')) return false;
  return Buffer.byteLength(v) <= 1024 && !v.includes('\\') && !v.includes('\uFFFD');
}

function parseFilter(filter: unknown): { prefix: string; suffix: string } {
  let prefix: string | undefined;
  let suffix: string | undefined;
  if (filter === undefined || filter === '') return { prefix: '', suffix: '' };
  if (typeof filter !== 'object' || filter === null) throw new S3Error('MalformedXML');
  const s3key = (filter as Record<string, unknown>).S3Key;
  if (s3key === undefined || s3key === '') return { prefix: '', suffix: '' };
  if (typeof s3key !== 'object' || s3key === null) throw new S3Error('MalformedXML');
  for (const rule of asArray((s3key as Record<string, unknown>).FilterRule)) {
    if (typeof rule !== 'object' || rule === null) throw new S3Error('MalformedXML');
    const name = textOf((rule as Record<string, unknown>).Name).toLowerCase();
    const value = textOf((rule as Record<string, unknown>).Value);
    if (name === 'prefix') {
      if (prefix !== undefined) throw invalid(MSG.twoPrefixes);
      prefix = value;
    } else if (name === 'suffix') {
      if (suffix !== undefined) throw invalid(MSG.twoSuffixes);
      suffix = value;
    } else {
      throw invalid(MSG.filterName);
    }
    if (!validFilterValue(value)) throw invalid(MSG.filterValue);
  }
  return { prefix: prefix ?? '', suffix: suffix ?? '' };
}

function parseQueue(q: unknown, v: RuleValidation): QueueRule {
  if (typeof q !== 'object' || q === null) throw new S3Error('MalformedXML');
  const node = q as Record<string, unknown>;
  const events = asArray(node.Event).map(textOf);
  if (events.length === 0) throw new S3Error('MalformedXML');
  const seen = new Set<string>();
  for (const e of events) {
    if (!isValidEventName(e)) throw invalid(MSG.event);
    if (seen.has(e)) throw invalid(MSG.sameEvent);
    seen.add(e);
  }
  const { prefix, suffix } = parseFilter(node.Filter);
  const target = parseTargetArn(textOf(node.Queue));
  if (!target) throw invalid(MSG.arn);
  if (target.region !== '' && v.region !== '' && target.region !== v.region) throw invalid(MSG.region);
  if (!v.targetExists(target)) throw invalid(MSG.arn);
  return { id: textOf(node.Id), target, events, prefix, suffix };
}

function overlaps(a: QueueRule, b: QueueRule): boolean {
  if (targetKey(a.target) !== targetKey(b.target) || a.prefix !== b.prefix || a.suffix !== b.suffix) return false;
  const ea = new Set(a.events.flatMap(expandEventName));
  return b.events.flatMap(expandEventName).some((e) => ea.has(e));
}

/** Parses and validates a PutBucketNotificationConfiguration body; throws S3Error. */
export function parseNotificationConfig(body: Buffer | string, v: RuleValidation): NotificationConfig {
  const doc = parseXml(body);
  const root = doc.NotificationConfiguration;
  if (root === undefined) throw new S3Error('MalformedXML');
  if (root === '' || root === null) return { queues: [] };
  if (typeof root !== 'object') throw new S3Error('MalformedXML');
  if (root.TopicConfiguration !== undefined || root.CloudFunctionConfiguration !== undefined) {
    throw new S3Error('UnsupportedNotification', 'MinIO server does not support Topic or Cloud Function based notifications.', { status: 400 });
  }
  const queues = asArray(root.QueueConfiguration).map((q) => parseQueue(q, v));
  for (let i = 0; i < queues.length; i++) {
    for (let j = i + 1; j < queues.length; j++) if (overlaps(queues[i], queues[j])) throw invalid(MSG.overlap);
  }
  return { queues };
}

/** The GET document: stored rules, server region in the ARN, rules of vanished targets left out. */
export function serializeNotificationConfig(config: NotificationConfig, region: string, targetExists: (t: TargetArn) => boolean): string {
  const entries: XmlNode[] = config.queues.filter((q) => targetExists(q.target)).map((q) => {
    const rules: XmlNode[] = [];
    if (q.prefix) rules.push({ Name: 'prefix', Value: q.prefix });
    if (q.suffix) rules.push({ Name: 'suffix', Value: q.suffix });
    return {
      Id: q.id || undefined,
      Filter: rules.length ? { S3Key: { FilterRule: rules } } : undefined,
      Event: q.events,
      Queue: formatTargetArn(q.target, region),
    };
  });
  return toXml('NotificationConfiguration', { QueueConfiguration: entries });
}

/** A bucket's rules compiled for matching: concrete event -> rules naming it. */
export class CompiledRules {
  private readonly byEvent = new Map<string, QueueRule[]>();

  constructor(readonly config: NotificationConfig) {
    for (const q of config.queues) {
      for (const name of new Set(q.events.flatMap(expandEventName))) {
        let list = this.byEvent.get(name);
        if (!list) this.byEvent.set(name, (list = []));
        list.push(q);
      }
    }
  }

  get empty(): boolean {
    return this.config.queues.length === 0;
  }

  /** Target keys ('<id>:<type>', deduplicated) for a concrete event on a raw object key. */
  match(eventName: string, key: string): string[] {
    const out = new Set<string>();
    for (const q of this.byEvent.get(eventName) ?? []) {
      if (key.startsWith(q.prefix) && key.endsWith(q.suffix)) out.add(targetKey(q.target));
    }
    return [...out];
  }
}
