/**
 * A request body on its way to storage, through a DigestingTap: MD5 for the ETag, the
 * flexible checksum (`algorithm`, default: the one the request names), and after the
 * last byte the Content-MD5 and checksum (header or aws-chunked trailer) verified, so a
 * mismatch fails the write before anything is committed.
 */
import type { Readable } from 'node:stream';
import { pipeInto } from '../storage/pipe.js';
import { S3Error } from '../server/errors.js';
import type { RequestContext } from '../server/context.js';
import type { ChecksumAlgorithm } from '../storage/backend.js';
import { DigestingTap, checksumHeaderName, parseChecksumHeaders, parseContentMd5 } from './checksums.js';

export function verifiedBody(ctx: RequestContext, algorithm?: ChecksumAlgorithm): { stream: Readable; tap: DigestingTap } {
  const md5 = parseContentMd5(ctx.req.headers['content-md5'] as string | undefined);
  const requested = parseChecksumHeaders(ctx.req.headers);
  const body = ctx.body();
  const tap = new DigestingTap({
    checksum: algorithm ?? requested?.algorithm,
    expect: () => {
      let checksum = requested?.value;
      if (requested?.inTrailer) {
        checksum = body.trailers()[checksumHeaderName(requested.algorithm)];
        if (checksum === undefined) throw new S3Error('InvalidRequest', `The trailer ${checksumHeaderName(requested.algorithm)} announced in x-amz-trailer was not sent.`);
      }
      return { md5, checksum };
    },
  });
  tapInto(body.stream, tap);
  return { stream: tap, tap };
}

/** pipeInto (not pipe) so an error is held by the tap until its consumer reads it. */
export function tapInto(source: Readable, tap: DigestingTap): void {
  pipeInto(source, tap).catch(() => { /* surfaces through the tap */ });
}
