/**
 * From an S3 request (AuthzRequest) to what must be allowed: a list of (action, resource)
 * checks, all of which must pass, and the condition context each check is evaluated in.
 *
 * Action names follow AWS's service authorization reference for S3, e.g.
 *   GetObject/HeadObject/SelectObjectContent -> s3:GetObject (s3:GetObjectVersion with ?versionId)
 *   PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, PostObject -> s3:PutObject
 *   CopyObject/UploadPartCopy -> s3:PutObject on the destination AND s3:GetObject on the source
 *   DeleteObjects -> s3:DeleteObject for every key
 *   ListObjects/ListObjectsV2/HeadBucket -> s3:ListBucket; ListObjectVersions -> s3:ListBucketVersions
 *   ListMultipartUploads -> s3:ListBucketMultipartUploads; ListParts -> s3:ListMultipartUploadParts
 *   ListBuckets -> s3:ListAllMyBuckets on arn:aws:s3:::*
 *   DeleteBucketTagging/Cors/Lifecycle/Encryption/Replication -> the matching s3:Put... action
 *   GetObjectAttributes -> s3:GetObject AND s3:GetObjectAttributes (AWS requires both)
 * Extra checks the request itself implies: x-amz-tagging on a write -> s3:PutObjectTagging;
 * object-lock retention/legal-hold headers -> s3:PutObjectRetention / s3:PutObjectLegalHold;
 * x-amz-bypass-governance-retention -> s3:BypassGovernanceRetention; x-minio-force-delete
 * on DeleteBucket -> s3:ForceDeleteBucket; x-amz-bucket-object-lock-enabled on CreateBucket
 * -> s3:PutBucketObjectLockConfiguration + s3:PutBucketVersioning. x-amz-acl headers need
 * no extra permission (MinIO ignores ACLs too).
 *
 * Condition keys (lower-cased): aws:SourceIp, aws:SecureTransport, aws:CurrentTime,
 * aws:EpochTime, aws:UserAgent, aws:Referer, aws:username, aws:userid, aws:PrincipalType,
 * aws:PrincipalArn, aws:PrincipalAccount, s3:authType, s3:signatureversion,
 * s3:signatureAge (ms), every x-amz-* request header as s3:x-amz-* (except the session
 * token), s3:RequestObjectTag/<k>, s3:RequestObjectTagKeys, s3:object-lock-mode,
 * s3:object-lock-retain-until-date, s3:object-lock-remaining-retention-days,
 * s3:object-lock-legal-hold, jwt:<claim> and ldap:<claim> from Principal.claims; per
 * check: s3:prefix ("" when the request has none, as MinIO), s3:delimiter, s3:max-keys on
 * list checks, s3:versionid on object checks, s3:ExistingObjectTag/<k> on checks of the
 * object `existingObjectTags` describes. For CopyObject/UploadPartCopy existingObjectTags
 * must describe the SOURCE object (the destination's new tags are requestObjectTags).
 */
import type { AuthzRequest } from '../server/authorizer.js';
import { bucketArn, objectArn } from './arn.js';
import { createContext, layerContext, type ConditionContext } from './context.js';
import type { PrincipalIdentity } from './principal-identity.js';

export interface AuthzCheck {
  action: string;
  resource: string;
  /** The bucket whose bucket policy also applies (absent for ListBuckets). */
  bucket?: string;
  key?: string;
  /** List checks get s3:prefix / s3:delimiter / s3:max-keys. */
  list?: boolean;
  /** Object checks: s3:versionid. */
  versionId?: string;
  /** This check is about the object that req.existingObjectTags describes. */
  existingTags?: boolean;
}

export class UnknownOperationError extends Error {
  constructor(readonly op: string) {
    super(`no authorization mapping for S3 operation '${op}'`);
  }
}

type Mapper = (req: AuthzRequest) => AuthzCheck[];

