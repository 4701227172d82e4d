/**
 * ListenBucketNotification / ListenNotification, MinIO's streaming API behind `mc watch`
 * (GET /<bucket>?events=...&prefix=&suffix= and GET /?events=...).
 *
 * Response: 200 with text/event-stream, no-cache, X-Accel-Buffering: no; a single space
 * every 500 ms as keep-alive; each matching event as one line `{"Records":[record]}\n`
 * (object key not URL-escaped, as MinIO does on this stream). Runs until the client goes
 * away. A client that does not read is not allowed to grow memory without bound: while
 * more than 4 MiB are waiting in the socket, events for it are dropped (and counted in a
 * log line when it leaves).
 */
import type { ServerResponse } from 'node:http';
import { S3Error } from '../server/errors.js';
import { isValidEventName } from './names.js';
import type { LiveFilter, LiveHub } from './live.js';

const KEEPALIVE_MS = 500;
const MAX_BUFFERED = 4 * 1024 * 1024;

/**
 * Reads the query of a listen request; throws S3Error for unknown events or repeated
 * prefix/suffix. `bucket` undefined for ListenNotification (GET / with events).
 */
export function parseListenRequest(bucket: string | undefined, query: URLSearchParams): LiveFilter {
  const prefixes = query.getAll('prefix');
  const suffixes = query.getAll('suffix');
  if (prefixes.length > 1) throw new S3Error('InvalidArgument', 'Cannot specify more than one prefix rule in a filter.');
  if (suffixes.length > 1) throw new S3Error('InvalidArgument', 'Cannot specify more than one suffix rule in a filter.');
  const events = query.getAll('events');
  for (const e of events) if (!isValidEventName(e)) throw new S3Error('InvalidArgument', 'A specified event is not supported for notifications.');
  return { bucket, prefix: prefixes[0] ?? '', suffix: suffixes[0] ?? '', events };
}

/** Streams matching records to `res` until the client disconnects; resolves then. */
export function listenBucketNotification(hub: LiveHub, filter: LiveFilter, res: ServerResponse): Promise<void> {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  let dropped = 0;
  const remove = hub.add(filter, (record) => {
    if (res.writableLength > MAX_BUFFERED) { dropped++; return; }
    res.write(JSON.stringify({ Records: [record] }) + '\n');
  });
  const timer = setInterval(() => { if (res.writableLength <= MAX_BUFFERED) res.write(' '); }, KEEPALIVE_MS);
  return new Promise((resolve) => {
    const done = () => {
      clearInterval(timer);
      remove();
      if (dropped) console.error(JSON.stringify({ level: 'warn', msg: 'watch client too slow; events dropped for it', bucket: filter.bucket, dropped }));
      resolve();
    };
    res.once('close', done);
  });
}
