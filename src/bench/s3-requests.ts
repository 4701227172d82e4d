/**
 * Signed S3 requests for the bench: SigV4 headers from our own signRequest, with
 * UNSIGNED-PAYLOAD (what SDKs send over TLS) so the signature costs microseconds.
 */
import type { BenchRequest } from './load.js';
import { EMPTY_SHA256, signRequest } from '../auth/sigv4.js';

export interface S3Endpoint {
  host: string;
  port: number;
  accessKey: string;
  secretKey: string;
  region: string;
}

function signed(ep: S3Endpoint, method: string, path: string, extra: Record<string, string>, payloadHash: string): Record<string, string> {
  const url = new URL(`http://${ep.host}:${ep.port}${path}`);
  return signRequest({ method, url, headers: extra, accessKey: ep.accessKey, secretKey: ep.secretKey, region: ep.region, service: 's3', payloadHash });
}

export function s3Put(ep: S3Endpoint, path: string, body: Buffer): BenchRequest {
  return { method: 'PUT', path, body, headers: signed(ep, 'PUT', path, { 'content-length': String(body.length) }, 'UNSIGNED-PAYLOAD') };
}

export function s3Get(ep: S3Endpoint, path: string): BenchRequest {
  return { method: 'GET', path, headers: signed(ep, 'GET', path, {}, EMPTY_SHA256) };
}

/** Creates the bucket; an existing one is fine. */
export async function ensureBucket(ep: S3Endpoint, bucket: string): Promise<void> {
  const path = `/${bucket}`;
  const res = await fetch(`http://${ep.host}:${ep.port}${path}`, { method: 'PUT', headers: signed(ep, 'PUT', path, {}, EMPTY_SHA256) });
  const text = await res.text();
  if (!res.ok && !text.includes('BucketAlreadyOwnedByYou')) throw new Error(`cannot create bucket ${bucket}: HTTP ${res.status} ${text}`);
}
