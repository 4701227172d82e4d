/**
 * The AWS Query protocol on the S3 port: `POST /` form bodies (and `GET /?Action=`) with
 * Version 2011-06-15 go to STS, 2010-05-08 to the IAM Query API. The body is read whole
 * (bounded), its SHA-256 is what the client signed, and errors come back in the
 * protocol's own XML shape rather than S3's.
 */
import type { IncomingMessage } from 'node:http';
import { sha256Hex } from '../auth/sigv4.js';
import { isS3Error } from './errors.js';
import { authenticate } from './authenticate.js';
import { readAll } from './body.js';
import type { ControlRoute } from './services.js';
import type { CredentialLookup } from '../auth/principal.js';
import type { IamService } from '../iam/service.js';
import { handleStsRequest, stsError, STS_VERSION } from '../admin/sts.js';
import { handleIamQueryRequest, iamError } from '../admin/iam-query.js';
import { log } from './log.js';

export const MAX_QUERY_BODY = 256 * 1024;

function isForm(req: IncomingMessage): boolean {
  return String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

export function queryApiRoute(deps: { iam: IamService; credentials: CredentialLookup; region: string }): ControlRoute {
  return {
    matches: (req, url) => url.pathname === '/' && ((req.method === 'POST' && isForm(req)) || (req.method === 'GET' && url.searchParams.has('Action'))),
    async handle(req, res, url, requestId) {
      let sts = true;
      let reply;
      try {
        const body = req.method === 'POST' ? await readAll(req, MAX_QUERY_BODY) : Buffer.alloc(0);
        const params = new URLSearchParams(url.searchParams);
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
        sts = (params.get('Version') ?? STS_VERSION) === STS_VERSION;
        const { principal } = await authenticate(req, '/', url.searchParams, {
          credentials: deps.credentials, region: deps.region, services: sts ? ['sts'] : ['iam'], payloadHash: sha256Hex(body),
        });
        reply = sts ? await handleStsRequest(params, principal, { iam: deps.iam, requestId }) : await handleIamQueryRequest(params, principal, { iam: deps.iam, requestId });
      } catch (e) {
        if (!isS3Error(e)) log('error', 'query API failed', { requestId, error: String(e) });
        const [status, code, message] = isS3Error(e) ? [e.status, e.code, e.message] : [500, 'InternalFailure', 'We encountered an internal error, please try again.'];
        reply = sts ? stsError(status, code, message, requestId) : iamError(status, code, message, requestId);
      }
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) }).end(reply.body);
    },
  };
}
