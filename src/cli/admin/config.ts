/**
 * `s3gate admin config get|set|reset|help` (mc admin config). `set` joins its arguments
 * with spaces like mc, but re-quotes a value that contains whitespace
 * (`connection_string="host=h port=5432"`), which the server keeps intact; without any
 * `=` it shows the subsystem's help instead, as mc does.
 */
import type { Command } from 'commander';
import { formatHelp, parseConfigText, type Help } from '../../admin/config-text.js';
import type { CliContext } from './context.js';

export function joinSetArgs(args: string[]): string {
  return args.map((a) => {
    const eq = a.indexOf('=');
    if (eq < 1) return a;
    const v = a.slice(eq + 1);
    return /\s/.test(v) && !/^(["']).*\1$/s.test(v) ? `${a.slice(0, eq)}="${v}"` : a;
  }).join(' ');
}

async function showHelp(ctx: CliContext, target: string, subSys: string, key: string, env: boolean): Promise<void> {
  const { client } = await ctx.client(target);
  const help = await client.json<Help>('GET', 'help-config-kv', { query: { subSys, key, ...(env ? { env: '' } : {}) } });
  ctx.printer.message(formatHelp(help), { ...help });
}

export function registerConfigCommands(config: Command, ctx: CliContext): void {
  const p = ctx.printer;
  config.command('get').description('interactively retrieve a config key parameters').argument('<ALIAS>').argument('[KEY]')
    .action(async (target: string, key: string | undefined) => {
      if (!key) return showHelp(ctx, target, '', '', false);
      const { client } = await ctx.client(target);
      const res = await client.call('GET', 'get-config-kv', { query: { key }, decrypt: true });
      const text = res.body.toString('utf8');
      if (p.json) p.message('', { config: parseConfigText(text) });
      else p.message(text.endsWith('\n') ? text : `${text}\n`);
    });
  config.command('set').description('interactively set a config key parameters').argument('<ALIAS>').argument('<KEY>').argument('[KV...]')
    .action(async (target: string, key: string, kvs: string[] = []) => {
      const line = joinSetArgs([key, ...kvs]);
      if (!line.includes('=')) return showHelp(ctx, target, key, kvs[0] ?? '', false);
      const { name, client } = await ctx.client(target);
      const res = await client.call('PUT', 'set-config-kv', { body: line, encrypt: true });
      const applied = res.headers['x-minio-config-applied'] === 'true';
      const msg = applied ? 'Successfully applied new settings.' : `Successfully applied new settings.\nPlease restart your server 's3gate' (alias '${name}').`;
      p.message(msg, { applied });
    });
  config.command('reset').description('interactively reset a config key parameters').argument('<ALIAS>').argument('<KEY...>')
    .action(async (target: string, keys: string[]) => {
      const { client } = await ctx.client(target);
      await client.call('DELETE', 'del-config-kv', { body: keys.join('\n'), encrypt: true });
      p.message(`'${keys.join(' ')}' is successfully reset.`, { keys });
    });
  config.command('help').description('show help for a sub-system or key').argument('<ALIAS>').argument('[SUBSYS]').argument('[KEY]')
    .option('--env', 'list environment variables instead of keys')
    .action((target: string, subSys: string | undefined, key: string | undefined, o: { env?: boolean }) => showHelp(ctx, target, subSys ?? '', key ?? '', Boolean(o.env)));
}
