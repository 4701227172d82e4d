/**
 * Builds the Services of one process: the pieces each module contributes (IAM,
 * authorizer, events, admin/STS/IAM routes) are constructed and connected here.
 */
import type { PosixBackend } from '../storage/posix/backend.js';
import type { Credential, CredentialLookup } from '../auth/principal.js';
import { rootOnlyAuthorizer } from './authorizer.js';
import { noEvents } from '../events/publisher.js';
import type { ServerOptions } from './options.js';
import type { RootCredentials } from './root-credentials.js';
import type { Services } from './services.js';

export interface WiringInput {
  opts: ServerOptions;
  dataDir: string;
  backend: PosixBackend;
  root: RootCredentials;
  instanceId: string;
  /** This process owns background work (event delivery, refresh loops). */
  primary: boolean;
  /** False for a cluster primary that only supervises workers. */
  servesRequests?: boolean;
}

export interface Wiring {
  services: Services;
  targetArns(): string[];
  close(): Promise<void>;
}

function rootOnlyCredentials(root: RootCredentials): CredentialLookup {
  const cred: Credential = { accessKey: root.user, secretKey: root.password, principal: { kind: 'root', accessKey: root.user, username: root.user, userId: root.user } };
  return { lookup: (ak) => (ak === root.user ? cred : undefined) };
}

export async function wireServices(input: WiringInput): Promise<Wiring> {
  const { opts, dataDir, backend, root, instanceId } = input;
  const services: Services = {
    settings: { dataDir, sysDir: backend.sysDir, region: opts.region, domains: opts.domains, instanceId, rootUser: root.user },
    backend,
    credentials: rootOnlyCredentials(root),
    authorizer: rootOnlyAuthorizer,
    events: noEvents,
    controlRoutes: [],
  };
  return { services, targetArns: () => [], close: async () => {} };
}
