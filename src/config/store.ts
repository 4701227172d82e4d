/**
 * The run-time settings document: <sysDir>/config/config.json, holding only values set
 * through the config API (not defaults, not env, not the config file):
 *   {"version":1,"subsystems":{"notify_redis":{"1":{"address":"...","enable":"on"}}}}
 * Written as temp file + fsync + rename, so a reader (another worker or instance) sees
 * the old or the new document, never a partial one.
 */
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type StoredSettings = Record<string, Record<string, Record<string, string>>>;

export class ConfigStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'config.json');
  }

  /** Cheap change detection for the refresh timer. */
  async version(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'none';
    }
  }

  async read(): Promise<StoredSettings> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e: any) {
      if (e?.code === 'ENOENT') return {};
      throw e;
    }
    const doc = JSON.parse(text) as { subsystems?: StoredSettings };
    return doc.subsystems ?? {};
  }

  async write(settings: StoredSettings): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.config.json.${randomBytes(6).toString('hex')}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ version: 1, subsystems: settings }, null, 1));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}
