/** What every admin command gets: the printer, the environment and a client per alias. */
import { resolveAlias } from './aliases.js';
import { AdminClient } from './client.js';
import type { Printer } from './output.js';

export interface CliContext {
  printer: Printer;
  env: NodeJS.ProcessEnv;
  client(target: string): Promise<{ name: string; client: AdminClient }>;
}

export function createContext(printer: Printer, env: NodeJS.ProcessEnv): CliContext {
  return {
    printer,
    env,
    async client(target) {
      const { name, alias } = await resolveAlias(target, env);
      return { name, client: new AdminClient(alias) };
    },
  };
}
