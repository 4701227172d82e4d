import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_POLICIES, BUILTIN_POLICY_NAMES, createContext, evaluatePolicies } from '../../src/policy/index.js';

function can(policy: string, action: string, resource?: string): boolean {
  return evaluatePolicies([BUILTIN_POLICIES.get(policy)!], { action, resource, context: createContext() }).decision === 'Allow';
}

test('built-in policy names', () => {
  assert.deepEqual([...BUILTIN_POLICY_NAMES].sort(), ['consoleAdmin', 'diagnostics', 'readonly', 'readwrite', 'writeonly']);
});

test('readonly: get objects and bucket location, but no listing and no writes', () => {
  assert.ok(can('readonly', 's3:GetObject', 'arn:aws:s3:::any/key'));
  assert.ok(can('readonly', 's3:GetBucketLocation', 'arn:aws:s3:::any'));
  assert.ok(!can('readonly', 's3:ListBucket', 'arn:aws:s3:::any'));
  assert.ok(!can('readonly', 's3:ListAllMyBuckets', 'arn:aws:s3:::*'));
  assert.ok(!can('readonly', 's3:PutObject', 'arn:aws:s3:::any/key'));
  assert.ok(!can('readonly', 's3:DeleteObject', 'arn:aws:s3:::any/key'));
});

test('readwrite: every s3 action, no admin', () => {
  for (const a of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:CreateBucket', 's3:PutBucketPolicy']) {
    assert.ok(can('readwrite', a, 'arn:aws:s3:::b/k'), a);
  }
  assert.ok(can('readwrite', 's3:ListAllMyBuckets', 'arn:aws:s3:::*'));
  assert.ok(!can('readwrite', 'admin:CreateUser'));
});

test('writeonly: PutObject only', () => {
  assert.ok(can('writeonly', 's3:PutObject', 'arn:aws:s3:::b/k'));
  assert.ok(!can('writeonly', 's3:GetObject', 'arn:aws:s3:::b/k'));
  assert.ok(!can('writeonly', 's3:ListBucket', 'arn:aws:s3:::b'));
});

test('consoleAdmin: admin, kms and s3', () => {
  assert.ok(can('consoleAdmin', 'admin:CreateUser'));
  assert.ok(can('consoleAdmin', 'admin:ServerInfo'));
  assert.ok(can('consoleAdmin', 'kms:CreateKey'));
  assert.ok(can('consoleAdmin', 's3:DeleteBucket', 'arn:aws:s3:::b'));
});

test('diagnostics: server info and metrics, nothing else', () => {
  assert.ok(can('diagnostics', 'admin:ServerInfo'));
  assert.ok(can('diagnostics', 'admin:Prometheus'));
  assert.ok(can('diagnostics', 'admin:OBDInfo'));
  assert.ok(!can('diagnostics', 'admin:CreateUser'));
  assert.ok(!can('diagnostics', 's3:GetObject', 'arn:aws:s3:::b/k'));
});
