/**
 * Reachability of the real services integration tests talk to. A test that needs one
 * calls requireService() in its setup: when the service is down the test fails with
 * the Debian package to install, never skips silently.
 */
import { tcpReachable } from '../../src/events/targets/tcp-reachable.js';

export interface ServiceInfo {
  name: string;
  host: string;
  port: number;
  debianPackage: string;
  hint?: string;
}

export const SERVICES = {
  redis: { name: 'Redis', host: '127.0.0.1', port: 6379, debianPackage: 'redis-server' },
  mariadb: { name: 'MariaDB/MySQL', host: '127.0.0.1', port: 3306, debianPackage: 'mariadb-server', hint: 'root without password, database "test"' },
  postgresql: { name: 'PostgreSQL', host: '127.0.0.1', port: 5432, debianPackage: 'postgresql', hint: 'trust auth for user postgres, database "test"' },
  rabbitmq: { name: 'RabbitMQ', host: '127.0.0.1', port: 5672, debianPackage: 'rabbitmq-server', hint: 'guest/guest on loopback' },
  mosquitto: { name: 'Mosquitto (MQTT)', host: '127.0.0.1', port: 1883, debianPackage: 'mosquitto', hint: 'anonymous on loopback' },
  nats: { name: 'NATS', host: '127.0.0.1', port: 4222, debianPackage: 'nats-server', hint: 'start it with JetStream enabled: nats-server -js' },
} satisfies Record<string, ServiceInfo>;

export type ServiceName = keyof typeof SERVICES;

/** Throws a message naming the Debian package when the service is not listening. */
export async function requireService(name: ServiceName): Promise<ServiceInfo> {
  const s: ServiceInfo = SERVICES[name];
  if (!(await tcpReachable(s.host, s.port, 2000))) {
    throw new Error(
      `${s.name} is not reachable at ${s.host}:${s.port}; install and start the Debian package '${s.debianPackage}'` +
        ` (apt-get install ${s.debianPackage})${s.hint ? `; expected set-up: ${s.hint}` : ''}`,
    );
  }
  return s;
}

/** A TCP port on loopback that nothing listens on (bound, then released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    import('node:net').then(({ createServer }) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as { port: number }).port;
        srv.close(() => resolve(port));
      });
    }, reject);
  });
}
