/**
 * PosixBackend: buckets are top-level directories of the data dir, objects are files,
 * metadata sits in an extended attribute (or a sidecar, see meta-store.ts). Writes stream
 * into the instance's temp dir, get their metadata, are fsynced and renamed into place,
 * so a reader never sees a partial object and a crash leaves only temp garbage, which
 * start-up removes. Directory objects (`key/`) are directories carrying the attribute.
 */
import { createWriteStream, promises as fs, constants as fsc, type Stats } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Error } from '../../server/errors.js';
import { endedLocalInstance } from '../../server/instance-id.js';
import type { Backend, BucketInfo, ByteRangeChoice, ListOptions, ListResult, NewObjectMeta, ObjectMeta, WriteConditions } from '../backend.js';
import { SYS_DIR_NAME, bucketNameError, isDirectoryKey } from '../keys.js';
import { chooseMetaStore, type MetaStore } from './meta-store.js';
import { withMetaSpill } from './multipart-meta-spill.js';
import { hasObject, walk } from './walk.js';
import { pipeInto } from '../pipe.js';
import { guessContentType } from './content-type.js';

export interface PosixBackendOptions {
  dataDir: string;
  /** Stable per instance (hostname-port): names this instance's temp dir. */
  instanceId: string;
  /** fsync file data and the parent directory before acknowledging a write. */
  fsync: boolean;
  metaStore?: 'xattr' | 'sidecar';
}

/** What is persisted in the attribute: the metadata plus the file's size and mtime at write time. */
interface StoredMeta extends NewObjectMeta {
  v: 1;
  size: number;
  mtimeMs: number;
  dirObject?: boolean;
}

/** Reads up to this size are served from one buffer rather than a stream. */
const SMALL_READ = 128 * 1024;

const objectExistsAsDirectory = () => new S3Error('XMinioObjectExistsAsDirectory', 'Object name already exists as a directory.', { status: 409 });
const parentIsObject = () => new S3Error('XMinioParentIsObject', 'Object-prefix is already an object, please choose a different object-prefix name.', { status: 409 });

export class PosixBackend implements Backend {
  readonly sysDir: string;
  readonly tmpDir: string;
  private meta!: MetaStore;

  private constructor(private readonly opts: PosixBackendOptions) {
    this.sysDir = join(opts.dataDir, SYS_DIR_NAME);
    this.tmpDir = join(this.sysDir, 'tmp', opts.instanceId);
  }

  /** Creates the system dir and picks the metadata store. `cleanTemp` only in the primary process. */
  static async open(opts: PosixBackendOptions, cleanTemp: boolean): Promise<PosixBackend> {
    const b = new PosixBackend(opts);
    if (cleanTemp) await removeEndedTemp(join(b.sysDir, 'tmp'), opts.instanceId);
    await fs.mkdir(b.tmpDir, { recursive: true });
    // multipart part layouts outgrow a 4 KB xattr block: large documents spill to files
    b.meta = withMetaSpill(await chooseMetaStore(b.tmpDir, opts.dataDir, join(b.sysDir, 'meta'), opts.metaStore), b.sysDir);
    return b;
  }

  get metaStoreKind(): string { return this.meta.kind; }

  private bucketDir(bucket: string): string { return join(this.opts.dataDir, bucket); }
  private objectPath(bucket: string, key: string): string {
    return join(this.opts.dataDir, bucket, isDirectoryKey(key) ? key.slice(0, -1) : key);
  }
  private configPath(bucket: string, name: string): string { return join(this.sysDir, 'buckets', bucket, name); }
  newTempPath(): string { return join(this.tmpDir, randomUUID()); }

  // ---- buckets

