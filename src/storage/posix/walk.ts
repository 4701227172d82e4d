/**
 * The ordered walk behind listing: yields the objects of a bucket in S3 byte order
 * (a directory `a` sorts as `a/`), reading only the directories a page needs. Subtrees
 * wholly before the `after` marker or outside the prefix are never opened, and with the
 * '/' delimiter a directory below the prefix is reported as one common prefix without
 * being walked, so a page costs the same at the start and deep inside a large bucket.
 */
import { promises as fs, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { compareKeys } from './key-order.js';

export type WalkItem =
  | { kind: 'file'; key: string; path: string }
  | { kind: 'dirObject'; key: string; path: string }
  | { kind: 'prefix'; key: string };

export interface WalkOptions {
  prefix: string;
  after: string;
  /** Roll directories directly under the prefix up into common prefixes. */
  rollUpDirectories: boolean;
  /** Whether a directory carries a directory-object marker. */
  isDirObject: (path: string) => Promise<boolean>;
}

interface Entry { name: string; sortKey: string; isDir: boolean }

async function readEntries(dir: string, rel: string): Promise<Entry[]> {
  let dirents: Dirent[];
  try {
    dirents = await fs.readdir(dir, { withFileTypes: true });
  } catch (e: any) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [];
    throw e;
  }
  const entries: Entry[] = [];
  for (const d of dirents) {
    // symlinks and special files are not objects: following them could escape the bucket
    if (d.isDirectory()) entries.push({ name: d.name, sortKey: `${rel}${d.name}/`, isDir: true });
    else if (d.isFile()) entries.push({ name: d.name, sortKey: rel + d.name, isDir: false });
  }
  return entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}

/** True if the subtree holds at least one object (stops at the first). */
export async function hasObject(dir: string, isDirObject: (path: string) => Promise<boolean>): Promise<boolean> {
  for (const e of await readEntries(dir, '')) {
    const p = join(dir, e.name);
    if (!e.isDir) return true;
    if (await isDirObject(p)) return true;
    if (await hasObject(p, isDirObject)) return true;
  }
  return false;
}

export async function* walk(bucketDir: string, opts: WalkOptions): AsyncGenerator<WalkItem> {
  // Start at the deepest directory fully named by the prefix: 'a/b/c' starts in a/b/.
  const slash = opts.prefix.lastIndexOf('/');
  const startRel = slash >= 0 ? opts.prefix.slice(0, slash + 1) : '';
  yield* walkDir(bucketDir, startRel, opts);
}

async function* walkDir(bucketDir: string, rel: string, opts: WalkOptions): AsyncGenerator<WalkItem> {
  const { prefix, after } = opts;
  const dir = join(bucketDir, rel);
  for (const e of await readEntries(dir, rel)) {
    const key = e.sortKey;
    // within the prefix, or (directories) on the way to it
    const inPrefix = key.startsWith(prefix);
    if (!inPrefix && !(e.isDir && prefix.startsWith(key))) continue;
    const path = join(dir, e.name);
    if (!e.isDir) {
      if (compareKeys(key, after) > 0) yield { kind: 'file', key, path };
      continue;
    }
    if (opts.rollUpDirectories && inPrefix && key === after) continue; // continuing after this common prefix
    const afterInside = after.startsWith(key);
    if (compareKeys(key, after) < 0 && !afterInside) continue; // whole subtree before the marker
    if (opts.rollUpDirectories && inPrefix && !afterInside) {
      if (await opts.isDirObject(path) || await hasObject(path, opts.isDirObject)) yield { kind: 'prefix', key };
      continue;
    }
    if (inPrefix && compareKeys(key, after) > 0 && await opts.isDirObject(path)) yield { kind: 'dirObject', key, path };
    yield* walkDir(bucketDir, key, opts);
  }
}
