/**
 * `s3gate admin user svcacct add|ls|rm|info|edit|set|enable|disable` (mc admin user
 * svcacct), with mc's flags: --access-key --secret-key --policy FILE --name
 * --description (--comment) --expiry.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CliContext } from './context.js';

function expiry(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`--expiry '${v}' is not a date (use RFC 3339, e.g. 2030-01-01T00:00:00Z).`);
  return d.toISOString();
}

const isNever = (e: string | undefined) => !e || e.startsWith('0001-01-01') || e.startsWith('1970-01-01');

async function policyFile(file: string | undefined): Promise<unknown> {
  if (!file) return undefined;
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`--policy ${file}: not valid JSON (${(e as Error).message})`);
  }
}

interface SvcOpts { accessKey?: string; secretKey?: string; policy?: string; name?: string; description?: string; comment?: string; expiry?: string }

export function registerServiceAccountCommands(svc: Command, ctx: CliContext): void {
  const p = ctx.printer;
  svc.command('add').description('add a new service account').argument('<ALIAS>').argument('<ACCOUNT>', 'the parent user')
    .option('--access-key <KEY>', 'set an access key').option('--secret-key <KEY>', 'set a secret key')
    .option('--policy <FILE>', 'path to a JSON policy file').option('--name <NAME>', 'name for the service account')
    .option('--description <TEXT>', 'description').option('--comment <TEXT>', 'same as --description').option('--expiry <DATE>', 'expiry date (RFC 3339)')
    .action(async (target: string, parent: string, o: SvcOpts) => {
      const { client } = await ctx.client(target);
      const body = {
        ...(o.policy ? { policy: await policyFile(o.policy) } : {}),
        targetUser: parent,
        ...(o.accessKey ? { accessKey: o.accessKey } : {}),
        ...(o.secretKey ? { secretKey: o.secretKey } : {}),
        ...(o.name ? { name: o.name } : {}),
        ...(o.description || o.comment ? { description: o.description ?? o.comment } : {}),
        ...(expiry(o.expiry) ? { expiration: expiry(o.expiry) } : {}),
      };
      const res = await client.call('PUT', 'add-service-account', { body: JSON.stringify(body), encrypt: true, decrypt: true });
      const c = (JSON.parse(res.body.toString()) as { credentials: { accessKey: string; secretKey: string; expiration?: string } }).credentials;
      p.message(`Access Key: ${c.accessKey}\nSecret Key: ${c.secretKey}\nExpiration: ${isNever(c.expiration) ? 'no-expiry' : c.expiration}`,
        { accessKey: c.accessKey, secretKey: c.secretKey, expiration: isNever(c.expiration) ? null : c.expiration });
    });
  svc.command('ls').alias('list').description('list service accounts').argument('<ALIAS>').argument('[ACCOUNT]', 'the parent user (default: yourself)')
    .action(async (target: string, parent: string | undefined) => {
      const { client } = await ctx.client(target);
      const res = await client.call('GET', 'list-service-accounts', { query: { user: parent ?? '' }, decrypt: true });
      const list = (JSON.parse(res.body.toString()) as { accounts: Array<string | { accessKey: string; accountStatus?: string; name?: string; expiration?: string }> | null }).accounts ?? [];
      for (const a of list) {
        const acc = typeof a === 'string' ? { accessKey: a } : a;
        const exp = 'expiration' in acc && !isNever(acc.expiration) ? acc.expiration : 'no-expiry';
        p.message(`${acc.accessKey.padEnd(20)}  ${'accountStatus' in acc ? acc.accountStatus : ''}  ${exp}`.trimEnd(), { ...acc });
      }
    });
  svc.command('rm').alias('remove').description('remove a service account').argument('<ALIAS>').argument('<SERVICE-ACCOUNT>')
    .action(async (target: string, accessKey: string) => {
      const { client } = await ctx.client(target);
      await client.call('DELETE', 'delete-service-account', { query: { accessKey } });
      p.message(`Removed service account \`${accessKey}\` successfully.`, { accessKey });
    });
  svc.command('info').description('get a service account info').argument('<ALIAS>').argument('<SERVICE-ACCOUNT>').option('--policy', 'print the policy only')
    .action(async (target: string, accessKey: string, o: { policy?: boolean }) => {
      const { client } = await ctx.client(target);
      const res = await client.call('GET', 'info-service-account', { query: { accessKey }, decrypt: true });
      const i = JSON.parse(res.body.toString()) as { parentUser: string; accountStatus: string; impliedPolicy: boolean; policy?: string; name?: string; description?: string; expiration?: string };
      let pretty = i.policy ?? '';
      try { pretty = JSON.stringify(JSON.parse(pretty), null, ' '); } catch { /* keep as is */ }
      if (o.policy) { p.message(pretty, { accessKey, policy: i.policy }); return; }
      p.message([
        `AccessKey: ${accessKey}`, `ParentUser: ${i.parentUser}`, `Status: ${i.accountStatus}`, `Name: ${i.name ?? ''}`,
        `Description: ${i.description ?? ''}`, `Policy: ${i.impliedPolicy ? 'implied' : 'embedded'}`,
        `Expiration: ${isNever(i.expiration) ? 'no-expiry' : i.expiration}`,
      ].join('\n'), { accessKey, ...i });
    });
  svc.command('edit').alias('set').description('edit an existing service account').argument('<ALIAS>').argument('<SERVICE-ACCOUNT>')
    .option('--secret-key <KEY>', 'new secret key').option('--policy <FILE>', 'new policy file ("{}" file for the parent\'s policy)')
    .option('--name <NAME>', 'new name').option('--description <TEXT>', 'new description').option('--expiry <DATE>', 'new expiry')
    .action(async (target: string, accessKey: string, o: SvcOpts) => {
      const { client } = await ctx.client(target);
      const body = {
        ...(o.policy ? { newPolicy: await policyFile(o.policy) } : {}),
        ...(o.secretKey ? { newSecretKey: o.secretKey } : {}),
        newStatus: '',
        ...(o.name !== undefined ? { newName: o.name } : {}),
        ...(o.description !== undefined ? { newDescription: o.description } : {}),
        ...(expiry(o.expiry) ? { newExpiration: expiry(o.expiry) } : {}),
      };
      await client.call('POST', 'update-service-account', { query: { accessKey }, body: JSON.stringify(body), encrypt: true });
      p.message(`Edited service account \`${accessKey}\` successfully.`, { accessKey });
    });
  for (const [cmd, status, word] of [['enable', 'on', 'Enabled'], ['disable', 'off', 'Disabled']] as const) {
    svc.command(cmd).description(`${cmd} a service account`).argument('<ALIAS>').argument('<SERVICE-ACCOUNT>')
      .action(async (target: string, accessKey: string) => {
        const { client } = await ctx.client(target);
        await client.call('POST', 'update-service-account', { query: { accessKey }, body: JSON.stringify({ newStatus: status }), encrypt: true });
        p.message(`${word} service account \`${accessKey}\` successfully.`, { accessKey, accountStatus: status });
      });
  }
}
