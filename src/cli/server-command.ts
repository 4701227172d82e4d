/** `s3gate server [DATA_DIR] [ADDRESS]`: flags and env vars -> ServerOptions. */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { Command, Option } from 'commander';
import { defaultWorkers, parseAddress, parseDuration, type ServerOptions } from '../server/options.js';
import { runServer } from '../server/start.js';
import { StartupError } from '../server/root-credentials.js';

function envList(...names: string[]): string[] {
  for (const n of names) {
    const v = process.env[n];
    if (v) return v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  }
  return [];
}

export function serverCommand(): Command {
  return new Command('server')
    .description('serve DATA_DIR over the S3 API')
    .argument('[DATA_DIR]', 'directory to serve (buckets are its top-level directories)', process.env.S3GATE_DATA_DIR ?? './data')
    .argument('[ADDRESS]', 'listen address HOST:PORT', process.env.S3GATE_ADDRESS ?? '127.0.0.1:9000')
    .addOption(new Option('--region <name>', 'region reported to clients and expected in signatures').default(process.env.S3GATE_REGION ?? process.env.MINIO_REGION ?? 'us-east-1'))
    .option('--domain <names>', 'domain(s) for virtual-host style requests, comma separated (env S3GATE_DOMAIN, MINIO_DOMAIN)')
    .option('--workers <n>', 'worker processes (node:cluster); default one per core', process.env.S3GATE_WORKERS)
    .option('--no-fsync', 'do not fsync objects before acknowledging writes (faster, loses recent writes on power failure)')
    .addOption(new Option('--events-sync <when>', 'when queued events reach stable storage: always (before the response) or interval (within 0.1 s; kill -9 loses none, a power cut the last fraction of a second)').choices(['always', 'interval']).default(process.env.S3GATE_EVENTS_SYNC ?? 'always'))
    .addOption(new Option('--meta-store <kind>', 'where object metadata is kept (default: xattr if supported)').choices(['xattr', 'sidecar']))
    .option('--refresh-iam-interval <duration>', 'how often IAM state is re-read from the data dir', process.env.S3GATE_REFRESH_IAM_INTERVAL ?? '5m')
    .option('--config <file>', 'config file with notify_* settings (env S3GATE_CONFIG_FILE)', process.env.S3GATE_CONFIG_FILE)
    .option('--shutdown-timeout <duration>', 'how long in-flight requests may take to finish on SIGTERM', '30s')
    .option('-d, --background', 'run in the background (detached), logging to --log')
    .option('--log <file>', 'log file for --background', 's3gate.log')
    .action(async (dataDir: string, address: string, o: Record<string, any>) => {
      if (o.background) return background(o.log);
      const { host, port } = parseAddress(address);
      const opts: ServerOptions = {
        dataDir,
        host,
        port,
        region: o.region,
        domains: o.domain ? String(o.domain).split(',').map((s: string) => s.trim().toLowerCase()).filter(Boolean) : envList('S3GATE_DOMAIN', 'MINIO_DOMAIN'),
        workers: o.workers ? Math.max(1, parseInt(o.workers, 10)) : defaultWorkers(),
        fsync: o.fsync !== false && process.env.S3GATE_FSYNC !== 'off',
        eventsSync: o.eventsSync,
        metaStore: o.metaStore,
        refreshIamIntervalMs: parseDuration(o.refreshIamInterval),
        configFile: o.config,
        shutdownTimeoutMs: parseDuration(o.shutdownTimeout),
      };
      try {
        await runServer(opts);
      } catch (e) {
        if (e instanceof StartupError || (e as any)?.code === 'EADDRINUSE' || (e as any)?.code === 'EACCES') {
          process.stderr.write(`s3gate: ${(e as Error).message}\n`);
          process.exit(1);
        }
        throw e;
      }
    });
}

/** Re-runs this command detached, without -d, with output to the log file. */
function background(logFile: string): void {
  const args = process.argv.slice(1).filter((a) => a !== '-d' && a !== '--background');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...process.execArgv, ...args], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  process.stdout.write(`s3gate started in the background (pid ${child.pid}), logging to ${logFile}\n`);
}
