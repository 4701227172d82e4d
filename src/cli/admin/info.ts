/** `s3gate admin info ALIAS` (mc admin info) and `s3gate admin target status ALIAS`. */
import type { Command } from 'commander';
import type { CliContext } from './context.js';

function humanDuration(seconds: number): string {
  const units: Array<[number, string]> = [[86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [n, u] of units) if (seconds >= n) { const v = Math.floor(seconds / n); return `${v} ${u}${v === 1 ? '' : 's'}`; }
  return '0 seconds';
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

interface InfoJson {
  mode: string; region?: string; sqsARN?: string[];
  buckets?: { count: number }; objects?: { count: number }; usage?: { size: number };
  servers?: Array<{ state: string; endpoint: string; uptime: number; version: string; network?: Record<string, string> }>;
}

export function registerInfoCommands(admin: Command, ctx: CliContext): void {
  const p = ctx.printer;
  admin.command('info').description('display server information').argument('<ALIAS>')
    .action(async (target: string) => {
      const { client } = await ctx.client(target);
      const info = await client.json<InfoJson>('GET', 'info', { query: { metrics: 'false' } });
      const lines: string[] = [];
      for (const s of info.servers ?? []) {
        const net = Object.values(s.network ?? {});
        lines.push(`${s.state === 'online' ? '●' : '○'}  ${s.endpoint}`, `   Uptime: ${humanDuration(s.uptime)}`, `   Version: ${s.version}`,
          `   Network: ${net.filter((x) => x === 'online').length}/${net.length} OK`, '');
      }
      lines.push(`${info.buckets?.count ?? 0} bucket${info.buckets?.count === 1 ? '' : 's'}, ${info.objects?.count ?? 0} object${info.objects?.count === 1 ? '' : 's'}, ${humanBytes(info.usage?.size ?? 0)}`);
      if (info.sqsARN?.length) lines.push(`SQS ARNs: ${info.sqsARN.join(' ')}`);
      p.message(lines.join('\n'), { info });
    });
  const targets = admin.command('target').description('notification targets');
  targets.command('status').description('per-target queue and delivery state').argument('<ALIAS>')
    .action(async (target: string) => {
      const { client } = await ctx.client(target);
      const res = await client.json<{ targets: Array<{ arn: string; online: boolean; queued: number; delivered: number; failedAttempts: number; overflow: number; lastError?: string; lastErrorTime?: string }> }>('GET', 's3gate/target-status');
      if (p.json) { p.message('', { targets: res.targets }); return; }
      if (res.targets.length === 0) { p.message('No notification targets are enabled.'); return; }
      for (const t of res.targets) {
        let line = `${t.arn}  ${t.online ? 'online ' : 'offline'}  queued=${t.queued} delivered=${t.delivered} failed=${t.failedAttempts} overflow=${t.overflow}`;
        if (t.lastError) line += `  last error (${t.lastErrorTime ?? '?'}): ${t.lastError}`;
        p.message(line);
      }
    });
}
