/**
 * Persistence of the IAM documents under <sysDir>/iam/, cached in memory.
 *
 * Layout (file names are encodeURIComponent(name) + '.json'):
 *   iam/users/<name>.json          UserRecord (keys, status, attached policies)
 *   iam/groups/<name>.json         GroupRecord (members, status, attached policies)
 *   iam/policies/<name>.json       PolicyRecord (custom and inline policies)
 *   iam/svcaccts/<accessKey>.json  ServiceAccountRecord
 *   iam/sts-signing-key.json       SigningKeyRecord (HMAC key for STS session tokens)
 *   iam/.tmp/                      temp files of atomic writes (same file system as the docs)
 *
 * Every write is temp file + fsync + rename, so a reader (this process, another worker or
 * another instance on a shared file system) sees the old or the new document, never half.
 * After a change the store publishes `{origin, kind, key}` on the cluster-bus topic 'iam' and
 * waits until every worker has re-read that one document, so the change applies to the
 * client's next request whichever worker serves it; a full re-read every refresh interval
 * makes instances that share the file system (but not the bus) converge.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as clusterBus from '../server/cluster-bus.js';
import type { GroupRecord, PolicyRecord, ServiceAccountRecord, SigningKeyRecord, UserRecord } from './records.js';

export type DocKind = 'user' | 'group' | 'policy' | 'svc';

interface DocTypes {
  user: UserRecord;
  group: GroupRecord;
  policy: PolicyRecord;
  svc: ServiceAccountRecord;
}

const DIRS: Record<DocKind, string> = { user: 'users', group: 'groups', policy: 'policies', svc: 'svcaccts' };

/** One document's id in the change-tracking sets: kind and key, split again by parseDocId. */
const docId = (kind: DocKind, key: string) => `${kind}\0${key}`;
const parseDocId = (id: string) => id.split('\0') as [DocKind, string];

export interface Bus {
  /** Resolves once every process applied the message (see cluster-bus publishAndWait). */
  publish(topic: string, payload: unknown): Promise<void>;
  subscribe(topic: string, handler: (payload: unknown) => unknown): () => void;
}

