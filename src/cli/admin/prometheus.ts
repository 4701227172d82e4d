/**
 * `s3gate admin prometheus generate ALIAS`: a Prometheus scrape config for the alias's
 * server, with the bearer token `mc admin prometheus generate` makes (HS512, issuer
 * "prometheus", subject the alias's access key, signed with its secret key, valid for
 * 100 years). Made here, without a call to the server; the server checks it.
 */
import type { Command } from 'commander';
import { SignJWT } from 'jose';
import { resolveAlias } from './aliases.js';
import type { CliContext } from './context.js';

const TOKEN_LIFETIME_S = 100 * 365 * 24 * 3600;

export async function prometheusToken(accessKey: string, secretKey: string, now = Date.now()): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
    .setSubject(accessKey)
    .setIssuer('prometheus')
    .setExpirationTime(Math.floor(now / 1000) + TOKEN_LIFETIME_S)
    .sign(new TextEncoder().encode(secretKey));
}

export function registerPrometheusCommands(admin: Command, ctx: CliContext): void {
  const prometheus = admin.command('prometheus').description('Prometheus scraping');
  prometheus.command('generate').description('print a scrape config (with a bearer token) for the metrics endpoint').argument('<ALIAS>')
    .action(async (target: string) => {
      const { name, alias } = await resolveAlias(target, ctx.env);
      const url = new URL(alias.url);
      const token = await prometheusToken(alias.accessKey, alias.secretKey);
      const path = '/minio/v2/metrics/cluster';
      const config = [
        'scrape_configs:',
        `- job_name: ${name}-job`,
        `  bearer_token: ${token}`,
        `  metrics_path: ${path}`,
        `  scheme: ${url.protocol.replace(':', '')}`,
        '  static_configs:',
        `  - targets: ['${url.host}']`,
        '',
      ].join('\n');
      if (ctx.printer.json) ctx.printer.io.out(JSON.stringify({ status: 'success', jobName: `${name}-job`, bearerToken: token, metricsPath: path, scheme: url.protocol.replace(':', ''), targets: [url.host] }) + '\n');
      else ctx.printer.io.out(config);
    });
}
