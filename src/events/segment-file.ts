/**
 * The file a durable queue appends lines to: the journal's active segment, or a
 * worker's spool segment.
 *
 * With sync, the file is opened O_DSYNC: a write() returns once the data is as durable
 * as after fdatasync, in one thread-pool round trip instead of two (with 16 writers
 * paced like PUTs: 99-138 against 123-151 us of CPU per event). Lines are written into
 * zeros written ahead of them (see preallocate()), not appended, and readers stop at
 * the first zero byte.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname } from 'node:path';

/** Zeros kept ahead of the last line (see preallocate()). */
const PREALLOCATE_BYTES = 1 << 20;

export class SegmentFile {
  private constructor(
    private readonly fh: FileHandle,
    /** Length of the valid content: where the next line goes. */
    private bytes: number,
    /** Length of the file: zeros from `bytes` on. */
    private allocated: number,
  ) {}

  /** A new, empty segment; with sync, its directory entry is made durable too. */
  static async create(path: string, sync: boolean): Promise<SegmentFile> {
    const fh = await open(path, flags(sync));
    if (sync) await syncDir(dirname(path));
    return new SegmentFile(fh, 0, 0);
  }

  /** An existing segment whose valid content is `bytes` long, in a file of `size` bytes. */
  static async reopen(path: string, sync: boolean, bytes: number, size: number): Promise<SegmentFile> {
    return new SegmentFile(await open(path, flags(sync)), bytes, size);
  }

  /** Writes `data` after the valid content; on failure nothing of it stays. */
  async append(data: Buffer): Promise<void> {
    const at = this.bytes;
    try {
      if (at + data.length > this.allocated) await this.preallocate(at + data.length);
      await this.writeAll(data, at);
    } catch (e) {
      // What the failed write left must not sit between two lines.
      await this.fh.truncate(at).then(() => { this.allocated = at; }, () => {});
      throw e;
    }
    this.bytes += data.length;
  }

  /**
   * Extends the file with zeros to PREALLOCATE_BYTES past `needed`: a durable write
   * into space already allocated and written changes no file size or block map, so it
   * costs the disk and the kernel less than an append (here about 20% less CPU and 30%
   * less latency per O_DSYNC write of 1.5 KB).
   */
  private async preallocate(needed: number): Promise<void> {
    const end = needed + PREALLOCATE_BYTES;
    await this.writeAll(Buffer.alloc(end - this.allocated), this.allocated);
    this.allocated = end;
  }

  private async writeAll(data: Buffer, at: number): Promise<void> {
    for (let off = 0; off < data.length;) off += (await this.fh.write(data, off, data.length - off, at + off)).bytesWritten;
  }

  /** Drops the unused zeros (not synced: zeros at the end are harmless) and closes. */
  async seal(): Promise<void> {
    await this.fh.truncate(this.bytes).catch(() => {});
    await this.fh.close();
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

function flags(sync: boolean): number {
  return constants.O_WRONLY | constants.O_CREAT | (sync ? constants.O_DSYNC : 0);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } catch { /* some file systems refuse fsync on directories */ } finally { await fh.close(); }
}
