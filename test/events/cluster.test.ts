import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { freePort, startReceiver } from './fixtures/receiver.js';

test('workers forward to the primary: one delivery owner, publish order kept across workers', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 's3gate-cluster-'));
  const port = await freePort();
  const receiver = await startReceiver(port);
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/cluster-server.ts'), dataDir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const end = Date.now() + 30000;
  while (receiver.keys.length < 200 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  while (!out.includes('status ') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await receiver.close();
  assert.deepEqual(receiver.keys, Array.from({ length: 200 }, (_, i) => `bkt/k${i}`));
  assert.match(out, /SQS ARNs: arn:minio:sqs::1:webhook/);
  const status = JSON.parse(out.split('status ')[1].split('\n')[0]);
  assert.equal(status[0].arn, 'arn:minio:sqs::1:webhook');
  assert.equal(status[0].queueDir, join(dataDir, '.s3gate.sys', 'queues', 'c-9000', 'journal'));
  // Only the primary printed the ARN line: workers own no targets.
  assert.equal(out.split('SQS ARNs').length - 1, 1);
  await rm(dataDir, { recursive: true });
});
