/** Running third-party CLI clients in tests: the binary must be there, and the AWS CLI sees only our settings. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Fails (never skips) when the client is not installed, naming the Debian package. */
export function requireBinary(name: string, debianPackage: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${name}`]);
  if (r.status !== 0) assert.fail(`${name} is not installed: apt-get install ${debianPackage}`);
}

export interface CliKeys { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

/**
 * AWS CLI variables for these keys: us-east-1, config and credentials files inside `dir`
 * (so the user's ~/.aws is never read), no instance-metadata lookups, no pager.
 * Callers add PATH/HOME or the whole process env.
 */
export function awsCliEnv(dir: string, keys: CliKeys): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '',
    ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
  };
}
