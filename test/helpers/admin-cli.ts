/** Our own `s3gate alias|admin` CLI run in-process, with its output captured. */
import assert from 'node:assert/strict';
import type { runAdminCli } from '../../src/cli/admin/index.js';

export type CliEntry = typeof runAdminCli;

export async function runCli(fn: CliEntry, env: NodeJS.ProcessEnv, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await fn(argv, { env, io: { out: (t) => { out += t; }, err: (t) => { err += t; } } });
  return { code, out, err };
}

/** The output of a command that must succeed. */
export async function runCliOk(fn: CliEntry, env: NodeJS.ProcessEnv, argv: string[]): Promise<string> {
  const r = await runCli(fn, env, argv);
  assert.equal(r.code, 0, `s3gate ${argv.join(' ')} -> ${r.code}: ${r.err}${r.out}`);
  return r.out;
}
