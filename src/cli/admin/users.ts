/** `s3gate admin user add|remove|list|info|enable|disable` (mc admin user). */
import type { Command } from 'commander';
import type { CliContext } from './context.js';

interface UserInfoJson { policyName?: string; status: string; memberOf?: string[] }

export function registerUserCommands(user: Command, ctx: CliContext): void {
  const p = ctx.printer;
  user.command('add').description('add a new user').argument('<ALIAS>').argument('<ACCESSKEY>').argument('<SECRETKEY>')
    .action(async (target: string, accessKey: string, secretKey: string) => {
      const { client } = await ctx.client(target);
      await client.call('PUT', 'add-user', { query: { accessKey }, body: JSON.stringify({ secretKey, status: 'enabled' }), encrypt: true });
      p.message(`Added user \`${accessKey}\` successfully.`, { accessKey, userStatus: 'enabled' });
    });
  user.command('remove').alias('rm').description('remove user').argument('<ALIAS>').argument('<ACCESSKEY>')
    .action(async (target: string, accessKey: string) => {
      const { client } = await ctx.client(target);
      await client.call('DELETE', 'remove-user', { query: { accessKey } });
      p.message(`Removed user \`${accessKey}\` successfully.`, { accessKey });
    });
  for (const [cmd, status, word] of [['enable', 'enabled', 'Enabled'], ['disable', 'disabled', 'Disabled']] as const) {
    user.command(cmd).description(`${cmd} user`).argument('<ALIAS>').argument('<ACCESSKEY>')
      .action(async (target: string, accessKey: string) => {
        const { client } = await ctx.client(target);
        await client.call('PUT', 'set-user-status', { query: { accessKey, status } });
        p.message(`${word} user \`${accessKey}\` successfully.`, { accessKey, userStatus: status });
      });
  }
  user.command('list').alias('ls').description('list all users').argument('<ALIAS>')
    .action(async (target: string) => {
      const { client } = await ctx.client(target);
      const res = await client.call('GET', 'list-users', { decrypt: true });
      const users = JSON.parse(res.body.toString() || '{}') as Record<string, UserInfoJson>;
      for (const name of Object.keys(users).sort()) {
        const u = users[name];
        // mc: status (9), access key (20), policy (20), joined by two spaces.
        const line = [u.status.padEnd(9).slice(0, 9), name.padEnd(20).slice(0, 20), (u.policyName ?? '').padEnd(20).slice(0, 20)].join('  ').trimEnd();
        p.message(line, { accessKey: name, userStatus: u.status, ...(u.policyName ? { policyName: u.policyName } : {}), ...(u.memberOf?.length ? { memberOf: u.memberOf } : {}) });
      }
    });
  user.command('info').description('display info of a user').argument('<ALIAS>').argument('<ACCESSKEY>')
    .action(async (target: string, accessKey: string) => {
      const { client } = await ctx.client(target);
      const u = await client.json<UserInfoJson>('GET', 'user-info', { query: { accessKey } });
      const lines = [`AccessKey: ${accessKey}`, `Status: ${u.status}`, `PolicyName: ${u.policyName ?? ''}`, `MemberOf: ${(u.memberOf ?? []).join(',')}`];
      p.message(lines.join('\n'), { accessKey, userStatus: u.status, policyName: u.policyName ?? '', memberOf: u.memberOf ?? [] });
    });
}
