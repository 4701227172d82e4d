/**
 * `s3gate admin policy ...` (mc admin policy): add/create, remove, list, info; the 2021
 * mc's set/unset/update `POLICY user=NAME|group=NAME` (set-user-or-group-policy); the
 * current mc's attach/detach `POLICY... --user U | --group G`; and `simulate`, which asks
 * the server's policy engine whether an identity may do an action (s3gate extension).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import type { AdminClient } from './client.js';

function parseEntity(arg: string): { kind: 'user' | 'group'; name: string } {
  const m = /^(user|group)=(.+)$/.exec(arg);
  if (!m) throw new Error(`'${arg}' must be user=NAME or group=NAME.`);
  return { kind: m[1] as 'user' | 'group', name: m[2] };
}

async function currentPolicies(client: AdminClient, e: { kind: 'user' | 'group'; name: string }): Promise<string[]> {
  const info = e.kind === 'user'
    ? await client.json<{ policyName?: string }>('GET', 'user-info', { query: { accessKey: e.name } }).then((u) => u.policyName ?? '')
    : await client.json<{ policy?: string }>('GET', 'group', { query: { group: e.name } }).then((g) => g.policy ?? '');
  return info.split(',').filter(Boolean);
}

function setMapping(client: AdminClient, names: string[], e: { kind: 'user' | 'group'; name: string }) {
  return client.call('PUT', 'set-user-or-group-policy', { query: { policyName: names.join(','), userOrGroup: e.name, isGroup: String(e.kind === 'group') } });
}

function targetOf(opts: { user?: string; group?: string }): { user: string } | { group: string } {
  if (Boolean(opts.user) === Boolean(opts.group)) throw new Error('Give exactly one of --user or --group.');
  return opts.user ? { user: opts.user } : { group: opts.group! };
}

export function registerPolicyCommands(policy: Command, ctx: CliContext): void {
  const p = ctx.printer;
  policy.command('add').alias('create').description('add new policy').argument('<ALIAS>').argument('<POLICYNAME>').argument('<POLICYFILE>')
    .action(async (target: string, name: string, file: string) => {
      const { client } = await ctx.client(target);
      const doc = await readFile(file);
      await client.call('PUT', 'add-canned-policy', { query: { name }, body: doc });
      p.message(`Added policy \`${name}\` successfully.`, { policy: name });
    });
  policy.command('remove').alias('rm').description('remove policy').argument('<ALIAS>').argument('<POLICYNAME>')
    .action(async (target: string, name: string) => {
      const { client } = await ctx.client(target);
      await client.call('DELETE', 'remove-canned-policy', { query: { name } });
      p.message(`Removed policy \`${name}\` successfully.`, { policy: name });
    });
  policy.command('list').alias('ls').description('list all policies').argument('<ALIAS>')
    .action(async (target: string) => {
      const { client } = await ctx.client(target);
      const all = await client.json<Record<string, unknown>>('GET', 'list-canned-policies');
      for (const name of Object.keys(all).sort()) p.message(name, { policy: name });
    });
  policy.command('info').description('show info on a policy').argument('<ALIAS>').argument('<POLICYNAME>')
    .action(async (target: string, name: string) => {
      const { client } = await ctx.client(target);
      const info = await client.json<{ PolicyName?: string; Policy?: unknown }>('GET', 'info-canned-policy', { query: { name, v: '2' } });
      p.message(JSON.stringify(info.Policy, null, ' '), { policy: name, policyInfo: info });
    });
  policy.command('set').description('set IAM policy on a user or group').argument('<ALIAS>').argument('<POLICYNAME>').argument('<ENTITY>', 'user=NAME or group=NAME')
    .action(async (target: string, names: string, entity: string) => {
      const e = parseEntity(entity);
      const { client } = await ctx.client(target);
      await setMapping(client, names.split(',').filter(Boolean), e);
      p.message(`Policy \`${names}\` is set on ${e.kind} \`${e.name}\``, { policy: names, [e.kind === 'user' ? 'userName' : 'groupName']: e.name });
    });
  policy.command('unset').description('unset an IAM policy for a user or group').argument('<ALIAS>').argument('<POLICYNAME>').argument('<ENTITY>')
    .action(async (target: string, names: string, entity: string) => {
      const e = parseEntity(entity);
      const { client } = await ctx.client(target);
      const drop = new Set(names.split(','));
      const cur = await currentPolicies(client, e);
      if (!cur.some((n) => drop.has(n))) throw new Error(`Policy \`${names}\` is not set on ${e.kind} \`${e.name}\`.`);
      await setMapping(client, cur.filter((n) => !drop.has(n)), e);
      p.message(`Policy \`${names}\` is unset on ${e.kind} \`${e.name}\``, { policy: names, [e.kind === 'user' ? 'userName' : 'groupName']: e.name });
    });
  policy.command('update').description('attach new IAM policy to a user or group').argument('<ALIAS>').argument('<POLICYNAME>').argument('<ENTITY>')
    .action(async (target: string, names: string, entity: string) => {
      const e = parseEntity(entity);
      const { client } = await ctx.client(target);
      const cur = await currentPolicies(client, e);
      await setMapping(client, [...new Set([...cur, ...names.split(',').filter(Boolean)])], e);
      p.message(`Policy \`${names}\` is attached to ${e.kind} \`${e.name}\``, { policy: names, [e.kind === 'user' ? 'userName' : 'groupName']: e.name });
    });
  for (const [cmd, word, prep, key] of [['attach', 'Attached', 'To', 'policiesAttached'], ['detach', 'Detached', 'From', 'policiesDetached']] as const) {
    policy.command(cmd).description(`${cmd} IAM policies ${cmd === 'attach' ? 'to' : 'from'} a user or group`).argument('<ALIAS>').argument('<POLICY...>')
      .option('--user <USER>', 'user').option('--group <GROUP>', 'group')
      .action(async (target: string, names: string[], opts: { user?: string; group?: string }) => {
        const t = targetOf(opts);
        const { client } = await ctx.client(target);
        const res = await client.call('POST', `idp/builtin/policy/${cmd}`, { body: JSON.stringify({ policies: names, ...t }), encrypt: true, decrypt: true, contentType: 'application/octet-stream' });
        const reply = JSON.parse(res.body.toString() || '{}') as Record<string, string[]>;
        const changed = reply[key] ?? names;
        const who = 'user' in t ? `${prep} User: ${t.user}` : `${prep} Group: ${t.group}`;
        p.message(`${word} Policies: [${changed.join(' ')}]\n${who}`, { [key]: changed, ...t });
      });
  }
  policy.command('simulate').description('ask whether an identity may perform an action (policy explain)').argument('<ALIAS>').argument('<ACTION>').argument('[RESOURCE]')
    .option('--user <USER>', 'evaluate for this user (default: the alias\'s own identity)')
    .option('--access-key <KEY>', 'evaluate for this access key (user, service account)')
    .option('--context <KEY=VALUE...>', 'condition keys, e.g. aws:SourceIp=10.0.0.1')
    .action(async (target: string, action: string, resource: string | undefined, opts: { user?: string; accessKey?: string; context?: string[] }) => {
      const { client } = await ctx.client(target);
      const context: Record<string, string> = {};
      for (const kv of opts.context ?? []) {
        const i = kv.indexOf('=');
        if (i < 1) throw new Error(`--context '${kv}' must be KEY=VALUE.`);
        context[kv.slice(0, i)] = kv.slice(i + 1);
      }
      const ex = await client.json<{ allowed: boolean; reason: string; checks: Array<{ action: string; resource?: string; allowed: boolean; reason: string }> }>('POST', 's3gate/policy-simulate', {
        body: JSON.stringify({ action, ...(resource ? { resource } : {}), ...(opts.user ? { user: opts.user } : {}), ...(opts.accessKey ? { accessKey: opts.accessKey } : {}), ...(Object.keys(context).length ? { context } : {}) }),
      });
      const lines = [`${ex.allowed ? 'Allowed' : 'Denied'}: ${action}${resource ? ` on ${resource}` : ''}`, `Reason: ${ex.reason}`];
      for (const c of ex.checks ?? []) lines.push(`  ${c.allowed ? 'allow' : 'deny '}  ${c.action}${c.resource ? ` ${c.resource}` : ''}: ${c.reason}`);
      p.message(lines.join('\n'), { ...ex });
    });
}
