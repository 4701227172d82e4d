/* global process, URL, console */
// PUT throughput with 0, 1 and 3 notification targets (and more --configs) (src/bench/events.ts), run manually:
//   node --import tsx scripts/bench-events.mjs [--count 300] [--rounds 15] [--concurrency 16] [--workers 1] [--no-fsync] [--configs 0,redis,3]
// Not part of npm test. Needs Redis and PostgreSQL on loopback.
import { fileURLToPath } from 'node:url';

// The servers under test are started with the same node flags and this CLI entry point.
process.argv[1] = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
if (!process.execArgv.some((a) => a.includes('tsx'))) {
  console.error('run with: node --import tsx scripts/bench-events.mjs');
  process.exit(2);
}
const { eventsBenchCommand } = await import('../src/bench/events.ts');
await eventsBenchCommand().parseAsync(process.argv);
