/**
 * PostObject: browser form uploads (`POST /bucket` with multipart/form-data).
 *
 * Flow: read the fields before the file (src/auth/post-form.ts) -> authenticate from the
 * form (SigV4: x-amz-algorithm/-credential/-date/-signature over the base64 policy;
 * SigV2: AWSAccessKeyId + signature; neither: anonymous) -> check the policy document
 * (src/auth/post-policy.ts: expiration, every condition, no unlisted field) -> authorize
 * as PutObject on the final key -> stream the file into the backend, enforcing
 * content-length-range and any checksum while streaming -> answer as S3 does.
 *
 * Decisions:
 * - Object metadata comes from the fields as if they were headers: Content-Type (else
 *   the file part's own type, else binary/octet-stream), Cache-Control,
 *   Content-Disposition, Content-Encoding, Content-Language, Expires, x-amz-meta-*,
 *   x-amz-storage-class, x-amz-checksum-* (verified), Content-MD5 (verified), and
 *   `tagging` as a Tagging XML document (S3's PostObject field).
 * - `${filename}` in the key is the file part's filename without any directory part
 *   (old browsers sent full paths); the policy checks the key after substitution.
 * - A signed form must carry a policy; a form with neither is anonymous and allowed
 *   exactly where a bucket policy lets "*" PutObject. SigV4 forms must be signed for
 *   this server's region and the s3 service.
 * - success_action_redirect (or the legacy `redirect`) -> 303 to that URL with bucket,
 *   key and etag added; otherwise success_action_status 200 (empty), 201 (PostResponse
 *   XML) or 204 (the default, also for any other value). ETag and Location headers are
 *   always set.
 * - Nothing is stored unless every check passed and the whole file arrived; a failure
 *   before the upload completes drains a small remaining body first, so a browser can
 *   read the error instead of seeing a reset connection.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../server/errors.js';
import type { Handler, HandlerResult, RequestContext } from '../server/context.js';
import { toXml } from '../server/xml.js';
import { findCredential } from '../server/authenticate.js';
import { bucketFromHost } from '../server/router.js';
import { ANONYMOUS, type Credential } from '../auth/principal.js';
import { ALGORITHM, parseAmzDate } from '../auth/sigv4.js';
import { parsePostForm, type PostForm } from '../auth/post-form.js';
import { assertObjectKey } from '../storage/keys.js';
import { DigestingTap, checksumHeaderName, parseChecksumHeaders, parseContentMd5 } from './checksums.js';
import { metaFromHeaders } from './object-headers.js';
import { parseTaggingXml } from './tags.js';
import { objectEvent, MAX_PUT_SIZE } from './objects.js';
import { ContentLengthRangeCheck, checkPostPolicy, parsePostAuth, resolvePostKey, verifyPostSignature } from '../auth/post-policy.js';

/** Remaining request bytes we read and discard before answering an error (else: close). */
const DRAIN_LIMIT = 64 * 1024 * 1024;

interface FormAuth {
  credential?: Credential;
  signatureVersion: '' | 'AWS' | 'AWS4-HMAC-SHA256';
  signedAt?: Date;
}

