/**
 * Root credentials: S3GATE_ROOT_USER / S3GATE_ROOT_PASSWORD (MINIO_ROOT_USER /
 * MINIO_ROOT_PASSWORD accepted). With neither set, strong credentials are generated on
 * first start, kept in <sysDir>/root.json (mode 0600) and printed once.
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export interface RootCredentials { user: string; password: string; generated: boolean }

export class StartupError extends Error {}

function pick(env: NodeJS.ProcessEnv, name: string): { name: string; value: string } | undefined {
  for (const prefix of ['S3GATE_', 'MINIO_']) {
    const v = env[prefix + name];
    if (v !== undefined && v !== '') return { name: prefix + name, value: v };
  }
  return undefined;
}

export async function loadRootCredentials(sysDir: string, env: NodeJS.ProcessEnv = process.env): Promise<RootCredentials> {
  const user = pick(env, 'ROOT_USER');
  const password = pick(env, 'ROOT_PASSWORD');
  if (user || password) {
    if (!user) throw new StartupError(`${password!.name.replace('PASSWORD', 'USER')} must be set together with ${password!.name}.`);
    if (!password) throw new StartupError(`${user.name.replace('USER', 'PASSWORD')} must be set together with ${user.name}.`);
    if (user.value.length < 3) throw new StartupError(`${user.name} must be at least 3 characters long.`);
    if (password.value.length < 8) throw new StartupError(`${password.name} must be at least 8 characters long.`);
    return { user: user.value, password: password.value, generated: false };
  }
  const file = join(sysDir, 'root.json');
  try {
    const stored = JSON.parse(await fs.readFile(file, 'utf8'));
    return { user: stored.user, password: stored.password, generated: false };
  } catch (e: any) {
    if (e.code !== 'ENOENT') throw new StartupError(`cannot read ${file}: ${e.message}`);
  }
  const creds = { user: 'admin-' + randomBytes(4).toString('hex'), password: randomBytes(24).toString('base64url') };
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(creds), { mode: 0o600 });
  try {
    await fs.link(tmp, file); // another instance may have won the race: use its credentials
  } catch (e: any) {
    if (e.code !== 'EEXIST') throw e;
    await fs.rm(tmp, { force: true });
    return loadRootCredentials(sysDir, env);
  }
  await fs.rm(tmp, { force: true });
  return { ...creds, generated: true };
}
