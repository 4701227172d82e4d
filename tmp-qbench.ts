import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableQueue } from './src/events/queue.js';
import { buildRecords } from './src/events/record.js';
const ctx = { region: '', nodeId: 'a'.repeat(64), endpoint: 'http://127.0.0.1:9000' };
const request = { principal: { accessKey: 'benchadmin' } as any, requestId: '17A2B3C4D5E6F708', region: '', sourceIp: '127.0.0.1', host: '127.0.0.1', port: '9000', userAgent: 'aws-sdk-js/3.0 ua/2.1 os/linux lang/js md/nodejs#20', time: new Date(), contentLength: '0' };
for (const fsync of ['none', 'always'] as const) for (const conc of [1, 16]) {
  const dir = mkdtempSync(join(tmpdir(), 'qb-'));
  const q = await DurableQueue.open({ dir, limit: 1e9, fsync });
  const N = 4000;
  let n = 0;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (n < N) {
      const i = n++;
      const { queued } = buildRecords({ name: 's3:ObjectCreated:Put', bucket: 'bench', key: `obj/${i % 1024}`, size: 4096, etag: 'd41d8cd98f00b204e9800998ecf8427e', contentType: 'application/octet-stream', userMetadata: {} }, { ...request, time: new Date() }, ctx, false);
      const line = JSON.stringify(queued);
      await q.append(queued, line);
      q.ack(i);
    }
  }));
  const c = process.cpuUsage(c0);
  console.log(`fsync ${fsync} conc ${conc}: cpu ${((c.user + c.system) / N).toFixed(0)} us/event (user ${(c.user / N).toFixed(0)}), wall ${((performance.now() - t0) * 1000 / N).toFixed(0)} us/event`);
  await q.close(); rmSync(dir, { recursive: true });
}
