/**
 * Worker thread body for Argon2id key derivation. hash-wasm runs its WASM fill
 * synchronously (~150 ms at 64 MiB), so it runs here rather than on the event loop
 * that serves S3 requests. Message in: {id, password, salt}; out: {id, key} or {id, error}.
 */
import { parentPort } from 'node:worker_threads';
import { deriveArgon2idInline } from './argon2-derive.js';

parentPort?.on('message', (msg: { id: number; password: Uint8Array; salt: Uint8Array }) => {
  deriveArgon2idInline(msg.password, msg.salt).then(
    (key) => parentPort?.postMessage({ id: msg.id, key }),
    (e: unknown) => parentPort?.postMessage({ id: msg.id, error: String(e) }),
  );
});
