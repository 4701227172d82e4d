/**
 * Large object metadata on file systems with small xattr limits.
 *
 * A multipart object's metadata carries its part layout (number, size, ETag, checksum
 * per part): 128 parts of a 1 GiB `aws s3 cp` are ~12 KB of JSON, 10 000 parts close to
 * 1 MB, but ext4 (without ea_inode) keeps all of a file's attributes in one 4 KB block.
 * This wrapper keeps small documents inline in the attribute and moves larger ones into
 * a spill file under `<sysDir>/meta-spill/`, leaving only a short reference in the
 * attribute. The reference still moves with the file on rename.
 *
 * Spill files are removed when the object's metadata is rewritten or removed through
 * the store, and when a commit renames a new file over the object (beforeReplace).
 *
 * Only the xattr store is wrapped: sidecar files have no size limit.
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { MetaStore } from './meta-store.js';

/** Inline limit, leaving room under a 4 KB attribute block for the name and headers. */
export const INLINE_META_MAX = 3000;

const SPILL_NAME = /^[0-9a-f]{32}\.json$/;

interface SpillRef { s3gateSpill: string }

function refOf(json: string | undefined): string | undefined {
  if (!json || !json.startsWith('{"s3gateSpill"')) return undefined;
  try {
    const r = JSON.parse(json) as SpillRef;
    return typeof r.s3gateSpill === 'string' && SPILL_NAME.test(r.s3gateSpill) ? r.s3gateSpill : undefined;
  } catch {
    return undefined;
  }
}

export class SpillingMetaStore implements MetaStore {
  constructor(private readonly inner: MetaStore, private readonly spillDir: string) {}

  get kind(): 'xattr' | 'sidecar' { return this.inner.kind; }

  async read(path: string): Promise<string | undefined> {
    const raw = await this.inner.read(path);
    const ref = refOf(raw);
    if (!ref) return raw;
    try {
      return await fs.readFile(join(this.spillDir, ref), 'utf8');
    } catch (e: any) {
      if (e.code === 'ENOENT') return undefined; // lost spill file: served as a foreign file
      throw e;
    }
  }

  async write(path: string, json: string, fresh = false): Promise<void> {
    const previous = fresh ? undefined : refOf(await this.inner.read(path).catch(() => undefined));
    if (Buffer.byteLength(json) <= INLINE_META_MAX) {
      await this.inner.write(path, json);
    } else {
      const name = `${randomBytes(16).toString('hex')}.json`;
      await fs.mkdir(this.spillDir, { recursive: true });
      const tmp = join(this.spillDir, `${name}.tmp`);
      await fs.writeFile(tmp, json);
      await fs.rename(tmp, join(this.spillDir, name));
      const ref: SpillRef = { s3gateSpill: name };
      try {
        await this.inner.write(path, JSON.stringify(ref));
      } catch (e) {
        await fs.rm(join(this.spillDir, name), { force: true });
        throw e;
      }
    }
    if (previous) await fs.rm(join(this.spillDir, previous), { force: true });
  }

  async remove(path: string): Promise<void> {
    const ref = refOf(await this.inner.read(path).catch(() => undefined));
    await this.inner.remove(path);
    if (ref) await fs.rm(join(this.spillDir, ref), { force: true });
  }

  async beforeReplace(path: string): Promise<(() => Promise<void>) | undefined> {
    const ref = refOf(await this.inner.read(path).catch(() => undefined));
    return ref ? () => fs.rm(join(this.spillDir, ref), { force: true }) : undefined;
  }

  moved(from: string, to: string): Promise<void> {
    return this.inner.moved(from, to);
  }
}

/** Wraps an xattr store; returns other stores unchanged. */
export function withMetaSpill(store: MetaStore, sysDir: string): MetaStore {
  return store.kind === 'xattr' ? new SpillingMetaStore(store, join(sysDir, 'meta-spill')) : store;
}
