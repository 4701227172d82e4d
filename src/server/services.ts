/**
 * Everything a request may need, built once per process by the server start-up and
 * handed to handlers through the context. Modules plug in here (IAM, events, admin).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CredentialLookup } from '../auth/principal.js';
import type { EventService } from '../events/service.js';
import type { ConfigService } from '../config/service.js';
import type { PosixBackend } from '../storage/posix/backend.js';
import type { Authorizer } from './authorizer.js';

export interface ServerSettings {
  dataDir: string;
  sysDir: string;
  region: string;
  /** Domains for virtual-host style requests. */
  domains: string[];
  instanceId: string;
  rootUser: string;
}

/** A control-plane route on the S3 port (admin API, STS/IAM, health ...). */
export interface ControlRoute {
  /** True if this route takes the request. */
  matches(req: IncomingMessage, url: URL): boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void>;
}

export interface Services {
  settings: ServerSettings;
  backend: PosixBackend;
  credentials: CredentialLookup;
  authorizer: Authorizer;
  events: EventService;
  config: ConfigService;
  /** Tried in order before S3 routing. */
  controlRoutes: ControlRoute[];
}
