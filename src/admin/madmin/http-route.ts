/**
 * The HTTP side of the admin API, as a ControlRoute the server tries before S3 routing:
 * every `/minio/admin/...` path. It enforces the admin signature rules (spec §1.2): SigV4
 * header auth only (no presigned, SigV2 or anonymous calls: 403 AccessDenied), service
 * `s3`, any region in the scope (madmin signs with an empty one), and
 * `X-Amz-Content-Sha256` must be the real SHA-256 of the body (UNSIGNED-PAYLOAD and
 * streaming: 403; a mismatch: 400 XAmzContentSHA256Mismatch), checked before any
 * decryption. Bodies over 262272 bytes are refused before they are read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CredentialLookup } from '../../auth/principal.js';
import { ALGORITHM, sha256Hex } from '../../auth/sigv4.js';
import { authenticate } from '../../server/authenticate.js';
import { readAll } from '../../server/body.js';
import type { ControlRoute } from '../../server/services.js';
import { MAX_ADMIN_BODY, type AdminDeps, type AdminResponse } from './call.js';
import { AdminError, adminErrors } from './errors.js';
import { ADMIN_PREFIX, createAdminHandler, parseAdminPath } from './router.js';

export interface MadminRouteOptions extends AdminDeps {
  credentials: CredentialLookup;
}

function send(res: ServerResponse, reply: AdminResponse, requestId: string): void {
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-length': String(reply.body.length),
    'x-amz-request-id': requestId,
  });
  res.end(reply.body);
}

export function madminRoute(opts: MadminRouteOptions): ControlRoute {
  const handler = createAdminHandler(opts);
  return {
    matches: (_req, url) => url.pathname.startsWith(ADMIN_PREFIX),
    async handle(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) {
      const resource = url.pathname;
      try {
        const parsed = parseAdminPath(decodeURIComponent(url.pathname))!;
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith(`${ALGORITHM} `) || url.searchParams.has('X-Amz-Algorithm') || url.searchParams.has('X-Amz-Credential')) {
          throw adminErrors.accessDenied('Admin requests must be signed with AWS Signature V4 in the Authorization header.');
        }
        const claimed = req.headers['x-amz-content-sha256'];
        if (typeof claimed !== 'string' || !/^[0-9a-f]{64}$/i.test(claimed)) {
          throw adminErrors.accessDenied('Admin requests must carry the SHA-256 of their body in X-Amz-Content-Sha256.');
        }
        const length = Number(req.headers['content-length'] ?? 0);
        if (length > MAX_ADMIN_BODY) throw adminErrors.tooLarge();
        const body = await readAll(req, MAX_ADMIN_BODY);
        const { principal, auth: info } = await authenticate(req, decodeURIComponent(url.pathname), url.searchParams, {
          credentials: opts.credentials, region: opts.region, services: ['s3'], anyRegion: true,
        });
        if (sha256Hex(body) !== claimed.toLowerCase()) {
          throw new AdminError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
        }
        const secretKey = info.credential?.secretKey;
        if (secretKey === undefined) throw adminErrors.accessDenied();
        const reply = await handler.handle({
          method: req.method ?? 'GET',
          version: parsed.version,
          op: parsed.op,
          query: url.searchParams,
          body,
          principal,
          secretKey,
          userAgent: req.headers['user-agent'],
          contentType: req.headers['content-type'],
          host: req.headers.host,
          requestId,
        });
        send(res, reply, requestId);
      } catch (e) {
        send(res, handler.error(e, resource, requestId), requestId);
      }
    },
  };
}
