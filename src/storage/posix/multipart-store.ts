/**
 * Multipart staging on the POSIX tree, under `<sysDir>/multipart/` (same file system as
 * the data, so the assembled object is renamed into place atomically):
 *
 *   multipart/<bucket>/<uploadId>/upload.json        the upload (key, metadata, checksum choice)
 *   multipart/<bucket>/<uploadId>/<n>.json           part n's record (md5, size, checksum, data file)
 *   multipart/<bucket>/<uploadId>/<n>.<rand>.part    part n's bytes
 *
 * A part's bytes stream into a file with a fresh name; the part becomes visible when its
 * record is renamed onto `<n>.json`, so a re-uploaded part replaces the earlier one
 * atomically and a failed or unverified upload never replaces anything. The replaced
 * data file is removed afterwards. Upload ids are 12 hex digits of creation time (so
 * they sort by initiation) and 128 random bits; the format is checked before any path
 * is built. Nothing is kept in memory: every instance and worker sees the same state.
 *
 * Completing assembles the parts in order into a temp file (streamed, 1 MiB chunks)
 * and commits it with PosixBackend.commit(); the staging directory is then removed.
 */
import { promises as fs, createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Error } from '../../server/errors.js';
import type { ChecksumAlgorithm, NewObjectMeta } from '../backend.js';
import { bucketNameError } from '../keys.js';
import type { PosixBackend } from './backend.js';

export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface UploadDoc {
  v: 1;
  uploadId: string;
  bucket: string;
  key: string;
  /** ISO time. */
  initiated: string;
  /** What the object will carry (standard headers, user metadata, tags, storage class). */
  meta: Omit<NewObjectMeta, 'etag'>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  initiator: { id: string; displayName: string };
}

export interface PartRecord {
  v: 1;
  number: number;
  size: number;
  /** md5 hex, no quotes. */
  etag: string;
  /** base64 checksum of the part, with the algorithm it was computed with. */
  checksum?: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  /** ISO time. */
  lastModified: string;
  /** Data file name inside the upload directory. */
  file: string;
}

const UPLOAD_ID = /^[0-9a-f]{44}$/;
const RECORD = /^(\d{1,5})\.json$/;

const noSuchUpload = (uploadId: string) => new S3Error('NoSuchUpload', undefined, { extra: { UploadId: uploadId } });

export function newUploadId(now = Date.now()): string {
  return now.toString(16).padStart(12, '0') + randomBytes(16).toString('hex');
}

export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}

export class MultipartStore {
  readonly root: string;

  constructor(private readonly backend: PosixBackend) {
    this.root = join(backend.sysDir, 'multipart');
  }

  private uploadDir(bucket: string, uploadId: string): string {
    // both parts are validated: no path can leave the staging root
    if (bucketNameError(bucket) || !isUploadId(uploadId)) throw noSuchUpload(uploadId);
    return join(this.root, bucket, uploadId);
  }

