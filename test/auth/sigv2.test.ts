import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { isSigV2Request, parseSigV2, verifySigV2 } from '../../src/auth/sigv2.js';
import { S3Error } from '../../src/server/errors.js';

// Examples from AWS's "Signing and Authenticating REST Requests" (Signature Version 2) page.
const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const code = (c: string) => (e: unknown) => e instanceof S3Error && e.code === c;
const sign = (sts: string, secret = SK) => createHmac('sha1', secret).update(sts).digest('base64');

function headerReq(method: string, path: string, query: string, headers: Record<string, string | string[]>, sig: string, vhost: string | undefined, now: string) {
  return parseSigV2(method, path, new URLSearchParams(query), { ...headers, authorization: `AWS ${AK}:${sig}` }, vhost, new Date(now));
}

test('documented example: GET photos/puppy.jpg (virtual host)', () => {
  for (const [bucket, sig] of [['johnsmith', 'bWq2s1WEIj+Ydj0vQ697zp+IXMU='], ['awsexamplebucket1', 'qgk2+6Sv9/oM7G3qLEjTH1a1l1g=']]) {
    const r = headerReq('GET', '/photos/puppy.jpg', '', { date: 'Tue, 27 Mar 2007 19:36:42 +0000' }, sig!, bucket, '2007-03-27T19:40:00Z');
    assert.equal(r.accessKey, AK);
    assert.equal(r.stringToSign, `GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/${bucket}/photos/puppy.jpg`);
    verifySigV2(r, SK);
    assert.throws(() => verifySigV2(r, SK.replace('K7', 'K8')), code('SignatureDoesNotMatch'));
  }
});