/** Finds and checks the form's signature over the policy (src/auth/post-policy.ts). */
async function authenticateForm(ctx: RequestContext, fields: Record<string, string>): Promise<FormAuth> {
  const auth = parsePostAuth(fields);
  if (auth.kind === 'anonymous') return { signatureVersion: '' };
  if (auth.kind === 'v4') {
    const region = ctx.services.settings.region;
    if (auth.service !== 's3') throw new S3Error('InvalidArgument', `Incorrect service "${auth.service}" in x-amz-credential; expecting "s3".`, { extra: { ArgumentName: 'x-amz-credential' } });
    if (auth.region !== region) throw new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; the region '${auth.region}' is wrong; expecting '${region}'`, { extra: { Region: region } });
  }
  const credential = await findCredential(ctx.services.credentials, auth.accessKey, auth.securityToken);
  verifyPostSignature(auth, credential.secretKey);
  return auth.kind === 'v4'
    ? { credential, signatureVersion: ALGORITHM, signedAt: parseAmzDate(auth.amzDate) }
    : { credential, signatureVersion: 'AWS' };
}

/** The fields as node:http-style headers, for the shared metadata and checksum parsers. */
function fieldsAsHeaders(form: PostForm): IncomingHttpHeaders {
  const h: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(form.fields)) if (k !== 'x-amz-tagging') h[k] = v;
  if (h['content-type'] === undefined && form.fileContentType) h['content-type'] = form.fileContentType;
  return h;
}

/** The file part's filename without any directory part (old browsers sent full paths). */
function baseFilename(form: PostForm): string {
  return form.filename.split(/[/\\]/).pop() ?? '';
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** The object's URL as the client addressed the bucket (path style or virtual host). */
function objectUrl(ctx: RequestContext, bucket: string, key: string): string {
  const host = String(ctx.req.headers.host ?? '');
  const scheme = ctx.secure ? 'https' : 'http';
  return bucketFromHost(host, ctx.services.settings.domains) ? `${scheme}://${host}/${encodeKey(key)}` : `${scheme}://${host}/${bucket}/${encodeKey(key)}`;
}

function successResult(ctx: RequestContext, f: Record<string, string>, bucket: string, key: string, etag: string): HandlerResult {
  const location = objectUrl(ctx, bucket, key);
  const headers: HandlerResult['headers'] = { etag: `"${etag}"`, location };
  const redirect = f.success_action_redirect ?? f.redirect;
  if (redirect) {
    let target: URL | undefined;
    try { target = new URL(redirect); } catch { target = undefined; }
    if (target && (target.protocol === 'http:' || target.protocol === 'https:')) {
      target.searchParams.set('bucket', bucket);
      target.searchParams.set('key', key);
      target.searchParams.set('etag', `"${etag}"`);
      return { status: 303, headers: { ...headers, location: target.href } };
    }
  }
  switch (f.success_action_status) {
    case '200': return { status: 200, headers };
    case '201': return {
      status: 201,
      headers: { ...headers, 'content-type': 'application/xml' },
      body: toXml('PostResponse', { Location: location, Bucket: bucket, Key: key, ETag: `"${etag}"` }, null),
    };
    default: return { status: 204, headers };
  }
}

/** Reads and drops what is left of a small body so the error response reaches the client. */
async function drainRequest(ctx: RequestContext, file: Readable | undefined): Promise<void> {
  const req = ctx.req;
  if (req.complete) return;
  const length = Number(req.headers['content-length'] ?? NaN);
  if (!(length <= DRAIN_LIMIT)) { file?.destroy(); return; }
  file?.destroy(); // the form reader keeps consuming the request and discards it
  await new Promise<void>((ok) => {
    const done = () => { clearTimeout(timer); ok(); };
    const timer = setTimeout(done, 10_000);
    req.once('end', done).once('close', done).once('error', done);
    if (!file) req.resume();
  });
}

export const postObject: Handler = async (ctx) => {
  const bucket = ctx.bucket!;
  const backend = ctx.services.backend;
  let form: PostForm | undefined;
  try {
    await backend.headBucket(bucket);
    form = await parsePostForm(ctx.body().stream, String(ctx.req.headers['content-type'] ?? ''));
    const f = form.fields;
    const auth = await authenticateForm(ctx, f);
    const filename = baseFilename(form);
    const key = resolvePostKey(f, filename);
    assertObjectKey(key);
    // parsePostAuth guarantees a policy on every signed form
    const policy = auth.credential ? checkPostPolicy(f.policy!, f, { bucket, filename }) : undefined;

    const headers = fieldsAsHeaders(form);
    const meta = metaFromHeaders(headers);
    if (f.tagging !== undefined) meta.tags = parseTaggingXml(Buffer.from(f.tagging), 10);
    const md5 = parseContentMd5(f['content-md5']);
    const requested = parseChecksumHeaders(headers);

    const principal = auth.credential?.principal ?? ANONYMOUS;
    await ctx.authorize({
      op: 'PutObject', key, principal, headers: { ...ctx.req.headers, ...headers },
      authType: auth.credential ? 'POST' : 'ANONYMOUS', signatureVersion: auth.signatureVersion,
      signatureAgeMs: auth.signedAt ? Date.now() - auth.signedAt.getTime() : undefined,
      requestObjectTags: meta.tags,
    });

    const range = policy?.contentLengthRange;
    const limit = new ContentLengthRangeCheck({ min: range?.min ?? 0, max: Math.min(range?.max ?? MAX_PUT_SIZE, MAX_PUT_SIZE) });
    const tap = new DigestingTap({ checksum: requested?.algorithm, expect: () => ({ md5, checksum: requested?.value }) });
    pipeline(form.file, limit, tap).catch(() => { /* surfaces through the tap */ });
    const stored = await backend.putObject(bucket, key, tap, () => {
      const r = tap.result;
      return {
        ...meta,
        etag: r.md5.toString('hex'),
        checksum: r.checksum && requested ? { algorithm: r.checksum.algorithm, value: r.checksum.base64, type: 'FULL_OBJECT' } : undefined,
      };
    });
    const result = successResult(ctx, f, bucket, key, stored.etag);
    if (stored.checksum) result.headers![checksumHeaderName(stored.checksum.algorithm)] = stored.checksum.value;
    result.events = [objectEvent('s3:ObjectCreated:Post', bucket, key, stored)];
    return result;
  } catch (e) {
    await drainRequest(ctx, form?.file);
    throw e;
  }
};