  async create(doc: Omit<UploadDoc, 'v' | 'uploadId' | 'initiated'>): Promise<UploadDoc> {
    const now = new Date();
    const full: UploadDoc = { v: 1, uploadId: newUploadId(now.getTime()), initiated: now.toISOString(), ...doc };
    const dir = this.uploadDir(doc.bucket, full.uploadId);
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.mkdir(dir, { recursive: true });
        await writeJsonAtomic(join(dir, 'upload.json'), full);
        return full;
      } catch (e: any) {
        // remove() of another upload dropped the (empty) bucket directory in between
        if (e?.code !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
  }

  /** The upload, checked against the request's bucket and key (S3: NoSuchUpload otherwise). */
  async get(bucket: string, key: string, uploadId: string): Promise<UploadDoc> {
    const doc = await this.read(bucket, uploadId);
    if (!doc || doc.key !== key || doc.bucket !== bucket) {
      if (!doc) await this.backend.headBucket(bucket); // NoSuchBucket wins over NoSuchUpload
      throw noSuchUpload(uploadId);
    }
    return doc;
  }

  private async read(bucket: string, uploadId: string): Promise<UploadDoc | undefined> {
    const text = await readIfExists(join(this.uploadDir(bucket, uploadId), 'upload.json'));
    return text ? (JSON.parse(text) as UploadDoc) : undefined;
  }

  /**
   * Streams a part into the upload. `finalize` runs after the last byte was written (it
   * verifies digests; throwing there discards the bytes) and returns the record fields.
   */
  async putPart(bucket: string, uploadId: string, number: number, body: Readable,
    finalize: (size: number) => Omit<PartRecord, 'v' | 'number' | 'file' | 'lastModified' | 'size'>): Promise<PartRecord> {
    const dir = this.uploadDir(bucket, uploadId);
    const file = `${number}.${randomBytes(8).toString('hex')}.part`;
    const path = join(dir, file);
    try {
      let size: number;
      try {
        size = await this.backend.writeTemp(path, body);
      } catch (e: any) {
        if (e?.code === 'ENOENT') throw noSuchUpload(uploadId);
        throw e;
      }
      const record: PartRecord = { v: 1, number, size, ...finalize(size), lastModified: new Date().toISOString(), file };
      const previous = await this.readPart(bucket, uploadId, number);
      try {
        await writeJsonAtomic(join(dir, `${number}.json`), record);
      } catch (e: any) {
        if (e?.code === 'ENOENT') throw noSuchUpload(uploadId); // completed or aborted meanwhile
        throw e;
      }
      if (previous && previous.file !== file) await fs.rm(join(dir, previous.file), { force: true });
      return record;
    } catch (e) {
      await fs.rm(path, { force: true });
      throw e;
    }
  }

  async readPart(bucket: string, uploadId: string, number: number): Promise<PartRecord | undefined> {
    const text = await readIfExists(join(this.uploadDir(bucket, uploadId), `${number}.json`));
    return text ? (JSON.parse(text) as PartRecord) : undefined;
  }

  /** Part numbers present, ascending. */
  async partNumbers(bucket: string, uploadId: string): Promise<number[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.uploadDir(bucket, uploadId));
    } catch (e: any) {
      if (e.code === 'ENOENT') throw noSuchUpload(uploadId);
      throw e;
    }
    const out: number[] = [];
    for (const n of names) {
      const m = RECORD.exec(n);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** Every upload of a bucket, sorted by key then upload id (= initiation order). */
  async listUploads(bucket: string): Promise<UploadDoc[]> {
    if (bucketNameError(bucket)) return [];
    let ids: string[];
    try {
      ids = await fs.readdir(join(this.root, bucket));
    } catch (e: any) {
      if (e.code === 'ENOENT') return [];
      throw e;
    }
    const docs: UploadDoc[] = [];
    for (const id of ids) {
      if (!isUploadId(id)) continue;
      const doc = await this.read(bucket, id).catch(() => undefined); // completed while listing
      if (doc) docs.push(doc);
    }
    return docs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0));
  }

  /**
   * Concatenates the parts, in the order given, into a new temp file; returns its path.
   * The caller commits it (or removes it). A part that disappeared is InvalidPart.
   */
  async assemble(bucket: string, uploadId: string, parts: PartRecord[]): Promise<string> {
    const dir = this.uploadDir(bucket, uploadId);
    const tmp = this.backend.newTempPath();
    async function* bytes() {
      for (const p of parts) {
        const rs = createReadStream(join(dir, p.file), { highWaterMark: 1 << 20 });
        try {
          for await (const chunk of rs) yield chunk as Buffer;
        } catch (e: any) {
          if (e?.code === 'ENOENT') throw new S3Error('InvalidPart', `Part ${p.number} was replaced or removed while completing.`);
          throw e;
        }
      }
    }
    try {
      const size = await this.backend.writeTemp(tmp, Readable.from(bytes(), { objectMode: false, highWaterMark: 1 << 20 }));
      const expected = parts.reduce((n, p) => n + p.size, 0);
      if (size !== expected) throw new S3Error('InvalidPart', 'A part changed while completing the upload.');
      return tmp;
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  /** Removes an upload and its parts. */
  async remove(bucket: string, uploadId: string): Promise<void> {
    const dir = this.uploadDir(bucket, uploadId);
    // a part upload racing the removal may add a file: rm retries ENOTEMPTY
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    await fs.rmdir(join(this.root, bucket)).catch(() => undefined); // only when it became empty
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(value), { flag: 'wx' });
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

const stores = new WeakMap<PosixBackend, MultipartStore>();

/** One store per backend (it holds no state besides paths). */
export function multipartStoreOf(backend: PosixBackend): MultipartStore {
  let s = stores.get(backend);
  if (!s) stores.set(backend, (s = new MultipartStore(backend)));
  return s;
}
