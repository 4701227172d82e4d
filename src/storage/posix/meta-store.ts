/**
 * Where object metadata lives: in an extended attribute on the file itself (so it moves
 * with the file and works on JuiceFS/CephFS), or in sidecar JSON files under the system
 * dir for file systems without user xattrs. Chosen once at start-up by probing.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as xattr from 'fs-xattr';

export const XATTR_NAME = 'user.s3gate.meta';

export interface MetaStore {
  readonly kind: 'xattr' | 'sidecar';
  /** Returns the stored JSON text, or undefined if the path has none. */
  read(path: string): Promise<string | undefined>;
  /** `fresh`: the path is a new temp file that has no metadata yet (saves a read). */
  write(path: string, json: string, fresh?: boolean): Promise<void>;
  remove(path: string): Promise<void>;
  /** Called after a temp file carrying metadata was renamed onto `to`. */
  moved(from: string, to: string): Promise<void>;
  /**
   * Called before a new file replaces `path`: returns what to do once it has (free
   * storage that belonged to the old file's metadata), if anything.
   */
  beforeReplace?(path: string): Promise<(() => Promise<void>) | undefined>;
}

function isMissingAttr(e: any): boolean {
  return e?.code === 'ENODATA' || e?.code === 'ENOATTR' || e?.code === 'ENOENT';
}

export class XattrMetaStore implements MetaStore {
  readonly kind = 'xattr';
  async read(path: string): Promise<string | undefined> {
    try {
      return (await xattr.getAttribute(path, XATTR_NAME)).toString('utf8');
    } catch (e) {
      if (isMissingAttr(e)) return undefined;
      throw e;
    }
  }
  async write(path: string, json: string): Promise<void> {
    await xattr.setAttribute(path, XATTR_NAME, json);
  }
  async remove(path: string): Promise<void> {
    try { await xattr.removeAttribute(path, XATTR_NAME); } catch (e) { if (!isMissingAttr(e)) throw e; }
  }
  async moved(): Promise<void> { /* the attribute moved with the file */ }
}

/** Sidecar files mirror the data tree: <sysDir>/meta/<path relative to dataDir>.s3meta */
export class SidecarMetaStore implements MetaStore {
  readonly kind = 'sidecar';
  constructor(private readonly dataDir: string, private readonly metaDir: string) {}
  private sidecar(path: string): string {
    return join(this.metaDir, path.slice(this.dataDir.length)) + '.s3meta';
  }
  async read(path: string): Promise<string | undefined> {
    try { return await fs.readFile(this.sidecar(path), 'utf8'); } catch (e: any) { if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined; throw e; }
  }
  async write(path: string, json: string): Promise<void> {
    const target = this.sidecar(path);
    await fs.mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    await fs.writeFile(tmp, json);
    await fs.rename(tmp, target);
  }
  async remove(path: string): Promise<void> {
    await fs.rm(this.sidecar(path), { force: true });
  }
  async moved(from: string, to: string): Promise<void> {
    const json = await this.read(from);
    if (json === undefined) return;
    await this.write(to, json);
    await this.remove(from);
  }
}

/** Probes the file system: xattrs if a user attribute can be set in `probeDir`. */
export async function chooseMetaStore(probeDir: string, dataDir: string, metaDir: string, forced?: 'xattr' | 'sidecar'): Promise<MetaStore> {
  if (forced === 'sidecar') return new SidecarMetaStore(dataDir, metaDir);
  const probe = join(probeDir, `.xattr-probe-${randomUUID()}`);
  await fs.writeFile(probe, '');
  try {
    await xattr.setAttribute(probe, XATTR_NAME, '{}');
    return new XattrMetaStore();
  } catch (e) {
    if (forced === 'xattr') throw new Error(`extended attributes are not supported under ${probeDir}: ${String(e)}`);
    return new SidecarMetaStore(dataDir, metaDir);
  } finally {
    await fs.rm(probe, { force: true });
  }
}