  async listBuckets(): Promise<BucketInfo[]> {
    const out: BucketInfo[] = [];
    for (const d of await fs.readdir(this.opts.dataDir, { withFileTypes: true })) {
      if (!d.isDirectory() || bucketNameError(d.name)) continue;
      const st = await fs.stat(join(this.opts.dataDir, d.name)).catch(() => undefined);
      if (st) out.push({ name: d.name, created: createdTime(st) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async createBucket(bucket: string): Promise<void> {
    try {
      await fs.mkdir(this.bucketDir(bucket));
    } catch (e: any) {
      if (e.code === 'EEXIST') throw new S3Error('BucketAlreadyOwnedByYou', undefined, { extra: { BucketName: bucket } });
      throw e;
    }
    await fs.rm(join(this.sysDir, 'buckets', bucket), { recursive: true, force: true });
  }

  async headBucket(bucket: string): Promise<BucketInfo> {
    const st = await fs.stat(this.bucketDir(bucket)).catch(() => undefined);
    if (!st?.isDirectory() || bucketNameError(bucket)) throw new S3Error('NoSuchBucket', undefined, { extra: { BucketName: bucket } });
    return { name: bucket, created: createdTime(st) };
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.headBucket(bucket);
    if (await hasObject(this.bucketDir(bucket), (p) => this.isDirObject(p))) throw new S3Error('BucketNotEmpty', undefined, { extra: { BucketName: bucket } });
    await fs.rm(this.bucketDir(bucket), { recursive: true, force: true });
    await fs.rm(join(this.sysDir, 'buckets', bucket), { recursive: true, force: true });
  }

  // ---- objects

  async putObject(bucket: string, key: string, body: Readable, finalize: (size: number) => NewObjectMeta | Promise<NewObjectMeta>, conditions?: WriteConditions): Promise<ObjectMeta> {
    await this.headBucket(bucket);
    const tmp = this.newTempPath();
    try {
      const size = await this.writeTemp(tmp, body);
      const meta = await finalize(size);
      if (isDirectoryKey(key) && size > 0) throw new S3Error('InvalidArgument', 'A directory object (a key ending in "/") cannot have content.');
      return await this.commit(tmp, bucket, key, meta, conditions);
    } finally {
      await fs.rm(tmp, { force: true, recursive: true });
    }
  }

  /** Streams a body into a new temp file; returns the byte count. */
  async writeTemp(tmp: string, body: Readable): Promise<number> {
    // flush: fsync before close, so an acknowledged write survives a power cut
    const ws = createWriteStream(tmp, { flags: 'wx', mode: 0o644, flush: this.opts.fsync, highWaterMark: 1 << 20 });
    try {
      await pipeInto(body, ws, { closed: true });
    } catch (e) {
      // A body that fails at once can beat the file's open: wait for it to be closed, or
      // the caller's removal runs first and the file appears after it.
      if (!ws.closed) await new Promise<void>((r) => ws.once('close', () => r()));
      throw e;
    }
    return ws.bytesWritten;
  }

  /**
   * Gives a finished temp file its metadata and moves it into place. Public so the
   * multipart code can commit an assembled object the same way.
   */
  async commit(tmp: string, bucket: string, key: string, meta: NewObjectMeta, conditions?: WriteConditions): Promise<ObjectMeta> {
    const dest = this.objectPath(bucket, key);
    if (isDirectoryKey(key)) return this.commitDirObject(dest, meta, conditions);
    const st = await fs.stat(tmp);
    const stored: StoredMeta = { ...meta, v: 1, size: st.size, mtimeMs: st.mtimeMs };
    await this.meta.write(tmp, JSON.stringify(stored), true);
    for (let attempt = 0; ; attempt++) {
      await this.prepareParents(bucket, dest);
      await this.checkConditions(bucket, key, conditions);
      try {
        const existing = await fs.lstat(dest).catch(() => undefined);
        if (existing?.isDirectory()) throw objectExistsAsDirectory();
        const release = existing ? await this.meta.beforeReplace?.(dest) : undefined;
        if (conditions?.ifNoneMatchStar) {
          // link() fails if the name exists: an atomic create-only
          await fs.link(tmp, dest).catch((e) => { throw e.code === 'EEXIST' ? new S3Error('PreconditionFailed') : e; });
        } else {
          await fs.rename(tmp, dest);
        }
        await this.meta.moved(tmp, dest);
        await release?.();
        break;
      } catch (e: any) {
        // a concurrent delete removed an empty parent between mkdir and rename: retry
        if (e.code === 'ENOENT' && attempt < 5) continue;
        if (e.code === 'ENOTDIR') throw parentIsObject();
        if (e.code === 'EISDIR') throw objectExistsAsDirectory();
        throw e;
      }
    }
    if (this.opts.fsync) await fsyncDir(dirname(dest));
    return toObjectMeta(stored, st);
  }

  private async commitDirObject(dest: string, meta: NewObjectMeta, conditions?: WriteConditions): Promise<ObjectMeta> {
    const existing = await fs.lstat(dest).catch(() => undefined);
    if (existing && !existing.isDirectory()) throw parentIsObject();
    if (conditions?.ifNoneMatchStar && existing && await this.isDirObject(dest)) throw new S3Error('PreconditionFailed');
    await fs.mkdir(dest, { recursive: true }).catch((e) => { throw e.code === 'ENOTDIR' || e.code === 'EEXIST' ? parentIsObject() : e; });
    const st = await fs.stat(dest);
    const stored: StoredMeta = { ...meta, v: 1, size: 0, mtimeMs: st.mtimeMs, dirObject: true };
    await this.meta.write(dest, JSON.stringify(stored));
    return toObjectMeta(stored, st);
  }

  private async prepareParents(bucket: string, dest: string): Promise<void> {
    const parent = dirname(dest);
    if (parent === this.bucketDir(bucket)) return;
    try {
      await fs.mkdir(parent, { recursive: true });
    } catch (e: any) {
      if (e.code === 'ENOTDIR' || e.code === 'EEXIST') throw parentIsObject();
      throw e;
    }
  }

  private async checkConditions(bucket: string, key: string, c?: WriteConditions): Promise<void> {
    if (!c?.ifMatch) return;
    const current = await this.headObject(bucket, key).catch((e) => { if (e instanceof S3Error && e.code === 'NoSuchKey') return undefined; throw e; });
    if (!current) throw new S3Error('NoSuchKey');
    if (!etagMatches(c.ifMatch, current.etag)) throw new S3Error('PreconditionFailed');
  }

  async headObject(bucket: string, key: string): Promise<ObjectMeta> {
    const path = this.objectPath(bucket, key);
    const st = await fs.lstat(path).catch(() => undefined);
    if (!st) return this.missing(bucket);
    return this.metaFor(path, st, key);
  }

  /** Throws NoSuchKey, or NoSuchBucket when the bucket itself is missing. */
  private async missing(bucket: string): Promise<never> {
    await this.headBucket(bucket);
    throw new S3Error('NoSuchKey');
  }

  private async metaFor(path: string, st: Stats, key: string): Promise<ObjectMeta> {
    if (isDirectoryKey(key)) {
      if (!st.isDirectory()) throw new S3Error('NoSuchKey');
      const stored = await this.readStored(path);
      if (!stored?.dirObject) throw new S3Error('NoSuchKey');
      return toObjectMeta(stored, st);
    }
    if (!st.isFile()) throw new S3Error('NoSuchKey');
    const stored = await this.readStored(path);
    // a file rewritten through POSIX after s3gate wrote it: its stored ETag is stale
    if (stored && stored.size === st.size && Math.abs(stored.mtimeMs - st.mtimeMs) < 1) return toObjectMeta(stored, st);
    return foreignMeta(key, st, stored);
  }

  private async readStored(path: string): Promise<StoredMeta | undefined> {
    const json = await this.meta.read(path);
    if (!json) return undefined;
    try {
      const m = JSON.parse(json);
      return m?.v === 1 ? (m as StoredMeta) : undefined;
    } catch {
      return undefined;
    }
  }

  private async isDirObject(path: string): Promise<boolean> {
    return (await this.readStored(path))?.dirObject === true;
  }

  async getObject(bucket: string, key: string, rangeChoice?: ByteRangeChoice): Promise<{ meta: ObjectMeta; body: Readable | Buffer }> {
    const path = this.objectPath(bucket, key);
    const choose = (meta: ObjectMeta) => (typeof rangeChoice === 'function' ? rangeChoice(meta) : rangeChoice);
    if (isDirectoryKey(key)) {
      const meta = await this.headObject(bucket, key);
      choose(meta);
      return { meta, body: Buffer.alloc(0) };
    }
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (e: any) {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'ELOOP' || e.code === 'EISDIR') return this.missing(bucket);
      throw e;
    }
    try {
      const st = await fh.stat();
      const meta = await this.metaFor(path, st, key);
      const range = choose(meta);
      const start = range?.start ?? 0;
      const length = st.size === 0 ? 0 : (range ? range.end : st.size - 1) - start + 1;
      if (length <= SMALL_READ) {
        // small objects: one read into one buffer, sent with a single write
        const buf = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(buf, got, length - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        await fh.close();
        if (got < length) throw new S3Error('InternalError', 'The object was truncated while it was being read; retry.', { status: 503 });
        return { meta, body: buf };
      }
      const body = fh.createReadStream({ start, end: start + length - 1, highWaterMark: 1 << 20 });
      return { meta, body };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const path = this.objectPath(bucket, key);
    const st = await fs.lstat(path).catch(() => undefined);
    if (!st) { await this.headBucket(bucket); return; } // S3: deleting a missing key succeeds
    if (isDirectoryKey(key)) {
      if (!st.isDirectory()) return;
      await this.meta.remove(path);
      await fs.rmdir(path).catch(() => undefined); // stays while it has children
    } else {
      if (st.isDirectory()) return; // an implicit prefix is not an object
      await this.meta.remove(path); // first: a spilled metadata file is found through the attribute
      await fs.unlink(path);
    }
    await this.removeEmptyParents(bucket, dirname(path));
  }

  /** Removes now-empty parents up to the bucket, stopping at directory objects. */
  private async removeEmptyParents(bucket: string, dir: string): Promise<void> {
    const root = this.bucketDir(bucket);
    while (dir.length > root.length && dir.startsWith(root + '/')) {
      if (await this.isDirObject(dir)) return;
      try { await fs.rmdir(dir); } catch { return; }
      dir = dirname(dir);
    }
  }

  async copyObject(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, meta: (srcMeta: ObjectMeta) => NewObjectMeta, conditions?: WriteConditions): Promise<ObjectMeta> {
    const srcMeta = await this.headObject(src.bucket, src.key);
    await this.headBucket(dst.bucket);
    const tmp = this.newTempPath();
    try {
      if (!isDirectoryKey(src.key)) {
        // copyFile may clone or use copy_file_range: no bytes through userland
        await fs.copyFile(this.objectPath(src.bucket, src.key), tmp);
        if (this.opts.fsync) { const fh = await fs.open(tmp, 'r+'); await fh.datasync(); await fh.close(); }
      } else {
        await fs.writeFile(tmp, '');
      }
      return await this.commit(tmp, dst.bucket, dst.key, meta(srcMeta), conditions);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async updateObjectMeta(bucket: string, key: string, update: (meta: ObjectMeta) => NewObjectMeta): Promise<ObjectMeta> {
    const path = this.objectPath(bucket, key);
    const current = await this.headObject(bucket, key);
    const st = await fs.stat(path);
    const stored: StoredMeta = { ...update(current), v: 1, size: st.size, mtimeMs: st.mtimeMs, ...(isDirectoryKey(key) ? { dirObject: true } : {}) };
    await this.meta.write(path, JSON.stringify(stored));
    return toObjectMeta(stored, st);
  }

  async listObjects(bucket: string, o: ListOptions): Promise<ListResult> {
    await this.headBucket(bucket);
    const result: ListResult = { objects: [], commonPrefixes: [], truncated: false };
    if (o.maxKeys <= 0) return result;
    const items = walk(this.bucketDir(bucket), { prefix: o.prefix, after: o.after, rollUpDirectories: o.delimiter === '/', isDirObject: (p) => this.isDirObject(p) });
    let lastPrefix: string | undefined;
    let count = 0;
    for await (const item of items) {
      let prefix: string | undefined;
      if (item.kind === 'prefix') prefix = item.key;
      else if (o.delimiter) {
        const i = item.key.indexOf(o.delimiter, o.prefix.length);
        if (i >= 0) prefix = item.key.slice(0, i + o.delimiter.length);
      }
      if (prefix !== undefined && (prefix === lastPrefix || prefix <= o.after)) continue;
      if (count === o.maxKeys) { result.truncated = true; break; }
      if (prefix !== undefined) {
        result.commonPrefixes.push(prefix);
        lastPrefix = prefix;
        result.nextAfter = prefix;
      } else if (item.kind !== 'prefix') {
        const st = await fs.lstat(item.path).catch(() => undefined);
        if (!st) continue; // deleted while listing
        const meta = await this.metaFor(item.path, st, item.key).catch(() => undefined);
        if (!meta) continue;
        result.objects.push({ key: item.key, meta });
        result.nextAfter = item.key;
      }
      count++;
    }
    await items.return(undefined);
    return result;
  }

  // ---- per-bucket configuration documents

  async getBucketConfig(bucket: string, name: string): Promise<Buffer | undefined> {
    try { return await fs.readFile(this.configPath(bucket, name)); } catch (e: any) { if (e.code === 'ENOENT') return undefined; throw e; }
  }
  async putBucketConfig(bucket: string, name: string, data: Buffer): Promise<void> {
    await this.headBucket(bucket);
    const path = this.configPath(bucket, name);
    await fs.mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path);
  }
  async deleteBucketConfig(bucket: string, name: string): Promise<void> {
    await fs.rm(this.configPath(bucket, name), { force: true });
  }

  /** Absolute path of an object's file (the multipart code and GetObject fast paths use it). */
  pathOf(bucket: string, key: string): string { return this.objectPath(bucket, key); }
}

function createdTime(st: Stats): Date {
  return st.birthtimeMs > 0 ? st.birthtime : st.mtime;
}

function toObjectMeta(s: StoredMeta, st: Stats): ObjectMeta {
  const { v: _v, size: _s, mtimeMs: _m, dirObject: _d, ...meta } = s;
  return { ...meta, userMeta: meta.userMeta ?? {}, tags: meta.tags ?? {}, size: st.isDirectory() ? 0 : st.size, lastModified: new Date(Math.floor(s.mtimeMs)) };
}

/** Files written by POSIX users: a stable ETag from size and mtime, a type from the extension. */
function foreignMeta(key: string, st: Stats, stale?: StoredMeta): ObjectMeta {
  const etag = createHash('md5').update(`${st.size}:${st.mtimeMs}:${st.ino}`).digest('hex');
  return {
    etag,
    size: st.size,
    lastModified: st.mtime,
    contentType: stale?.contentType ?? guessContentType(key),
    userMeta: {},
    tags: stale?.tags ?? {},
    foreign: true,
  };
}

export function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').some((c) => {
    const t = c.trim().replace(/^W\//, '');
    return t === '*' || t.replace(/^"|"$/g, '') === etag;
  });
}

/**
 * Temp files are garbage once their instance is gone: this instance's own from before
 * a crash, and those of ephemeral-port instances of this host whose process ended.
 */
async function removeEndedTemp(root: string, own: string): Promise<void> {
  const ids = await fs.readdir(root).catch(() => [] as string[]);
  for (const id of ids) {
    if (id === own || endedLocalInstance(id)) await fs.rm(join(root, id), { recursive: true, force: true });
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try { await fh.sync(); } catch { /* some file systems refuse fsync on directories */ } finally { await fh.close(); }
}