test('documented examples: PUT with Content-Type, list, ?acl, DELETE with x-amz-date', () => {
  verifySigV2(headerReq('PUT', '/photos/puppy.jpg', '', { date: 'Tue, 27 Mar 2007 21:15:45 +0000', 'content-type': 'image/jpeg', 'content-length': '94328' },
    'MyyxeRY7whkBe+bq8fHCL/2kKUg=', 'johnsmith', '2007-03-27T21:15:45Z'), SK);
  // Plain query parameters are not part of the resource.
  const list = headerReq('GET', '/', 'prefix=photos&max-keys=50&marker=puppy', { date: 'Tue, 27 Mar 2007 19:42:41 +0000' }, 'htDYFYduRNen8P9ZfE/s9SuKy0U=', 'johnsmith', '2007-03-27T19:42:41Z');
  assert.equal(list.stringToSign, 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/');
  verifySigV2(list, SK);
  const acl = headerReq('GET', '/', 'acl', { date: 'Tue, 27 Mar 2007 19:44:46 +0000' }, 'c2WLPFtWHVgbEmeEG93a4cG37dM=', 'johnsmith', '2007-03-27T19:44:46Z');
  assert.equal(acl.stringToSign, 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl');
  verifySigV2(acl, SK);
  // Path style; the page's example puts the x-amz-date value in the Date slot.
  const del = headerReq('DELETE', '/johnsmith/photos/puppy.jpg', '', { date: 'Tue, 27 Mar 2007 21:20:27 +0000', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000' },
    'lx3byBScXR6KzyMaifNkardMwNk=', undefined, '2007-03-27T21:20:27Z');
  verifySigV2(del, SK);
  // ... and what the text (and s3cmd, boto) do: empty Date, x-amz-date as an amz header.
  assert.equal(del.stringToSign, 'DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg');
  verifySigV2({ ...del, signature: sign(del.stringToSign) }, SK);
});

test('documented example: amz headers (repeated, mixed case), Content-MD5, CNAME bucket', () => {
  const r = headerReq('PUT', '/db-backup.dat.gz', '', {
    date: 'Tue, 27 Mar 2007 21:06:08 +0000',
    'x-amz-acl': 'public-read',
    'content-type': 'application/x-download',
    'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
    'X-Amz-Meta-ReviewedBy': ['joe@johnsmith.net', 'jane@johnsmith.net'],
    'x-amz-meta-filechecksum': '0x02661779',
    'x-amz-meta-checksumalgorithm': ' crc32 ',
  }, 'ilyl83RwaSoYIEdixDQcA4OnAnc=', 'static.johnsmith.net', '2007-03-27T21:06:08Z');
  assert.equal(r.stringToSign, 'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n'
    + 'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n'
    + 'x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz');
  verifySigV2(r, SK);
});

test('documented example: presigned query string', () => {
  const q = new URLSearchParams({ AWSAccessKeyId: AK, Expires: '1175139620', Signature: 'NpgCjnDzrM+WFzoENXmpNDUsSn8=' });
  assert.ok(isSigV2Request({}, q));
  const r = parseSigV2('GET', '/photos/puppy.jpg', q, { host: 'johnsmith.s3.amazonaws.com' }, 'johnsmith', new Date('2007-03-29T03:40:00Z'));
  assert.equal(r.presigned, true);
  assert.equal(r.stringToSign, 'GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg');
  assert.deepEqual(r.expires, new Date(1175139620 * 1000));
  verifySigV2(r, SK);
  // One second after Expires.
  assert.throws(() => parseSigV2('GET', '/photos/puppy.jpg', q, {}, 'johnsmith', new Date(1175139621 * 1000)),
    (e: unknown) => code('AccessDenied')(e) && (e as Error).message === 'Request has expired');
  // Changing the path invalidates the URL.
  assert.throws(() => verifySigV2(parseSigV2('GET', '/photos/kitten.jpg', q, {}, 'johnsmith', new Date('2007-03-29T03:40:00Z')), SK), code('SignatureDoesNotMatch'));
  // Missing a parameter.
  assert.throws(() => parseSigV2('GET', '/x', new URLSearchParams({ AWSAccessKeyId: AK, Signature: 'abc' }), {}, undefined), code('AccessDenied'));
});

test('round trip: sub-resources sorted with decoded values, response overrides, raw path', () => {
  // Signed here by hand: the resource keeps the path as sent (%20, %2B stay encoded),
  // only sub-resources and response-* overrides are appended, sorted, values decoded.
  const now = new Date('2024-05-01T12:00:00Z');
  const date = now.toUTCString();
  const path = '/my-bucket/dir%20one/file%2Bx.txt';
  const query = 'versionId=v1&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&foo=bar&partNumber=2';
  const sts = `GET\n\n\n${date}\n/my-bucket/dir%20one/file%2Bx.txt?partNumber=2&response-content-disposition=attachment; filename="a b.txt"&versionId=v1`;
  const r = parseSigV2('GET', path + '?' + query, new URLSearchParams(query), { date, authorization: `AWS ${AK}:${sign(sts)}` }, undefined, now);
  assert.equal(r.stringToSign, sts);
  verifySigV2(r, SK);

  // Virtual host and path style give the same resource.
  const v = parseSigV2('GET', '/dir%20one/file%2Bx.txt', new URLSearchParams(query), { date, authorization: `AWS ${AK}:${sign(sts)}` }, 'my-bucket', now);
  assert.equal(v.stringToSign, sts);

  // uploads / uploadId sign, and a bucket-level sub-resource with no value has no "=".
  const mp = parseSigV2('POST', '/b/k', new URLSearchParams('uploads='), { date, authorization: `AWS ${AK}:x` }, undefined, now);
  assert.equal(mp.stringToSign, `POST\n\n\n${date}\n/b/k?uploads`);
  const del = parseSigV2('POST', '/b/', new URLSearchParams('delete'), { date, 'content-md5': 'abc', 'content-type': 'application/xml', authorization: `AWS ${AK}:x` }, undefined, now);
  assert.equal(del.stringToSign, `POST\nabc\napplication/xml\n${date}\n/b/?delete`);

  // An access key containing ':' is split at the last colon.
  const odd = parseSigV2('GET', '/', new URLSearchParams(), { date, authorization: `AWS a:b:${sign(`GET\n\n\n${date}\n/`)}` }, undefined, now);
  assert.equal(odd.accessKey, 'a:b');
  verifySigV2(odd, SK);
});

test('header errors: malformed, missing date, clock skew, wrong method', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  const date = now.toUTCString();
  assert.throws(() => parseSigV2('GET', '/', new URLSearchParams(), { date, authorization: 'AWS nocolon' }, undefined, now), code('InvalidArgument'));
  assert.throws(() => parseSigV2('GET', '/', new URLSearchParams(), { authorization: `AWS ${AK}:x` }, undefined, now), code('AccessDenied'));
  assert.throws(() => parseSigV2('GET', '/', new URLSearchParams(), { date: new Date(now.getTime() - 16 * 60000).toUTCString(), authorization: `AWS ${AK}:x` }, undefined, now), code('RequestTimeTooSkewed'));
  const r = parseSigV2('GET', '/b/k', new URLSearchParams(), { date, authorization: `AWS ${AK}:${sign(`GET\n\n\n${date}\n/b/k`)}` }, undefined, now);
  verifySigV2(r, SK);
  const put = parseSigV2('PUT', '/b/k', new URLSearchParams(), { date, authorization: `AWS ${AK}:${sign(`GET\n\n\n${date}\n/b/k`)}` }, undefined, now);
  assert.throws(() => verifySigV2(put, SK), (e: unknown) => code('SignatureDoesNotMatch')(e) && (e as S3Error).extra.StringToSign === `PUT\n\n\n${date}\n/b/k`);
  // Garbage signature of another length.
  assert.throws(() => verifySigV2({ ...r, signature: 'short' }, SK), code('SignatureDoesNotMatch'));
});
