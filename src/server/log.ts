/** Structured logging: one JSON line per entry on stderr. Never pass secrets in fields. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = (): number => order[(process.env.S3GATE_LOG_LEVEL as Level) ?? 'info'] ?? 20;

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < threshold()) return;
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, pid: process.pid, ...fields }) + '\n');
}
