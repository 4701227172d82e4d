/**
 * Indices derived from the store's documents, rebuilt lazily when the store's generation
 * changes: which identity owns an access key, and which groups a user belongs to. Both are
 * needed on the request path, so they are maps, not scans.
 */
import type { IamStore } from './store.js';

export type KeyOwner =
  | { kind: 'user'; name: string }
  | { kind: 'svc'; accessKey: string };

export class IdentityIndex {
  private builtAt = -1;
  private keys = new Map<string, KeyOwner>();
  private memberOf = new Map<string, string[]>();
  private inlineByOwner = new Map<string, string[]>();

  constructor(private readonly store: IamStore) {}

  owner(accessKey: string): KeyOwner | undefined {
    this.refresh();
    return this.keys.get(accessKey);
  }

  groupsOf(user: string): readonly string[] {
    this.refresh();
    return this.memberOf.get(user) ?? [];
  }

  /** Stored names of the inline policies of a user or group. */
  inlinePolicies(kind: 'user' | 'group', owner: string): readonly string[] {
    this.refresh();
    return this.inlineByOwner.get(`${kind}\0${owner}`) ?? [];
  }

  private refresh(): void {
    if (this.builtAt === this.store.generation) return;
    const keys = new Map<string, KeyOwner>();
    for (const u of this.store.users.values()) {
      for (const k of u.accessKeys) keys.set(k.accessKey, { kind: 'user', name: u.name });
    }
    for (const s of this.store.svcs.values()) keys.set(s.accessKey, { kind: 'svc', accessKey: s.accessKey });
    const memberOf = new Map<string, string[]>();
    for (const g of [...this.store.groups.values()].sort((a, b) => cmp(a.name, b.name))) {
      for (const m of g.members) {
        let list = memberOf.get(m);
        if (!list) memberOf.set(m, (list = []));
        list.push(g.name);
      }
    }
    const inline = new Map<string, string[]>();
    for (const p of this.store.policies.values()) {
      if (!p.inline) continue;
      const k = `${p.inline.kind}\0${p.inline.owner}`;
      let list = inline.get(k);
      if (!list) inline.set(k, (list = []));
      list.push(p.name);
    }
    this.keys = keys;
    this.memberOf = memberOf;
    this.inlineByOwner = inline;
    this.builtAt = this.store.generation;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
