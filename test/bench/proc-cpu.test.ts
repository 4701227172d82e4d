import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuMsBetween, processCpuMs } from '../../src/bench/proc-cpu.js';

test('a process that exits between two readings does not make the group CPU negative', async () => {
  // A child that burns some CPU, read while it runs and gone at the second reading.
  const child = spawn(process.execPath, ['-e', 'while (true);']);
  const pid = child.pid!;
  const end = Date.now() + 10_000;
  while (processCpuMs(pid) < 100 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const before = new Map([[pid, processCpuMs(pid)], [process.pid, processCpuMs(process.pid, false)]]);
  assert.ok(before.get(pid)! >= 100, 'the child has used CPU');
  child.kill();
  await once(child, 'exit');
  const t = Date.now() + 50;
  while (Date.now() < t); // this process uses some CPU meanwhile
  const after = new Map([[process.pid, processCpuMs(process.pid, false)]]);
  const used = cpuMsBetween(before, after);
  assert.equal(used, after.get(process.pid)! - before.get(process.pid)!);
  assert.ok(used >= 0);
  // A newcomer counts from zero.
  assert.equal(cpuMsBetween(new Map(), new Map([[42, 7]])), 7);
});
