import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PosixBackend } from '../../src/storage/posix/backend.js';

test('a body that fails at once leaves no file once writeTemp has rejected and the caller removed it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 's3gate-write-temp-'));
  try {
    const backend = await PosixBackend.open({ dataDir, instanceId: 't', fsync: true }, true);
    let leftBehind = 0;
    // The race is with the file's open: it shows on some of the tries, so make many.
    for (let i = 0; i < 100; i++) {
      const path = join(dataDir, `part-${i}`);
      const body = new Readable({ read() { this.destroy(new Error('BadDigest')); } });
      await assert.rejects(backend.writeTemp(path, body), /BadDigest/);
      rmSync(path, { force: true }); // what putObject and putPart do on failure
      await new Promise((r) => setTimeout(r, 2));
      if (existsSync(path)) leftBehind++;
    }
    assert.equal(leftBehind, 0, 'files created after their removal (stale staged parts, temp files)');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
