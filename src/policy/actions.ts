/**
 * The actions a policy may name, per service, and their matchers.
 *
 * - s3: the S3 actions of AWS's service authorization reference that an S3 gateway can
 *   meaningfully check, plus MinIO's extensions (s3:ForceDeleteBucket,
 *   s3:ListenBucketNotification, s3:ListenNotification, replication, QoS ...).
 * - admin: every `admin:` action MinIO's policy parser accepts (mc admin).
 * - kms: MinIO's KMS actions.   - sts: the AWS STS actions plus MinIO's LDAP one.
 *
 * Action names are case-insensitive (as in AWS). A pattern must name a known service and
 * match at least one known action of it (`s3:Get*` is fine, `s3:GetFoo` is refused);
 * `*` alone means every action of every service.
 */
import { compileWildcard, hasWildcard, type StringMatcher } from './wildcard.js';

export const S3_ACTIONS: readonly string[] = [
  's3:AbortMultipartUpload', 's3:BypassGovernanceRetention', 's3:CreateBucket', 's3:DeleteBucket',
  's3:DeleteBucketCors', 's3:DeleteBucketPolicy', 's3:DeleteBucketWebsite', 's3:DeleteObject',
  's3:DeleteObjectTagging', 's3:DeleteObjectVersion', 's3:DeleteObjectVersionTagging', 's3:ForceDeleteBucket',
  's3:GetAccelerateConfiguration', 's3:GetAnalyticsConfiguration', 's3:GetBucketAcl', 's3:GetBucketCORS',
  's3:GetBucketLocation', 's3:GetBucketLogging', 's3:GetBucketNotification', 's3:GetBucketObjectLockConfiguration',
  's3:GetBucketOwnershipControls', 's3:GetBucketPolicy', 's3:GetBucketPolicyStatus', 's3:GetBucketPublicAccessBlock',
  's3:GetBucketQOS', 's3:GetBucketRequestPayment', 's3:GetBucketTagging', 's3:GetBucketVersioning',
  's3:GetBucketWebsite', 's3:GetEncryptionConfiguration', 's3:GetIntelligentTieringConfiguration',
  's3:GetInventoryConfiguration', 's3:GetLifecycleConfiguration', 's3:GetMetricsConfiguration', 's3:GetObject',
  's3:GetObjectAcl', 's3:GetObjectAttributes', 's3:GetObjectLegalHold', 's3:GetObjectRetention',
  's3:GetObjectTagging', 's3:GetObjectTorrent', 's3:GetObjectVersion', 's3:GetObjectVersionAcl',
  's3:GetObjectVersionAttributes', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionTagging',
  's3:GetReplicationConfiguration', 's3:HeadBucket', 's3:ListAllMyBuckets', 's3:ListBucket',
  's3:ListBucketMultipartUploads', 's3:ListBucketVersions', 's3:ListMultipartUploadParts',
  's3:ListenBucketNotification', 's3:ListenNotification', 's3:PutAccelerateConfiguration',
  's3:PutAnalyticsConfiguration', 's3:PutBucketAcl', 's3:PutBucketCORS', 's3:PutBucketLogging',
  's3:PutBucketNotification', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketOwnershipControls',
  's3:PutBucketPolicy', 's3:PutBucketPublicAccessBlock', 's3:PutBucketQOS', 's3:PutBucketRequestPayment',
  's3:PutBucketTagging', 's3:PutBucketVersioning', 's3:PutBucketWebsite', 's3:PutEncryptionConfiguration',
  's3:PutIntelligentTieringConfiguration', 's3:PutInventoryConfiguration', 's3:PutLifecycleConfiguration',
  's3:PutMetricsConfiguration', 's3:PutObject', 's3:PutObjectAcl', 's3:PutObjectFanOut', 's3:PutObjectLegalHold',
  's3:PutObjectRetention', 's3:PutObjectTagging', 's3:PutObjectVersionAcl', 's3:PutObjectVersionTagging',
  's3:PutReplicationConfiguration', 's3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags',
  's3:ResetBucketReplicationState', 's3:RestoreObject',
];

