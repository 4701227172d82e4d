/** `s3gate admin group add|remove|info|list|enable|disable` (mc admin group). */
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerGroupCommands(group: Command, ctx: CliContext): void {
  const p = ctx.printer;
  group.command('add').description('add users to a new or existing group').argument('<ALIAS>').argument('<GROUP>').argument('<MEMBERS...>')
    .action(async (target: string, name: string, members: string[]) => {
      const { client } = await ctx.client(target);
      await client.call('PUT', 'update-group-members', { body: JSON.stringify({ group: name, members, groupStatus: '', isRemove: false }) });
      p.message(`Added members \`${members.join(', ')}\` to group \`${name}\` successfully.`, { groupName: name, members });
    });
  group.command('remove').alias('rm').description('remove group or members from a group').argument('<ALIAS>').argument('<GROUP>').argument('[MEMBERS...]')
    .action(async (target: string, name: string, members: string[] = []) => {
      const { client } = await ctx.client(target);
      await client.call('PUT', 'update-group-members', { body: JSON.stringify({ group: name, members, groupStatus: '', isRemove: true }) });
      if (members.length) p.message(`Removed members \`${members.join(', ')}\` from group \`${name}\` successfully.`, { groupName: name, members });
      else p.message(`Removed group \`${name}\` successfully.`, { groupName: name });
    });
  group.command('info').description('display group info').argument('<ALIAS>').argument('<GROUP>')
    .action(async (target: string, name: string) => {
      const { client } = await ctx.client(target);
      const g = await client.json<{ name: string; status: string; members?: string[]; policy?: string }>('GET', 'group', { query: { group: name } });
      p.message([`Group: ${g.name}`, `Status: ${g.status}`, `Policy: ${g.policy ?? ''}`, `Members: ${(g.members ?? []).join(',')}`].join('\n'),
        { groupName: g.name, groupStatus: g.status, groupPolicy: g.policy ?? '', members: g.members ?? [] });
    });
  group.command('list').alias('ls').description('display list of groups').argument('<ALIAS>')
    .action(async (target: string) => {
      const { client } = await ctx.client(target);
      const groups = (await client.json<string[] | null>('GET', 'groups')) ?? [];
      if (p.json) p.message('', { groups });
      else for (const g of groups) p.message(g);
    });
  for (const [cmd, status, word] of [['enable', 'enabled', 'Enabled'], ['disable', 'disabled', 'Disabled']] as const) {
    group.command(cmd).description(`${cmd} a group`).argument('<ALIAS>').argument('<GROUP>')
      .action(async (target: string, name: string) => {
        const { client } = await ctx.client(target);
        await client.call('PUT', 'set-group-status', { query: { group: name, status } });
        p.message(`${word} group \`${name}\` successfully.`, { groupName: name, groupStatus: status });
      });
  }
}
