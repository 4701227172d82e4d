// Test helper (not a test file): a minimal HTTP front for the STS and IAM Query adapters.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IamService } from '../../src/iam/service.js';
import { handleStsRequest } from '../../src/admin/sts.js';
import { handleIamQueryRequest } from '../../src/admin/iam-query.js';
import { ANONYMOUS } from '../../src/auth/principal.js';

/**
 * A stand-in for the lead's server: routes POST / form bodies by Version and identifies the
 * caller from the Credential in the Authorization header (signatures are NOT verified here;
 * that is the server's job). It lets the real AWS SDK parse our XML.
 */
export async function queryServer(iam: IamService): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const ak = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const token = req.headers['x-amz-security-token'] as string | undefined;
      const cred = ak ? await iam.lookup(ak, token).catch(() => undefined) : undefined;
      const principal = cred?.principal ?? ANONYMOUS;
      const ctx = { iam, requestId: 'REQ' };
      const r = params.get('Version') === '2011-06-15' ? await handleStsRequest(params, principal, ctx) : await handleIamQueryRequest(params, principal, ctx);
      res.writeHead(r.status, { 'content-type': r.contentType });
      res.end(r.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

