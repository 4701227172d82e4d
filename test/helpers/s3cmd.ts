/** s3cmd config file for a test server: path-style requests over plain HTTP, 5 MiB multipart chunks. */
import { writeFileSync } from 'node:fs';
import type { TestServer } from './server.js';

export function writeS3cmdConfig(path: string, server: Pick<TestServer, 'port' | 'accessKey' | 'secretKey'>, signatureV2: boolean): void {
  const host = `127.0.0.1:${server.port}`;
  writeFileSync(path, [
    '[default]',
    `access_key = ${server.accessKey}`,
    `secret_key = ${server.secretKey}`,
    `host_base = ${host}`,
    `host_bucket = ${host}`, // no %(bucket)s: path-style requests
    'use_https = False',
    `signature_v2 = ${signatureV2 ? 'True' : 'False'}`,
    'bucket_location = us-east-1',
    'multipart_chunk_size_mb = 5',
    '',
  ].join('\n'));
}
