/** Asserting that an AWS SDK v3 S3 call fails with a given S3 error code (and status, message). */
import assert from 'node:assert/strict';
import type { S3ServiceException } from '@aws-sdk/client-s3';

/**
 * Awaits `p` and fails unless it rejects with error name `code`; when given, the HTTP
 * status and a message pattern must match too. Returns the error for further checks.
 */
export async function expectError(p: Promise<unknown>, code: string, status?: number, message?: RegExp): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    const err = e as S3ServiceException;
    assert.equal(err.name, code, `expected ${code}, got ${err.name}: ${err.message}`);
    if (status) assert.equal(err.$metadata.httpStatusCode, status);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}`);
}
