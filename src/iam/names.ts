/**
 * Name rules for users, groups and policies. AWS IAM allows [\w+=,.@-] (users up to 64,
 * groups and policies up to 128); MinIO is looser. We accept the AWS set for users and
 * groups (a user name doubles as an access key in the MinIO model), and for policy names
 * the AWS set without ',' (MinIO joins policy lists with commas). ':' never appears in a
 * name a client chooses: it is reserved for the names of inline policies ("user:tom:p1").
 */
import { IamError } from './errors.js';

const USER_OR_GROUP = /^[\w+=,.@-]+$/;
const POLICY = /^[\w+=.@-]+$/;

export function validateUserName(name: string): void {
  if (typeof name !== 'string' || name.length < 1 || name.length > 64 || !USER_OR_GROUP.test(name)) {
    throw new IamError('InvalidArgument', `invalid user name '${String(name)}': 1 to 64 characters of letters, digits and +=,.@_-`);
  }
}

export function validateGroupName(name: string): void {
  if (typeof name !== 'string' || name.length < 1 || name.length > 128 || !USER_OR_GROUP.test(name)) {
    throw new IamError('InvalidArgument', `invalid group name '${String(name)}': 1 to 128 characters of letters, digits and +=,.@_-`);
  }
}

export function validatePolicyName(name: string): void {
  if (typeof name !== 'string' || name.length < 1 || name.length > 128 || !POLICY.test(name)) {
    throw new IamError('InvalidArgument', `invalid policy name '${String(name)}': 1 to 128 characters of letters, digits and +=.@_-`);
  }
}

/** The custom-policy name an inline policy is stored under. */
export function inlinePolicyName(kind: 'user' | 'group', owner: string, policyName: string): string {
  return `${kind}:${owner}:${policyName}`;
}
