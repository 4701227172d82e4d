/**
 * The built-in (canned) policies, with MinIO's meaning:
 *   consoleAdmin  admin:*, kms:* and s3:* on everything
 *   readonly      s3:GetBucketLocation + s3:GetObject on arn:aws:s3:::* (no listing: a
 *                 reader fetches known keys, it cannot discover buckets or objects)
 *   readwrite     s3:* on arn:aws:s3:::*
 *   writeonly     s3:PutObject on arn:aws:s3:::*
 *   diagnostics   admin:ServerInfo, admin:Prometheus and the other read-only diagnostics
 * They cannot be changed or removed; the IAM layer addresses them by name (and as
 * arn:aws:iam::aws:policy/<name> in the IAM API).
 */
import { parsePolicy, type CompiledPolicy } from './policy.js';

const ALL = ['arn:aws:s3:::*'];

export const BUILTIN_POLICY_DOCUMENTS: Readonly<Record<string, Record<string, unknown>>> = Object.freeze({
  consoleAdmin: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['admin:*'] },
      { Effect: 'Allow', Action: ['kms:*'] },
      { Effect: 'Allow', Action: ['s3:*'], Resource: ALL },
    ],
  },
  readonly: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetObject'], Resource: ALL }],
  },
  readwrite: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: ALL }],
  },
  writeonly: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: ALL }],
  },
  diagnostics: {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Action: ['admin:Profiling', 'admin:ServerTrace', 'admin:ConsoleLog', 'admin:ServerInfo', 'admin:TopLocksInfo',
        'admin:OBDInfo', 'admin:BandwidthMonitor', 'admin:Prometheus'],
      Resource: ALL,
    }],
  },
});

export const BUILTIN_POLICY_NAMES: readonly string[] = Object.keys(BUILTIN_POLICY_DOCUMENTS);

export const BUILTIN_POLICIES: ReadonlyMap<string, CompiledPolicy> = new Map(
  Object.entries(BUILTIN_POLICY_DOCUMENTS).map(([name, doc]) => [name, parsePolicy(JSON.stringify(doc), { name, kind: 'identity' })]),
);

export function isBuiltinPolicy(name: string): boolean {
  return BUILTIN_POLICIES.has(name);
}

export function builtinPolicy(name: string): CompiledPolicy | undefined {
  return BUILTIN_POLICIES.get(name);
}
