/**
 * IamStore's cache against reads that race local writes: a re-read (refresh timer, bus
 * message) that opened a document before a local write replaced it must not put the older
 * state back into memory after the write was acknowledged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IamStore } from '../../src/iam/store.js';
import type { UserRecord } from '../../src/iam/records.js';

const user = (policies: string[]): UserRecord => ({
  version: 1, name: 'tom', status: 'enabled', policies, credentials: [], createdAt: 'x', updatedAt: 'x',
} as unknown as UserRecord);

/** Makes reads of tom's document return what the file held when the read began, once `release` is called. */
function holdReadsOfTom(): { release: () => void; restore: () => void } {
  const original = fsp.readFile;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  (fsp as any).readFile = async (file: any, ...rest: any[]) => {
    const text = await (original as any)(file, ...rest);
    if (String(file).endsWith('/users/tom.json')) await gate;
    return text;
  };
  return { release, restore: () => { (fsp as any).readFile = original; } };
}

for (const how of ['readFresh', 'reloadAll'] as const) {
  test(`a ${how} that read the old document before a local write does not undo the write`, async () => {
    const sysDir = await mkdtemp(join(tmpdir(), 's3gate-store-'));
    const store = new IamStore({ sysDir, refreshIntervalMs: 0, bus: null, log: () => {} });
    try {
      await store.open();
      await store.put('user', 'tom', user([]));
      const hold = holdReadsOfTom();
      let reading: Promise<unknown>;
      try {
        reading = how === 'readFresh' ? store.readFresh('user', 'tom') : store.reloadAll();
        await new Promise((r) => setTimeout(r, 20)); // the read has the old bytes and waits
        await store.put('user', 'tom', user(['readonly']));
        assert.deepEqual(store.users.get('tom')?.policies, ['readonly'], 'the write is visible once acknowledged');
      } finally {
        hold.release();
        hold.restore();
      }
      await reading;
      assert.deepEqual(store.users.get('tom')?.policies, ['readonly'], 'the raced read did not bring the old state back');
    } finally {
      store.close();
      await rm(sysDir, { recursive: true, force: true });
    }
  });
}