function header(req: AuthzRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

function needBucket(req: AuthzRequest): string {
  if (!req.bucket) throw new Error(`S3 operation ${req.op} needs a bucket`);
  return req.bucket;
}

function versionOf(req: AuthzRequest): string | undefined {
  return req.query.get('versionId') ?? undefined;
}

function bucketCheck(action: string, list = false): Mapper {
  return (req) => { const b = needBucket(req); return [{ action, resource: bucketArn(b), bucket: b, list }]; };
}

function objectCheck(req: AuthzRequest, action: string, versionAction?: string, key = req.key): AuthzCheck {
  const b = needBucket(req);
  if (key === undefined) throw new Error(`S3 operation ${req.op} needs a key`);
  const versionId = versionOf(req);
  return { action: versionId !== undefined && versionAction ? versionAction : action, resource: objectArn(b, key), bucket: b, key, versionId, existingTags: true };
}

function object(action: string, versionAction?: string): Mapper {
  return (req) => [objectCheck(req, action, versionAction)];
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}

/** The checks a write of new object content implies beyond s3:PutObject. */
function writeExtras(req: AuthzRequest, target: AuthzCheck): AuthzCheck[] {
  const out: AuthzCheck[] = [];
  const base = { resource: target.resource, bucket: target.bucket, key: target.key };
  const hasTags = header(req, 'x-amz-tagging') !== undefined || (req.op !== 'CopyObject' && Object.keys(req.requestObjectTags ?? {}).length > 0);
  if (hasTags) out.push({ ...base, action: 's3:PutObjectTagging' });
  if (header(req, 'x-amz-object-lock-mode') !== undefined || header(req, 'x-amz-object-lock-retain-until-date') !== undefined) out.push({ ...base, action: 's3:PutObjectRetention' });
  if (header(req, 'x-amz-object-lock-legal-hold') !== undefined) out.push({ ...base, action: 's3:PutObjectLegalHold' });
  return out;
}

function put(req: AuthzRequest): AuthzCheck[] {
  const c = { ...objectCheck(req, 's3:PutObject'), versionId: undefined, existingTags: false };
  return [c, ...writeExtras(req, c)];
}

function copy(req: AuthzRequest): AuthzCheck[] {
  const dst = { ...objectCheck(req, 's3:PutObject'), versionId: undefined, existingTags: false };
  const src = req.copySource;
  if (!src) throw new Error(`S3 operation ${req.op} needs copySource`);
  const source: AuthzCheck = {
    action: src.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject',
    resource: objectArn(src.bucket, src.key), bucket: src.bucket, key: src.key, versionId: src.versionId, existingTags: true,
  };
  return [dst, source, ...(req.op === 'CopyObject' ? writeExtras(req, dst) : [])];
}

function bypass(req: AuthzRequest, c: AuthzCheck): AuthzCheck[] {
  return truthy(header(req, 'x-amz-bypass-governance-retention')) ? [{ ...c, action: 's3:BypassGovernanceRetention', existingTags: false }] : [];
}

const MAPPINGS: Record<string, Mapper> = {
  ListBuckets: () => [{ action: 's3:ListAllMyBuckets', resource: 'arn:aws:s3:::*' }],
  ListenNotification: () => [{ action: 's3:ListenNotification', resource: 'arn:aws:s3:::*' }],
  CreateBucket: (req) => {
    const b = needBucket(req);
    const checks: AuthzCheck[] = [{ action: 's3:CreateBucket', resource: bucketArn(b), bucket: b }];
    if (truthy(header(req, 'x-amz-bucket-object-lock-enabled'))) {
      checks.push({ action: 's3:PutBucketObjectLockConfiguration', resource: bucketArn(b), bucket: b }, { action: 's3:PutBucketVersioning', resource: bucketArn(b), bucket: b });
    }
    return checks;
  },
  DeleteBucket: (req) => {
    const b = needBucket(req);
    const checks: AuthzCheck[] = [{ action: 's3:DeleteBucket', resource: bucketArn(b), bucket: b }];
    if (truthy(header(req, 'x-minio-force-delete'))) checks.push({ action: 's3:ForceDeleteBucket', resource: bucketArn(b), bucket: b });
    return checks;
  },
  HeadBucket: bucketCheck('s3:ListBucket', true),
  GetBucketLocation: bucketCheck('s3:GetBucketLocation'),
  ListObjects: bucketCheck('s3:ListBucket', true),
  ListObjectsV2: bucketCheck('s3:ListBucket', true),
  ListObjectVersions: bucketCheck('s3:ListBucketVersions', true),
  ListMultipartUploads: bucketCheck('s3:ListBucketMultipartUploads', true),
  ListenBucketNotification: bucketCheck('s3:ListenBucketNotification'),

  GetObject: object('s3:GetObject', 's3:GetObjectVersion'),
  HeadObject: object('s3:GetObject', 's3:GetObjectVersion'),
  SelectObjectContent: object('s3:GetObject'),
  GetObjectTorrent: object('s3:GetObjectTorrent'),
  GetObjectAttributes: (req) => [
    objectCheck(req, 's3:GetObject', 's3:GetObjectVersion'),
    objectCheck(req, 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes'),
  ],
  PutObject: put,
  PostObject: put,
  CreateMultipartUpload: put,
  UploadPart: (req) => [{ ...objectCheck(req, 's3:PutObject'), versionId: undefined, existingTags: false }],
  CompleteMultipartUpload: (req) => [{ ...objectCheck(req, 's3:PutObject'), versionId: undefined, existingTags: false }],
  CopyObject: copy,
  UploadPartCopy: copy,
  AbortMultipartUpload: (req) => [{ ...objectCheck(req, 's3:AbortMultipartUpload'), existingTags: false }],
  ListParts: (req) => [{ ...objectCheck(req, 's3:ListMultipartUploadParts'), existingTags: false }],
  DeleteObject: (req) => { const c = objectCheck(req, 's3:DeleteObject', 's3:DeleteObjectVersion'); return [c, ...bypass(req, c)]; },
  DeleteObjects: (req) => {
    const b = needBucket(req);
    return (req.deleteKeys ?? []).flatMap((key) => {
      const c: AuthzCheck = { action: 's3:DeleteObject', resource: objectArn(b, key), bucket: b, key };
      return [c, ...bypass(req, c)];
    });
  },
  RestoreObject: object('s3:RestoreObject'),

  GetObjectTagging: object('s3:GetObjectTagging', 's3:GetObjectVersionTagging'),
  PutObjectTagging: object('s3:PutObjectTagging', 's3:PutObjectVersionTagging'),
  DeleteObjectTagging: object('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'),
  GetObjectAcl: object('s3:GetObjectAcl', 's3:GetObjectVersionAcl'),
  PutObjectAcl: object('s3:PutObjectAcl', 's3:PutObjectVersionAcl'),
  GetObjectRetention: object('s3:GetObjectRetention'),
  PutObjectRetention: (req) => { const c = objectCheck(req, 's3:PutObjectRetention'); return [c, ...bypass(req, c)]; },
  GetObjectLegalHold: object('s3:GetObjectLegalHold'),
  PutObjectLegalHold: object('s3:PutObjectLegalHold'),

  GetBucketTagging: bucketCheck('s3:GetBucketTagging'),
  PutBucketTagging: bucketCheck('s3:PutBucketTagging'),
  DeleteBucketTagging: bucketCheck('s3:PutBucketTagging'),
  GetBucketPolicy: bucketCheck('s3:GetBucketPolicy'),
  PutBucketPolicy: bucketCheck('s3:PutBucketPolicy'),
  DeleteBucketPolicy: bucketCheck('s3:DeleteBucketPolicy'),
  GetBucketPolicyStatus: bucketCheck('s3:GetBucketPolicyStatus'),
  GetBucketCors: bucketCheck('s3:GetBucketCORS'),
  PutBucketCors: bucketCheck('s3:PutBucketCORS'),
  DeleteBucketCors: bucketCheck('s3:PutBucketCORS'),
  GetBucketNotificationConfiguration: bucketCheck('s3:GetBucketNotification'),
  PutBucketNotificationConfiguration: bucketCheck('s3:PutBucketNotification'),
  GetBucketNotification: bucketCheck('s3:GetBucketNotification'),
  PutBucketNotification: bucketCheck('s3:PutBucketNotification'),
  GetBucketVersioning: bucketCheck('s3:GetBucketVersioning'),
  PutBucketVersioning: bucketCheck('s3:PutBucketVersioning'),
  GetBucketLifecycleConfiguration: bucketCheck('s3:GetLifecycleConfiguration'),
  PutBucketLifecycleConfiguration: bucketCheck('s3:PutLifecycleConfiguration'),
  GetBucketLifecycle: bucketCheck('s3:GetLifecycleConfiguration'),
  PutBucketLifecycle: bucketCheck('s3:PutLifecycleConfiguration'),
  DeleteBucketLifecycle: bucketCheck('s3:PutLifecycleConfiguration'),
  GetBucketEncryption: bucketCheck('s3:GetEncryptionConfiguration'),
  PutBucketEncryption: bucketCheck('s3:PutEncryptionConfiguration'),
  DeleteBucketEncryption: bucketCheck('s3:PutEncryptionConfiguration'),
  GetObjectLockConfiguration: bucketCheck('s3:GetBucketObjectLockConfiguration'),
  PutObjectLockConfiguration: bucketCheck('s3:PutBucketObjectLockConfiguration'),
  GetBucketReplication: bucketCheck('s3:GetReplicationConfiguration'),
  PutBucketReplication: bucketCheck('s3:PutReplicationConfiguration'),
  DeleteBucketReplication: bucketCheck('s3:PutReplicationConfiguration'),
  GetBucketAcl: bucketCheck('s3:GetBucketAcl'),
  PutBucketAcl: bucketCheck('s3:PutBucketAcl'),
  GetBucketOwnershipControls: bucketCheck('s3:GetBucketOwnershipControls'),
  PutBucketOwnershipControls: bucketCheck('s3:PutBucketOwnershipControls'),
  DeleteBucketOwnershipControls: bucketCheck('s3:PutBucketOwnershipControls'),
  GetPublicAccessBlock: bucketCheck('s3:GetBucketPublicAccessBlock'),
  PutPublicAccessBlock: bucketCheck('s3:PutBucketPublicAccessBlock'),
  DeletePublicAccessBlock: bucketCheck('s3:PutBucketPublicAccessBlock'),
  GetBucketWebsite: bucketCheck('s3:GetBucketWebsite'),
  PutBucketWebsite: bucketCheck('s3:PutBucketWebsite'),
  DeleteBucketWebsite: bucketCheck('s3:DeleteBucketWebsite'),
  GetBucketLogging: bucketCheck('s3:GetBucketLogging'),
  PutBucketLogging: bucketCheck('s3:PutBucketLogging'),
  GetBucketRequestPayment: bucketCheck('s3:GetBucketRequestPayment'),
  PutBucketRequestPayment: bucketCheck('s3:PutBucketRequestPayment'),
  GetBucketAccelerateConfiguration: bucketCheck('s3:GetAccelerateConfiguration'),
  PutBucketAccelerateConfiguration: bucketCheck('s3:PutAccelerateConfiguration'),
};

/** Every operation name the mapping knows (the router's op names must be among them). */
export const S3_OPERATIONS: readonly string[] = Object.keys(MAPPINGS);

/** The checks an S3 request needs; throws UnknownOperationError for an unmapped op. */
export function requiredChecks(req: AuthzRequest): AuthzCheck[] {
  const m = Object.hasOwn(MAPPINGS, req.op) ? MAPPINGS[req.op] : undefined;
  if (!m) throw new UnknownOperationError(req.op);
  return m(req);
}

/** Tags the request sets: requestObjectTags, else the x-amz-tagging header (URL-encoded). */
function requestTags(req: AuthzRequest): Record<string, string> | undefined {
  if (req.requestObjectTags) return req.requestObjectTags;
  const h = header(req, 'x-amz-tagging');
  if (h === undefined) return undefined;
  return Object.fromEntries(new URLSearchParams(h));
}

const DAY_MS = 86_400_000;

/** The request-wide condition context (shared by every check of the request). */
export function requestContext(req: AuthzRequest, who: PrincipalIdentity, now: Date = new Date()): Map<string, readonly string[]> {
  const p = req.principal;
  const anonymous = p.kind === 'anonymous';
  const ctx = createContext({
    'aws:SourceIp': req.sourceIp || undefined,
    'aws:SecureTransport': req.secure ? 'true' : 'false',
    'aws:CurrentTime': now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    'aws:UserAgent': header(req, 'user-agent'),
    'aws:Referer': header(req, 'referer'),
    'aws:username': anonymous || !p.username ? undefined : p.username,
    'aws:userid': anonymous || !p.userId ? undefined : p.userId,
    'aws:PrincipalType': who.type,
    'aws:PrincipalArn': who.arn,
    'aws:PrincipalAccount': anonymous ? undefined : who.accountId,
    's3:authType': req.authType === 'ANONYMOUS' ? undefined : req.authType,
    's3:signatureversion': req.signatureVersion || undefined,
    's3:signatureAge': req.signatureAgeMs === undefined ? undefined : String(Math.round(req.signatureAgeMs)),
  });
  for (const [name, value] of Object.entries(req.headers)) {
    const n = name.toLowerCase();
    if (!n.startsWith('x-amz-') || n === 'x-amz-security-token' || value === undefined) continue;
    ctx.set(`s3:${n}`, [Array.isArray(value) ? value.join(',') : String(value)]);
  }
  const tags = requestTags(req);
  if (tags) {
    for (const [k, v] of Object.entries(tags)) ctx.set(`s3:requestobjecttag/${k.toLowerCase()}`, [v]);
    ctx.set('s3:requestobjecttagkeys', Object.keys(tags));
  }
  const mode = header(req, 'x-amz-object-lock-mode');
  if (mode !== undefined) ctx.set('s3:object-lock-mode', [mode]);
  const until = header(req, 'x-amz-object-lock-retain-until-date');
  if (until !== undefined) {
    ctx.set('s3:object-lock-retain-until-date', [until]);
    const ms = Date.parse(until);
    if (!Number.isNaN(ms)) ctx.set('s3:object-lock-remaining-retention-days', [String(Math.max(0, Math.ceil((ms - now.getTime()) / DAY_MS)))]);
  }
  const hold = header(req, 'x-amz-object-lock-legal-hold');
  if (hold !== undefined) ctx.set('s3:object-lock-legal-hold', [hold]);
  for (const [k, v] of Object.entries(p.claims ?? {})) {
    if (k.includes(':')) ctx.set(k.toLowerCase(), [v]);
    else { ctx.set(`jwt:${k.toLowerCase()}`, [v]); ctx.set(`ldap:${k.toLowerCase()}`, [v]); }
  }
  return ctx;
}

/** The context of one check: the request context plus the check's own keys. */
export function checkContext(req: AuthzRequest, check: AuthzCheck, base: ConditionContext, existingTags?: Record<string, string>): ConditionContext {
  const extra = new Map<string, readonly string[]>();
  if (check.list) {
    extra.set('s3:prefix', [req.query.get('prefix') ?? '']);
    const d = req.query.get('delimiter');
    if (d !== null) extra.set('s3:delimiter', [d]);
    const mk = req.query.get('max-keys') ?? req.query.get('max-uploads');
    if (mk !== null) extra.set('s3:max-keys', [mk]);
  }
  if (check.versionId !== undefined) extra.set('s3:versionid', [check.versionId]);
  if (check.existingTags && existingTags) {
    for (const [k, v] of Object.entries(existingTags)) extra.set(`s3:existingobjecttag/${k.toLowerCase()}`, [v]);
  }
  return layerContext(base, extra);
}
