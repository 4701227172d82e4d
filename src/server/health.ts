/** /minio/health/live and /minio/health/ready (also /cluster), unauthenticated as in MinIO. */
import type { ControlRoute } from './services.js';

export function healthRoute(isReady: () => boolean): ControlRoute {
  return {
    matches: (_req, url) => url.pathname.startsWith('/minio/health/'),
    async handle(req, res, url) {
      const what = url.pathname.slice('/minio/health/'.length);
      if (!['live', 'ready', 'cluster', 'cluster/read'].includes(what)) { res.writeHead(404).end(); return; }
      const ok = what === 'live' || isReady();
      res.writeHead(ok ? 200 : 503, { 'content-length': 0 }).end();
      void req;
    },
  };
}
