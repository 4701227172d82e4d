/** `s3gate alias set|list|remove` (mc alias): the stored server aliases. */
import type { Command } from 'commander';
import { readAliases, validateAliasName, writeAliases } from './aliases.js';
import type { CliContext } from './context.js';

export function registerAliasCommands(alias: Command, ctx: CliContext): void {
  const p = ctx.printer;
  alias.command('set').description('add or update an alias').argument('<ALIAS>').argument('<URL>').argument('<ACCESSKEY>').argument('<SECRETKEY>')
    .option('--api <API>', 'API signature', 's3v4').option('--path <STYLE>', 'bucket lookup style', 'auto')
    .action(async (name: string, url: string, accessKey: string, secretKey: string, o: { api: string; path: string }) => {
      validateAliasName(name);
      let u: URL;
      try { u = new URL(url); } catch { throw new Error(`'${url}' is not a URL (e.g. http://localhost:9000).`); }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`'${url}' must start with http:// or https://.`);
      const all = await readAliases(ctx.env);
      all[name] = { url: url.replace(/\/+$/, ''), accessKey, secretKey, api: o.api, path: o.path };
      await writeAliases(all, ctx.env);
      p.message(`Added \`${name}\` successfully.`, { alias: name, URL: all[name].url, accessKey, api: o.api, path: o.path });
    });
  alias.command('list').alias('ls').description('list aliases').argument('[ALIAS]')
    .action(async (only: string | undefined) => {
      const all = await readAliases(ctx.env);
      const names = Object.keys(all).sort().filter((n) => !only || n === only.replace(/\/+$/, ''));
      if (only && names.length === 0) throw new Error(`No such alias \`${only}\`.`);
      for (const n of names) {
        const a = all[n];
        p.message(`${n}\n  URL       : ${a.url}\n  AccessKey : ${a.accessKey}\n  SecretKey : ${a.secretKey}\n  API       : ${a.api}\n  Path      : ${a.path}\n`,
          { alias: n, URL: a.url, accessKey: a.accessKey, secretKey: a.secretKey, api: a.api, path: a.path });
      }
    });
  alias.command('remove').alias('rm').description('remove an alias').argument('<ALIAS>')
    .action(async (name: string) => {
      const all = await readAliases(ctx.env);
      const n = name.replace(/\/+$/, '');
      if (!all[n]) throw new Error(`No such alias \`${n}\`.`);
      delete all[n];
      await writeAliases(all, ctx.env);
      p.message(`Removed \`${n}\` successfully.`, { alias: n });
    });
}
