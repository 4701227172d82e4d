/**
 * Builds the Services of one process: the pieces each module contributes (IAM,
 * authorizer, events, admin/STS/IAM routes) are constructed and connected here.
 */
import type { PosixBackend } from '../storage/posix/backend.js';
import { noEvents } from '../events/publisher.js';
import { IamService } from '../iam/service.js';
import { createPolicyAuthorizer, type PolicyAuthorizer } from '../iam/authorizer.js';
import { BucketPolicyCache, type CompiledPolicy } from '../policy/index.js';
import type { ServerOptions } from './options.js';
import type { RootCredentials } from './root-credentials.js';
import type { Services } from './services.js';
import { queryApiRoute } from './query-api-route.js';
import { log } from './log.js';

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
  iam: IamService;
  authorizer: PolicyAuthorizer;
  targetArns(): string[];
  close(): Promise<void>;
}

export async function wireServices(input: WiringInput): Promise<Wiring> {
  const { opts, dataDir, backend, root, instanceId } = input;
  const iam = await IamService.open({
    sysDir: backend.sysDir, rootUser: root.user, rootPassword: root.password, refreshIntervalMs: opts.refreshIamIntervalMs,
    log: (level, msg, fields) => log(level, msg, fields),
  });
  const bucketPolicies = new BucketPolicyCache({ backend, refreshIntervalMs: opts.refreshIamIntervalMs, log: (line) => log('error', String(line.msg ?? 'bucket policy'), line) });
  const authorizer = createPolicyAuthorizer({
    identityPolicies: (p) => iam.resolveIdentity<CompiledPolicy>(p),
    bucketPolicy: (b) => bucketPolicies.get(b),
    accountId: iam.accountId,
  });
  const services: Services = {
    settings: { dataDir, sysDir: backend.sysDir, region: opts.region, domains: opts.domains, instanceId, rootUser: root.user },
    backend,
    credentials: iam,
    authorizer,
    events: noEvents,
    controlRoutes: [queryApiRoute({ iam, credentials: iam, region: opts.region })],
  };
  return {
    services, iam, authorizer,
    targetArns: () => [],
    close: async () => { iam.close(); bucketPolicies.close(); },
  };
}
