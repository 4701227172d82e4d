/**
 * Entry points the main CLI mounts:
 *   runAliasCli(argv)  for `s3gate alias ...`
 *   runAdminCli(argv)  for `s3gate admin ...`
 * argv is what follows the word `alias` / `admin`. `--json` may appear anywhere (as in
 * mc). Both resolve to the process exit code and never call process.exit themselves.
 */
import { Command, CommanderError } from 'commander';
import { AdminApiError } from './client.js';
import { createContext, type CliContext } from './context.js';
import { Printer, processIo, type Io } from './output.js';
import { registerAliasCommands } from './alias.js';
import { registerUserCommands } from './users.js';
import { registerGroupCommands } from './groups.js';
import { registerPolicyCommands } from './policies.js';
import { registerServiceAccountCommands } from './service-accounts.js';
import { registerConfigCommands } from './config.js';
import { registerInfoCommands } from './info.js';
import { registerPrometheusCommands } from './prometheus.js';

export interface CliOptions {
  io?: Io;
  env?: NodeJS.ProcessEnv;
}

function program(name: string, io: Io): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError(false);
}

async function run(argv: string[], opts: CliOptions, build: (root: Command, ctx: CliContext) => void, name: string): Promise<number> {
  const io = opts.io ?? processIo;
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const printer = new Printer(io, json);
  const ctx = createContext(printer, opts.env ?? process.env);
  const root = program(name, io);
  build(root, ctx);
  try {
    await root.parseAsync(args, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return 0;
      return e.exitCode || 1;
    }
    if (e instanceof AdminApiError) printer.error(e.message, e.code);
    else printer.error((e as Error)?.message ?? String(e));
    return 1;
  }
}

export function runAliasCli(argv: string[], opts: CliOptions = {}): Promise<number> {
  return run(argv, opts, (root, ctx) => {
    root.description('manage server aliases (URL and credentials) for s3gate admin');
    registerAliasCommands(root, ctx);
  }, 's3gate alias');
}

export function runAdminCli(argv: string[], opts: CliOptions = {}): Promise<number> {
  return run(argv, opts, (root, ctx) => {
    root.description('manage an s3gate (or MinIO) server: users, groups, policies, service accounts, config, Prometheus');
    const user = root.command('user').description('manage users');
    registerUserCommands(user, ctx);
    registerServiceAccountCommands(user.command('svcacct').description('manage service accounts'), ctx);
    registerGroupCommands(root.command('group').description('manage groups'), ctx);
    registerPolicyCommands(root.command('policy').description('manage policies'), ctx);
    registerConfigCommands(root.command('config').description('manage server configuration'), ctx);
    registerInfoCommands(root, ctx);
    registerPrometheusCommands(root, ctx);
  }, 's3gate admin');
}