export const ADMIN_ACTIONS: readonly string[] = [
  'Heal', 'Decommission', 'Rebalance', 'StorageInfo', 'Prometheus', 'DataUsageInfo', 'ForceUnlock', 'TopLocksInfo',
  'Profiling', 'ServerTrace', 'ConsoleLog', 'KMSCreateKey', 'KMSKeyStatus', 'ServerInfo', 'OBDInfo', 'LicenseInfo',
  'BandwidthMonitor', 'InspectData', 'ServerUpdate', 'ServiceRestart', 'ServiceStop', 'ServiceFreeze',
  'ServiceCordon', 'ConfigUpdate', 'CreateUser', 'DeleteUser', 'ListUsers', 'EnableUser', 'DisableUser', 'GetUser',
  'SiteReplicationAdd', 'SiteReplicationDisable', 'SiteReplicationRemove', 'SiteReplicationResync',
  'SiteReplicationInfo', 'SiteReplicationOperation', 'CreateServiceAccount', 'UpdateServiceAccount',
  'RemoveServiceAccount', 'ListServiceAccounts', 'ListTemporaryAccounts', 'AddUserToGroup', 'RemoveUserFromGroup',
  'GetGroup', 'ListGroups', 'EnableGroup', 'DisableGroup', 'CreatePolicy', 'DeletePolicy', 'GetPolicy',
  'AttachUserOrGroupPolicy', 'UpdatePolicyAssociation', 'ListUserPolicies', 'SetBucketQuota', 'GetBucketQuota',
  'SetBucketTarget', 'GetBucketTarget', 'ReplicationDiff', 'ImportBucketMetadata', 'ExportBucketMetadata',
  'SetTier', 'ListTier', 'ExportIAM', 'ImportIAM', 'ListBatchJobs', 'DescribeBatchJob', 'StartBatchJob',
  'CancelBatchJob', 'GenerateBatchJob', 'InventoryControl', 'ClusterInfo', 'PoolList', 'PoolInfo', 'NodeList',
  'NodeInfo', 'SetInfo', 'DriveList', 'DriveInfo',
].map((a) => `admin:${a}`);

export const KMS_ACTIONS: readonly string[] = [
  'CreateKey', 'DeleteKey', 'ListKeys', 'ImportKey', 'DescribePolicy', 'AssignPolicy', 'DeletePolicy', 'SetPolicy',
  'GetPolicy', 'ListPolicies', 'DescribeIdentity', 'DescribeSelfIdentity', 'DeleteIdentity', 'ListIdentities',
  'KeyStatus', 'Status', 'API', 'Metrics', 'Version', 'AuditLog', 'ErrorLog', 'Enable', 'KeyRotate',
].map((a) => `kms:${a}`);

export const STS_ACTIONS: readonly string[] = [
  'AssumeRole', 'AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML', 'AssumeRoleWithLDAPIdentity',
  'AssumeRoleWithClientGrants', 'AssumeRoleWithCertificate', 'AssumeRoleWithCustomToken', 'GetSessionToken',
  'GetFederationToken', 'GetCallerIdentity', 'GetAccessKeyInfo', 'TagSession', 'SetSourceIdentity',
  'DecodeAuthorizationMessage',
].map((a) => `sts:${a}`);

const BY_SERVICE: ReadonlyMap<string, readonly string[]> = new Map([
  ['s3', S3_ACTIONS.map((a) => a.toLowerCase())],
  ['admin', ADMIN_ACTIONS.map((a) => a.toLowerCase())],
  ['kms', KMS_ACTIONS.map((a) => a.toLowerCase())],
  ['sts', STS_ACTIONS.map((a) => a.toLowerCase())],
]);

/** Every known action, canonical spelling. */
export const ALL_ACTIONS: readonly string[] = [...S3_ACTIONS, ...ADMIN_ACTIONS, ...KMS_ACTIONS, ...STS_ACTIONS];

/** Why a pattern is not acceptable, or undefined when it is. */
export function actionPatternProblem(pattern: string): string | undefined {
  if (pattern === '*') return undefined;
  const colon = pattern.indexOf(':');
  if (colon <= 0 || colon === pattern.length - 1) return `invalid action '${pattern}' (expected service:ActionName, e.g. s3:GetObject)`;
  const service = pattern.slice(0, colon).toLowerCase();
  const known = BY_SERVICE.get(service);
  if (!known) return `unknown action '${pattern}': service '${pattern.slice(0, colon)}' is not one of s3, admin, kms, sts`;
  const lower = pattern.toLowerCase();
  if (!hasWildcard(lower)) return known.includes(lower) ? undefined : `unknown action '${pattern}'`;
  const m = compileWildcard(lower);
  return known.some(m) ? undefined : `action pattern '${pattern}' matches no known action`;
}

/** True when a pattern may match an S3 action (such statements need a Resource). */
export function patternCoversS3(pattern: string): boolean {
  if (pattern === '*') return true;
  const lower = pattern.toLowerCase();
  if (!lower.startsWith('s3:')) return false;
  return true;
}

/** A matcher over lower-cased action names for a list of patterns. */
export function compileActionMatcher(patterns: readonly string[]): StringMatcher {
  const exact = new Set<string>();
  const wild: StringMatcher[] = [];
  for (const p of patterns) {
    const lower = p.toLowerCase();
    if (hasWildcard(lower)) wild.push(compileWildcard(lower));
    else exact.add(lower);
  }
  if (wild.length === 0) return (a) => exact.has(a);
  return (a) => exact.has(a) || wild.some((m) => m(a));
}

/** The service of an action name, lower-cased ('s3', 'admin', ...). */
export function actionService(action: string): string {
  const i = action.indexOf(':');
  return i < 0 ? '' : action.slice(0, i).toLowerCase();
}
