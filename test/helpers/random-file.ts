/** Big random test files written block by block, and their sha256, for byte-exact round trips. */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';

/** Writes `size` random bytes (8 MiB blocks from the CSPRNG, hashed as written) and returns their sha256 hex. */
export function writeRandomFile(path: string, size: number): string {
  const fd = openSync(path, 'w');
  const block = Buffer.allocUnsafe(8 * 1024 * 1024);
  const hash = createHash('sha256');
  try {
    for (let left = size; left > 0;) {
      const n = Math.min(left, block.length);
      randomFillSync(block, 0, n);
      hash.update(block.subarray(0, n));
      writeSync(fd, block, 0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** sha256 hex of a file, streamed (files here are up to 1 GiB). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c);
  return h.digest('hex');
}
