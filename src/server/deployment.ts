/** What `admin info` reports about this deployment: a stable id, the version, bucket usage. */
import { promises as fs } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { PosixBackend } from '../storage/posix/backend.js';

export const VERSION = '0.1.0';

/** A UUID kept in the system dir, shared by every instance on the same data dir. */
export async function deploymentId(sysDir: string): Promise<string> {
  const file = join(sysDir, 'deployment-id');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (e: any) {
    if (e.code !== 'ENOENT') throw e;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, randomUUID());
  await fs.link(tmp, file).catch((e) => { if (e.code !== 'EEXIST') throw e; }); // first writer wins
  await fs.rm(tmp, { force: true });
  return (await fs.readFile(file, 'utf8')).trim();
}

/** Bucket count only: counting objects would walk the whole tree. */
export async function usageOf(backend: PosixBackend): Promise<{ buckets: number }> {
  return { buckets: (await backend.listBuckets()).length };
}
