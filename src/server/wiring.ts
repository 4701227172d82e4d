/**
 * Builds the Services of one process: the pieces each module contributes (IAM,
 * authorizer, events, admin/STS/IAM routes) are constructed and connected here.
 */
import type { PosixBackend } from '../storage/posix/backend.js';
import { createEventService } from '../events/service.js';
import { notifySubsystems } from '../events/notify-subsystems.js';
import { createConfigService } from '../config/service.js';
import { parseConfigText } from '../admin/config-text.js';
import { IamService } from '../iam/service.js';
import { createPolicyAuthorizer, type PolicyAuthorizer } from '../iam/authorizer.js';
import { BucketPolicyCache, type CompiledPolicy } from '../policy/index.js';
import type { ServerOptions } from './options.js';
import type { RootCredentials } from './root-credentials.js';
import type { Services } from './services.js';
import { queryApiRoute } from './query-api-route.js';
import { metricsRoute, prometheusAuthFromEnv } from './metrics.js';
import { madminRoute } from '../admin/madmin/http-route.js';
import { deploymentId, usageOf, VERSION } from './deployment.js';
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
  const subsystems = await notifySubsystems();
  const config = await createConfigService({
    sysDir: backend.sysDir, subsystems, configFile: opts.configFile,
    // a config file may also be in the mc text format (`notify_redis:1 address=...` lines)
    parseText: (text) => parseConfigText(text, subsystems),
  });
  const events = await createEventService({
    sysDir: backend.sysDir, backend, region: opts.region, instanceId, config,
    // Queued events survive kill -9 in every mode; --no-fsync drops their fsyncs with the objects'.
    fsync: opts.fsync ? opts.eventsSync ?? 'always' : 'none',
    endpoint: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`,
  });
  const services: Services = {
    settings: { dataDir, sysDir: backend.sysDir, region: opts.region, domains: opts.domains, instanceId, rootUser: root.user },
    backend,
    credentials: iam,
    authorizer,
    events,
    config,
    controlRoutes: [
      madminRoute({ iam, config, events, credentials: iam, region: opts.region, deploymentId: await deploymentId(backend.sysDir), startedAt: new Date(), version: VERSION, usage: () => usageOf(backend) }),
      queryApiRoute({ iam, credentials: iam, region: opts.region }),
      metricsRoute({ auth: prometheusAuthFromEnv(process.env), credentials: iam, isAllowed: async (p, action) => (await iam.explain(p, action)).allowed, status: () => events.status() }),
    ],
  };
  return {
    services, iam, authorizer,
    targetArns: () => events.listTargetArns(),
    close: async () => { await events.close(); config.close(); iam.close(); bucketPolicies.close(); },
  };
}