export interface IamStoreOptions {
  sysDir: string;
  /** Full re-read period; 0 disables the timer. */
  refreshIntervalMs: number;
  /** Cross-worker bus; null for none (tests simulating separate instances). */
  bus: Bus | null;
  log?: (level: 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** What the bus carries: which document changed ('all' = re-read everything). */
interface ChangeMessage {
  origin: string;
  kind: DocKind | 'all';
  key: string;
}

export class IamStore {
  readonly dir: string;
  readonly users = new Map<string, UserRecord>();
  readonly groups = new Map<string, GroupRecord>();
  readonly policies = new Map<string, PolicyRecord>();
  readonly svcs = new Map<string, ServiceAccountRecord>();
  /** Bumped on every applied change, so callers can cache derived values. */
  generation = 0;

  private readonly origin = randomBytes(8).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly listeners = new Set<() => void>();
  /** Documents changed while a full reload was reading (its snapshot may be older for them). */
  private touchedDuringReload: Set<string> | null = null;
  private reloading: Promise<void> | null = null;
  /** Local writes per document, so a read that raced one does not put the older state back. */
  private readonly localWrites = new Map<string, number>();

  constructor(private readonly opts: IamStoreOptions) {
    this.dir = join(opts.sysDir, 'iam');
  }

  /** Creates the directories, reads everything, starts the bus subscription and refresh timer. */
  async open(): Promise<void> {
    await fs.mkdir(join(this.dir, '.tmp'), { recursive: true, mode: 0o700 });
    for (const d of Object.values(DIRS)) await fs.mkdir(join(this.dir, d), { recursive: true, mode: 0o700 });
    await this.cleanTemp();
    await this.reloadAll();
    if (this.opts.bus) {
      this.unsubscribe = this.opts.bus.subscribe('iam', (payload) => this.onBusMessage(payload));
    }
    if (this.opts.refreshIntervalMs > 0) {
      this.timer = setInterval(() => {
        if (this.reloading) return; // a slow file system: skip a beat rather than pile up
        this.reloadAll().catch((e) => this.log('error', 'iam refresh failed', { error: String(e) }));
      }, this.opts.refreshIntervalMs);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Called after every applied change (local, bus or refresh). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  map<K extends DocKind>(kind: K): Map<string, DocTypes[K]> {
    switch (kind) {
      case 'user': return this.users as Map<string, DocTypes[K]>;
      case 'group': return this.groups as Map<string, DocTypes[K]>;
      case 'policy': return this.policies as Map<string, DocTypes[K]>;
      case 'svc': return this.svcs as Map<string, DocTypes[K]>;
    }
    throw new Error(`unknown kind ${String(kind)}`);
  }

  /** Reads one document from disk, bypassing the cache (read-modify-write starts here). */
  async readFresh<K extends DocKind>(kind: K, key: string): Promise<DocTypes[K] | undefined> {
    const id = docId(kind, key);
    const writesBefore = this.localWrites.get(id) ?? 0;
    const doc = await this.readFile<DocTypes[K]>(this.path(kind, key));
    // A local write finished while we read: the file we opened may be the replaced one, and
    // memory already holds the newer state the client was told about.
    if ((this.localWrites.get(id) ?? 0) !== writesBefore) return this.map(kind).get(key);
    this.applyOne(kind, key, doc);
    return doc;
  }

  async put<K extends DocKind>(kind: K, key: string, doc: DocTypes[K]): Promise<void> {
    await this.writeAtomic(this.path(kind, key), doc);
    await this.applyLocalWrite(kind, key, doc);
  }

  async remove(kind: DocKind, key: string): Promise<void> {
    await fs.rm(this.path(kind, key), { force: true });
    await this.applyLocalWrite(kind, key, undefined);
  }

  /** Applies a write here, then waits until the other workers re-read the document. */
  private async applyLocalWrite(kind: DocKind, key: string, doc: unknown): Promise<void> {
    const id = docId(kind, key);
    this.localWrites.set(id, (this.localWrites.get(id) ?? 0) + 1);
    this.applyOne(kind, key, doc);
    await this.announce(kind, key);
  }

  /**
   * Re-reads every document and swaps the cache in one step. One reload runs at a time (its
   * change tracking is per run): a call during a reload starts another one after it.
   */
  reloadAll(): Promise<void> {
    const run = (this.reloading ?? Promise.resolve()).catch(() => undefined).then(() => this.reloadOnce());
    const tracked = run.finally(() => { if (this.reloading === tracked) this.reloading = null; });
    this.reloading = tracked;
    return tracked;
  }

  private async reloadOnce(): Promise<void> {
    const touched = new Set<string>();
    this.touchedDuringReload = touched;
    try {
      await this.readEverything();
    } finally {
      this.touchedDuringReload = null;
    }
    for (const t of touched) {
      const [kind, key] = parseDocId(t);
      await this.readFresh(kind, key);
    }
  }

  private async readEverything(): Promise<void> {
    const next = new Map<DocKind, Map<string, unknown>>();
    for (const kind of Object.keys(DIRS) as DocKind[]) {
      const m = new Map<string, unknown>();
      const names = await fs.readdir(join(this.dir, DIRS[kind])).catch(() => [] as string[]);
      for (const f of names) {
        if (!f.endsWith('.json')) continue;
        let key: string;
        try { key = decodeURIComponent(f.slice(0, -5)); } catch { continue; }
        const doc = await this.readFile(join(this.dir, DIRS[kind], f));
        if (doc) m.set(key, doc);
      }
      next.set(kind, m);
    }
    // Documents changed while we were reading: memory already holds their newer state, and
    // swapping the older snapshot in, even until the re-read below, would briefly undo a
    // change the client has already been told about.
    const kept = new Map<string, unknown>();
    for (const t of this.touchedDuringReload ?? []) {
      const [kind, key] = parseDocId(t);
      kept.set(t, this.map(kind).get(key));
    }
    for (const kind of Object.keys(DIRS) as DocKind[]) {
      const target = this.map(kind) as Map<string, unknown>;
      target.clear();
      for (const [k, v] of next.get(kind)!) if (!kept.has(docId(kind, k))) target.set(k, v);
    }
    for (const [t, v] of kept) {
      const [kind, key] = parseDocId(t);
      if (v !== undefined) (this.map(kind) as Map<string, unknown>).set(key, v);
    }
    this.changed();
  }

  /**
   * Returns the shared STS signing key, creating it on first use. Creation links a complete
   * temp file into place (link fails if the name exists), so two instances starting together
   * agree on one key.
   */
  async signingKey(): Promise<SigningKeyRecord> {
    const file = join(this.dir, 'sts-signing-key.json');
    const existing = await this.readFile<SigningKeyRecord>(file);
    if (existing) return existing;
    const rec: SigningKeyRecord = {
      version: 1,
      id: randomBytes(6).toString('hex'),
      key: randomBytes(32).toString('base64'),
      createdAt: new Date().toISOString(),
    };
    const tmp = await this.writeTemp(rec);
    try {
      await fs.link(tmp, file);
    } catch (e: any) {
      if (e?.code !== 'EEXIST') throw e;
    } finally {
      await fs.rm(tmp, { force: true });
    }
    const winner = await this.readFile<SigningKeyRecord>(file);
    if (!winner) throw new Error('STS signing key unreadable');
    return winner;
  }

  private path(kind: DocKind, key: string): string {
    return join(this.dir, DIRS[kind], encodeURIComponent(key) + '.json');
  }

  private applyOne(kind: DocKind, key: string, doc: unknown): void {
    const m = this.map(kind) as Map<string, unknown>;
    this.touchedDuringReload?.add(docId(kind, key));
    if (doc === undefined) m.delete(key);
    else m.set(key, doc);
    this.changed();
  }

  private changed(): void {
    this.generation++;
    for (const l of this.listeners) {
      try { l(); } catch (e) { this.log('error', 'iam change listener failed', { error: String(e) }); }
    }
  }

  private async announce(kind: DocKind, key: string): Promise<void> {
    const msg: ChangeMessage = { origin: this.origin, kind, key };
    await this.opts.bus?.publish('iam', msg);
  }

  private async onBusMessage(payload: unknown): Promise<void> {
    const msg = payload as Partial<ChangeMessage> | null;
    if (!msg || msg.origin === this.origin) return;
    try {
      if (msg.kind && msg.kind !== 'all' && typeof msg.key === 'string' && msg.kind in DIRS) {
        await this.readFresh(msg.kind, msg.key);
      } else {
        await this.reloadAll();
      }
    } catch (e) {
      this.log('error', 'iam reload after bus message failed', { error: String(e) });
    }
  }

  private async readFile<T>(file: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e: any) {
      if (e?.code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const doc = JSON.parse(text);
      if (doc && typeof doc === 'object' && doc.version === 1) return doc as T;
      this.log('warn', 'iam document has an unknown version, ignored', { file });
    } catch {
      this.log('warn', 'iam document is not valid JSON, ignored', { file });
    }
    return undefined;
  }

  private async writeTemp(doc: unknown): Promise<string> {
    const tmp = join(this.dir, '.tmp', `${Date.now()}-${randomBytes(6).toString('hex')}`);
    const fh = await fs.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(doc, null, 1) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
  }

  private async writeAtomic(file: string, doc: unknown): Promise<void> {
    const tmp = await this.writeTemp(doc);
    try {
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  /** Temp files older than an hour are leftovers of a crash (young ones may be another instance's). */
  private async cleanTemp(): Promise<void> {
    const dir = join(this.dir, '.tmp');
    const cutoff = Date.now() - 3600_000;
    for (const f of await fs.readdir(dir).catch(() => [] as string[])) {
      const st = await fs.stat(join(dir, f)).catch(() => undefined);
      if (st && st.mtimeMs < cutoff) await fs.rm(join(dir, f), { force: true });
    }
  }

  private log(level: 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    if (this.opts.log) this.opts.log(level, msg, fields);
    else console.error(JSON.stringify({ level, msg, ...fields }));
  }
}

/** The node:cluster bus as the store's Bus. */
export const clusterIamBus: Bus = { publish: clusterBus.publishAndWait, subscribe: clusterBus.subscribe };
