import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createWebhookTarget, validateWebhookOptions, WEBHOOK_OPTIONS } from '../../../src/events/targets/webhook.js';
import { PartialDelivery } from '../../../src/events/target.js';
import { closedPort } from '../../helpers/services.js';
import { lifecycle, rejectsWithin } from './fixtures.js';

interface Received { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; clientCN?: string }

/** A receiver that records requests and answers with `status()`. */
function receiver(server: http.Server | https.Server, status: () => number, delayMs = 0) {
  const got: Received[] = [];
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      const sock = req.socket as TLSSocket;
      const cn = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate()?.subject?.CN : undefined;
      got.push({ method: req.method!, url: req.url!, headers: req.headers, body, clientCN: cn as string | undefined });
      setTimeout(() => { res.statusCode = status(); res.end('ok'); }, delayMs);
    });
  });
  return new Promise<{ got: Received[]; port: number; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      got,
      port: (server.address() as AddressInfo).port,
      close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
    }));
  });
}

describe('webhook target (HTTP receiver in the test)', () => {
  it('POSTs {EventName, Key, Records:[record]} with the Bearer token; 2xx is success', async () => {
    const rx = await receiver(http.createServer(), () => 204);
    const target = createWebhookTarget('1', { endpoint: `http://127.0.0.1:${rx.port}/minio/events`, auth_token: 'tok123', queue_dir: '', queue_limit: '0' });
    try {
      await target.init();
      assert.equal(await target.isOnline(), true);
      const ev = lifecycle('images', 'photos/my photo.jpg');
      for (const e of [ev.created, ev.accessed, ev.removed]) await target.send(e);
      assert.equal(rx.got.length, 3);
      for (const [i, e] of [ev.created, ev.accessed, ev.removed].entries()) {
        const r = rx.got[i];
        assert.equal(r.method, 'POST');
        assert.equal(r.url, '/minio/events');
        assert.equal(r.headers.authorization, 'Bearer tok123');
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.body, JSON.stringify({ EventName: e.eventName, Key: 'images/photos/my photo.jpg', Records: [e.record] }));
      }
    } finally {
      await target.close();
      await rx.close();
    }
  });

  it('sends a token that has its own scheme as it is, and no header without a token', async () => {
    const rx = await receiver(http.createServer(), () => 200);
    const withScheme = createWebhookTarget('a', { endpoint: `http://127.0.0.1:${rx.port}/`, auth_token: 'Basic dXNlcjpwYXNz' });
    const without = createWebhookTarget('b', { endpoint: `http://127.0.0.1:${rx.port}/` });
    try {
      await withScheme.send(lifecycle('b', 'k').created);
      await without.send(lifecycle('b', 'k').created);
      assert.equal(rx.got[0].headers.authorization, 'Basic dXNlcjpwYXNz');
      assert.equal(rx.got[1].headers.authorization, undefined);
    } finally {
      await withScheme.close();
      await without.close();
      await rx.close();
    }
  });

  it('rejects on a non-2xx answer, so the event stays queued', async () => {
    let code = 503;
    const rx = await receiver(http.createServer(), () => code);
    const target = createWebhookTarget('1', { endpoint: `http://127.0.0.1:${rx.port}/` });
    try {
      await assert.rejects(target.send(lifecycle('b', 'k').created), /answered 503/);
      code = 200;
      await target.send(lifecycle('b', 'k').created);
      assert.equal(rx.got.length, 2);
    } finally {
      await target.close();
      await rx.close();
    }
  });

  it('reuses one keep-alive connection for consecutive events, in order', async () => {
    const server = http.createServer();
    let connections = 0;
    server.on('connection', () => { connections++; });
    const rx = await receiver(server, () => 200);
    const target = createWebhookTarget('ka', { endpoint: `http://127.0.0.1:${rx.port}/`, timeout: '300ms' });
    try {
      const events = Array.from({ length: 20 }, (_, i) => lifecycle('b', `k${i}`).created);
      for (const e of events) await target.send(e);
      assert.deepEqual(rx.got.map((r) => JSON.parse(r.body).Key), events.map((e) => e.key));
      assert.equal(connections, 1, 'no new TCP connection per event');
      // The per-request timer is cleared on success: a finished send never times out later.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(connections, 1);
    } finally {
      await target.close();
      await rx.close();
    }
  });

  it('pipelines a batch on the one connection: every POST is on the wire before the first answer, answers in order', async () => {
    const server = http.createServer();
    let connections = 0;
    server.on('connection', () => { connections++; });
    // Holds every answer until all 10 requests have arrived: only a pipelining client finishes.
    const held: Array<() => void> = [];
    const bodies: string[] = [];
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        bodies.push(body);
        held.push(() => res.end());
        if (held.length === 10) for (const answer of held) answer();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const target = createWebhookTarget('pipe', { endpoint: `http://127.0.0.1:${port}/`, timeout: '3s' });
    try {
      const events = Array.from({ length: 10 }, (_, i) => lifecycle('b', `k${i}`).created);
      await target.sendBatch!(events);
      assert.deepEqual(bodies.map((b) => JSON.parse(b).Key), events.map((e) => e.key));
      assert.equal(connections, 1);
    } finally {
      await target.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('a batch whose 4th POST is refused rejects with PartialDelivery(3), so only the rest is sent again', async () => {
    let n = 0;
    const rx = await receiver(http.createServer(), () => (++n === 4 ? 503 : 200));
    const target = createWebhookTarget('partial', { endpoint: `http://127.0.0.1:${rx.port}/` });
    try {
      const events = Array.from({ length: 8 }, (_, i) => lifecycle('b', `k${i}`).created);
      const err = await target.sendBatch!(events).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof PartialDelivery, String(err));
      assert.equal(err.delivered, 3);
      assert.match(err.message, /webhook target partial: .* answered 503/);
    } finally {
      await target.close();
      await rx.close();
    }
  });

  it('rejects within the timeout when the receiver does not answer', async () => {
    const rx = await receiver(http.createServer(), () => 200, 5000);
    const target = createWebhookTarget('slow', { endpoint: `http://127.0.0.1:${rx.port}/`, timeout: '300ms' });
    try {
      const err = await rejectsWithin(target.send(lifecycle('b', 'k').created), 2000);
      assert.match(err.message, /within 300 ms/);
    } finally {
      await target.close();
      await rx.close();
    }
  });

  it('rejects send() and init() against a closed port; isOnline is false', async () => {
    const port = await closedPort();
    const target = createWebhookTarget('down', { endpoint: `http://127.0.0.1:${port}/`, auth_token: 'topsecret' });
    const err = await rejectsWithin(target.send(lifecycle('b', 'k').created), 12000);
    assert.doesNotMatch(err.message, /topsecret/);
    await rejectsWithin(target.init(), 12000);
    assert.equal(await target.isOnline(), false);
    await target.close();
  });

  describe('mTLS with certificates made by openssl', () => {
    let dir: string;
    const file = (n: string) => join(dir, n);

    before(() => {
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
      } catch {
        throw new Error("the mTLS webhook test needs the openssl CLI: install the Debian package 'openssl'");
      }
      dir = mkdtempSync(join(tmpdir(), 's3gate-webhook-tls-'));
      const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=s3gate test CA');
      for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']]) {
        writeFileSync(file(`${name}.ext`), ext);
        ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}-cn`);
        ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
      }
    });
    after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

    it('presents client_cert/client_key to an https receiver that requires a client certificate', async () => {
      const server = https.createServer({
        key: readFileSync(file('server.key')), cert: readFileSync(file('server.crt')),
        ca: readFileSync(file('ca.crt')), requestCert: true, rejectUnauthorized: true,
      });
      const rx = await receiver(server, () => 200);
      const endpoint = `https://127.0.0.1:${rx.port}/events`;
      const target = createWebhookTarget('tls', { endpoint, client_cert: file('client.crt'), client_key: file('client.key'), cert_authority: file('ca.crt'), auth_token: 't' });
      const noCert = createWebhookTarget('nocert', { endpoint, cert_authority: file('ca.crt') });
      const untrusted = createWebhookTarget('untrusted', { endpoint, client_cert: file('client.crt'), client_key: file('client.key') });
      try {
        const ev = lifecycle('images', 'a.jpg');
        await target.send(ev.created);
        assert.equal(rx.got.length, 1);
        assert.equal(rx.got[0].clientCN, 'client-cn');
        assert.equal(rx.got[0].body, JSON.stringify({ EventName: 's3:ObjectCreated:Put', Key: 'images/a.jpg', Records: [ev.created.record] }));
        await rejectsWithin(noCert.send(ev.created), 12000);
        await assert.rejects(untrusted.send(ev.created), /certificate/i);
        assert.equal(rx.got.length, 1, 'nothing arrives without a valid client certificate / trusted server');
      } finally {
        await target.close();
        await noCert.close();
        await untrusted.close();
        await rx.close();
      }
    });
  });

  it('validates options naming the key', () => {
    assert.throws(() => validateWebhookOptions('1', {}), /notify_webhook:1: 'endpoint' is not optional/);
    assert.throws(() => validateWebhookOptions('1', { endpoint: 'ftp://h/' }), /'endpoint' must be an http/);
    assert.throws(() => validateWebhookOptions('1', { endpoint: 'localhost:3000' }), /'endpoint' must be an http/);
    assert.throws(() => validateWebhookOptions('1', { endpoint: 'https://h/', client_cert: '/c.pem' }), /'client_key' must be set together with client_cert/);
    assert.throws(() => validateWebhookOptions('1', { endpoint: 'http://h/', timeout: 'soon' }), /'timeout' must be a duration/);
    assert.throws(() => validateWebhookOptions('1', { endpoint: 'http://h/', queue_dir: 'rel/dir' }), /'queue_dir' must be an absolute path/);
    assert.equal(validateWebhookOptions('1', { endpoint: 'http://h/', timeout: '1m30s' }).timeoutMs, 90000);
    assert.deepEqual(WEBHOOK_OPTIONS.filter((o) => !o.extension).map((o) => `${o.key}=${o.default}`),
      ['endpoint=', 'auth_token=', 'queue_limit=0', 'queue_dir=', 'client_cert=', 'client_key=', 'comment=']);
  });
});
