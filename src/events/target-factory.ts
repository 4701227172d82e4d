/**
 * Finds the target implementation for a notify_* subsystem. Each type lives in
 * src/events/targets/<type>.ts and exports `create<Type>Target(id, options)` (any
 * capitalisation: createRedisTarget, createMySQLTarget ...) and its option spec list
 * (an exported array of TargetOptionSpec). Modules are loaded on demand, so a type
 * whose module is missing is reported, not fatal.
 */
import type { EventTarget, TargetType } from './target.js';
import type { TargetOptionSpec } from './targets/options.js';

export type TargetFactory = (id: string, options: Record<string, string>) => EventTarget;

export interface TargetModule {
  type: TargetType;
  create: TargetFactory;
  options: TargetOptionSpec[];
}

/** Subsystem name <-> ARN type (MinIO names the Postgres subsystem notify_postgres). */
export const NOTIFY_TYPES: Array<{ subsys: string; type: TargetType; description: string }> = [
  { subsys: 'notify_webhook', type: 'webhook', description: 'publish bucket notifications to webhook endpoints' },
  { subsys: 'notify_redis', type: 'redis', description: 'publish bucket notifications to Redis datastores' },
  { subsys: 'notify_mysql', type: 'mysql', description: 'publish bucket notifications to MySQL databases' },
  { subsys: 'notify_postgres', type: 'postgresql', description: 'publish bucket notifications to Postgres databases' },
  { subsys: 'notify_amqp', type: 'amqp', description: 'publish bucket notifications to AMQP endpoints' },
  { subsys: 'notify_mqtt', type: 'mqtt', description: 'publish bucket notifications to MQTT endpoints' },
  { subsys: 'notify_nats', type: 'nats', description: 'publish bucket notifications to NATS endpoints' },
];

export function typeOfSubsystem(subsys: string): TargetType | undefined {
  return NOTIFY_TYPES.find((t) => t.subsys === subsys)?.type;
}

export function subsystemOfType(type: string): string | undefined {
  return NOTIFY_TYPES.find((t) => t.type === type)?.subsys;
}

function isSpecList(v: unknown): v is TargetOptionSpec[] {
  return Array.isArray(v) && v.length > 0 && v.every((s) => s && typeof s === 'object' && typeof s.key === 'string' && typeof s.default === 'string' && typeof s.help === 'string');
}

const loaded = new Map<string, Promise<TargetModule | undefined>>();

/** Supplies the module for a type directly (embedding, tests); replaces the on-demand import. */
export function registerTargetModule(mod: TargetModule): void {
  loaded.set(mod.type, Promise.resolve(mod));
}

/** The module for a type, or undefined (logged once) when it is missing or incomplete. */
export function loadTargetModule(type: TargetType): Promise<TargetModule | undefined> {
  let p = loaded.get(type);
  if (!p) {
    p = (async () => {
      let mod: Record<string, unknown>;
      try {
        mod = await import(`./targets/${type}.js`);
      } catch (e) {
        console.error(JSON.stringify({ level: 'error', msg: 'notification target type unavailable', type, error: String((e as Error)?.message ?? e) }));
        return undefined;
      }
      const create = Object.entries(mod).find(([name, v]) => typeof v === 'function' && name.toLowerCase() === `create${type}target`)?.[1] as TargetFactory | undefined;
      const specLists = Object.entries(mod).filter(([, v]) => isSpecList(v));
      const options = (specLists.find(([name]) => /spec/i.test(name)) ?? specLists[0])?.[1] as TargetOptionSpec[] | undefined;
      if (!create || !options) {
        console.error(JSON.stringify({ level: 'error', msg: 'notification target module lacks its factory or option specs', type }));
        return undefined;
      }
      return { type, create, options };
    })();
    loaded.set(type, p);
  }
  return p;
}
