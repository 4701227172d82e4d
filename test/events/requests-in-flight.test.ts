import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../src/server/start.js';
import { signRequest } from '../../src/auth/sigv4.js';
import { requestsInFlight } from '../../src/server/in-flight.js';
import { until } from './e2e-helpers.js';

const ROOT = { user: 'inflightadmin', password: 'inflightadmin-secret', generated: false };

/** A signed request whose body is sent by the caller (UNSIGNED-PAYLOAD). */
function signed(port: number, method: string, path: string, headers: Record<string, string> = {}): ClientRequest {
  const url = new URL(`http://127.0.0.1:${port}${path}`);
  const h = signRequest({ method, url, headers, accessKey: ROOT.user, secretKey: ROOT.password, region: 'us-east-1', service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
  return request(url, { method, headers: h });
}

function response(req: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => req.once('response', resolve).once('error', reject));
}

async function send(port: number, method: string, path: string, body = ''): Promise<number> {
  const req = signed(port, method, path, { 'content-length': String(body.length) });
  req.end(body);
  const res = await response(req);
  res.resume();
  return res.statusCode!;
}

test('the group commit counts the requests in flight that may publish a change: not GET or HEAD', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 's3gate-inflight-'));
  const running = await serve({ dataDir, host: '127.0.0.1', port: 0, region: 'us-east-1', domains: [], workers: 1, fsync: false, refreshIamIntervalMs: 60_000, shutdownTimeoutMs: 1000 }, true, ROOT);
  const port = (running.server.address() as { port: number }).port;
  try {
    assert.equal(await send(port, 'PUT', '/inflight'), 200);
    assert.equal(await send(port, 'PUT', '/inflight/big', 'x'.repeat(8 << 20)), 200);
    assert.equal(requestsInFlight(), 0);

    // A GET whose response the client does not read stays in flight, uncounted.
    const get = signed(port, 'GET', '/inflight/big');
    get.end();
    const getRes = await response(get);
    getRes.pause();
    // A PUT whose body has not all arrived is counted.
    const put = signed(port, 'PUT', '/inflight/slow', { 'content-length': '100' });
    put.write('x'.repeat(10));
    await until(() => requestsInFlight() === 1, 5000, 'the PUT counted');
    assert.equal(requestsInFlight(), 1, 'the held GET is not counted');

    put.end('x'.repeat(90));
    assert.equal((await response(put)).statusCode, 200);
    await until(() => requestsInFlight() === 0, 5000, 'the PUT no longer counted once answered');
    getRes.destroy();
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
