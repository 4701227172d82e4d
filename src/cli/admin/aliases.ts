/**
 * The alias store of `s3gate alias` / `s3gate admin`: ~/.s3gate/config.json (or
 * $S3GATE_CONFIG_DIR/config.json), written atomically with mode 0600 because it holds
 * secret keys. The shape follows mc's config.json so it reads familiar:
 *   {"version":"10","aliases":{"myjfs":{"url":"http://localhost:9000","accessKey":"admin",
 *    "secretKey":"...","api":"s3v4","path":"auto"}}}
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Alias {
  url: string;
  accessKey: string;
  secretKey: string;
  api: string;
  path: string;
}

interface ConfigDoc {
  version: string;
  aliases: Record<string, Alias>;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.S3GATE_CONFIG_DIR || join(homedir(), '.s3gate');
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.json');
}

export async function readAliases(env: NodeJS.ProcessEnv = process.env): Promise<Record<string, Alias>> {
  let text: string;
  try {
    text = await readFile(configPath(env), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const doc = JSON.parse(text) as Partial<ConfigDoc>;
  return doc.aliases ?? {};
}

export async function writeAliases(aliases: Record<string, Alias>, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = configPath(env);
  const tmp = `${file}.${process.pid}.tmp`;
  const doc: ConfigDoc = { version: '10', aliases };
  await writeFile(tmp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function validateAliasName(name: string): void {
  if (!NAME_RE.test(name)) throw new Error(`Alias \`${name}\` is invalid: use letters, digits, '-', '_' and '.'.`);
}

/** `myjfs` or `myjfs/` (mc accepts a trailing slash) -> the stored alias. */
export async function resolveAlias(target: string, env: NodeJS.ProcessEnv = process.env): Promise<{ name: string; alias: Alias }> {
  const name = target.replace(/\/+$/, '');
  const aliases = await readAliases(env);
  const alias = aliases[name];
  if (!alias) throw new Error(`No such alias \`${name}\`. Add it with: s3gate alias set ${name} URL ACCESS-KEY SECRET-KEY`);
  return { name, alias };
}
