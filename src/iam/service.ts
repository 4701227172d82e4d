/**
 * The IAM service: root, users (with one or more access keys), groups, policies and their
 * mappings, service accounts and STS sessions, over the document store in store.ts. Every
 * admin surface (madmin, AWS IAM Query, STS, the s3gate CLI and console) is a thin adapter
 * over this class; the authenticate step uses `lookup`, the authorizer `resolveIdentity`
 * (or the ready `iam.authorizer`), and `explain` answers policy-simulate questions.
 *
 * Decisions worth knowing:
 * - One user model: `addUser(name, secret)` (mc admin user add) makes or updates the key whose
 *   access key is the name; `createUser` (aws iam create-user) makes a user without keys and
 *   `createAccessKey` adds generated keys (at most 2 per user, as AWS).
 * - Removing a user removes its service accounts, inline policies and group memberships;
 *   its STS sessions die with it (tokens carry the parent's id, which a re-created user does
 *   not share). A disabled user disables its service accounts and sessions too.
 * - A disabled group grants nothing; a user's policies = own + enabled groups'.
 * - Root may create service accounts and assume roles (as current MinIO does): those get
 *   "allow everything" narrowed by their embedded/session policy. Service accounts and STS
 *   sessions cannot create further service accounts or sessions.
 * - Inline policies (PutUserPolicy/PutGroupPolicy) are custom policies named
 *   `user:<user>:<PolicyName>` / `group:<group>:<PolicyName>`, attached to their owner,
 *   removed with it, and hidden from the AWS managed-policy lists.
 * - Size limits: custom and inline policies 20 KiB, service-account policy 16 KiB, STS
 *   session policy 2048 characters (MinIO's limits).
 */
import { randomBytes } from 'node:crypto';
import type { Credential, CredentialLookup, Principal } from '../auth/principal.js';
import { S3Error } from '../server/errors.js';
import { DEFAULT_ACCOUNT_ID } from '../policy/principal-identity.js';
import {
  generateAccessKey, generateId, generateSecretKey, USER_SECRET_MAX, validateAccessKey, validateSecretKey,
} from './credentials.js';
import { IamError } from './errors.js';
import { IdentityIndex } from './identity-index.js';
import { inlinePolicyName, validateGroupName, validatePolicyName, validateUserName } from './names.js';
import type { CompiledPolicy, ContextInput } from '../policy/index.js';
import { createPolicyAuthorizer, type BucketPolicyLookup, type Explanation, type PolicyAuthorizer } from './authorizer.js';
import type { IamPolicyEngine, IdentityPolicies } from './policy-engine.js';
import type {
  AccessKeyRecord, EnabledStatus, GroupRecord, InlineOwner, PolicyRecord, ServiceAccountRecord, UserRecord,
} from './records.js';
import { clusterIamBus, IamStore, type Bus } from './store.js';
import { issueSessionToken, tokenKeyId, verifySessionToken, type SessionClaims, type SigningKey } from './sts-token.js';

export const POLICY_MAX_BYTES = 20 * 1024;
export const SERVICE_ACCOUNT_POLICY_MAX_BYTES = 16 * 1024;
export const SESSION_POLICY_MAX_CHARS = 2048;
export const STS_MIN_DURATION = 900;
export const STS_MAX_DURATION = 604800;
export const STS_DEFAULT_DURATION = 3600;
const MAX_ACCESS_KEYS_PER_USER = 2;
const COMPILED_CACHE_MAX = 4096;

export interface IamServiceOptions {
  /** <data>/.s3gate.sys */
  sysDir: string;
  rootUser: string;
  rootPassword: string;
  /** Full re-read of <sysDir>/iam (default 5 minutes; 0 = never). */
  refreshIntervalMs?: number;
  /** Cross-worker bus (default: src/server/cluster-bus); null = none. */
  bus?: Bus | null;
  /** The policy engine adapter (default: src/policy through policy-engine-default.ts). */
  engine?: IamPolicyEngine<CompiledPolicy>;
  /** Bucket policies for explain() and the exposed authorizer (usually BucketPolicyCache.get). */
  bucketPolicy?: BucketPolicyLookup;
  /** Clock in ms (tests inject one). */
  now?: () => number;
  /** Account id in ARNs (default 000000000000, as the policy engine). */
  accountId?: string;
  log?: (level: 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface AccessKeyInfo {
  accessKey: string;
  status: 'Active' | 'Inactive';
  createdAt: Date;
}

export interface UserInfo {
  name: string;
  id: string;
  arn: string;
  path: string;
  status: EnabledStatus;
  /** Attached policy names (inline ones included, as `user:<name>:<PolicyName>`). */
  policies: string[];
  memberOf: string[];
  accessKeys: AccessKeyInfo[];
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupInfo {
  name: string;
  id: string;
  arn: string;
  path: string;
  status: EnabledStatus;
  members: string[];
  policies: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface PolicyInfo {
  name: string;
  arn: string;
  builtin: boolean;
  /** The document text. */
  document: string;
  id?: string;
  description?: string;
  inline?: InlineOwner;
  /** Users and groups the policy is attached to. */
  attachmentCount: number;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface ServiceAccountInfo {
  accessKey: string;
  parent: string;
  name?: string;
  description?: string;
  expiration?: Date;
  status: 'on' | 'off';
  /** True when there is no embedded policy: the account has exactly the parent's rights. */
  impliedPolicy: boolean;
  policy?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewServiceAccount {
  parent: string;
  accessKey?: string;
  secretKey?: string;
  name?: string;
  description?: string;
  expiration?: Date;
  policy?: string;
}

export interface ServiceAccountUpdate {
  /** New embedded policy text; null removes it (back to the parent's rights). */
  policy?: string | null;
  secretKey?: string;
  status?: 'on' | 'off';
  name?: string;
  description?: string;
  /** null = never expires. */
  expiration?: Date | null;
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  parentUser: string;
  /** AWS AssumedRoleUser: `<parent id>:<session name>` and the session ARN. */
  assumedRoleId: string;
  arn: string;
}

export interface AssumeRoleInput {
  durationSeconds?: number;
  /** Inline session policy text. */
  policy?: string;
  roleSessionName?: string;
}

export type PolicyTarget = { user: string } | { group: string };

/** What the authorizer gets for a principal (see src/iam/authorizer.ts). */
export type ResolvedIdentity<P = unknown> = 'root' | IdentityPolicies<P>;

interface SessionInfo {
  sessionPolicy?: string;
  exp: number;
}

export class IamService implements CredentialLookup {
  readonly accountId: string;
  private readonly store: IamStore;
  private readonly index: IdentityIndex;
  private readonly engine: IamPolicyEngine<CompiledPolicy>;
  /**
   * The S3 Authorizer over this service's identities (and `bucketPolicy`): the server may
   * use it directly as its Authorizer.
   */
  readonly authorizer: PolicyAuthorizer;
  private readonly now: () => number;
  private signing = new Map<string, SigningKey>();
  private currentKey!: SigningKey;
  private compiled = new Map<string, unknown>();
  /** STS session policies by the principal object lookup returned (and by key as fallback). */
  private sessionsByPrincipal = new WeakMap<Principal, SessionInfo>();
  private sessionsByKey = new Map<string, SessionInfo>();
  private mutex: Promise<unknown> = Promise.resolve();

  private constructor(private readonly opts: IamServiceOptions, engine: IamPolicyEngine<CompiledPolicy>) {
    this.accountId = opts.accountId ?? DEFAULT_ACCOUNT_ID;
    this.now = opts.now ?? Date.now;
    this.engine = engine;
    this.store = new IamStore({
      sysDir: opts.sysDir,
      refreshIntervalMs: opts.refreshIntervalMs ?? 5 * 60_000,
      bus: opts.bus === undefined ? clusterIamBus : opts.bus,
      log: opts.log,
    });
    this.index = new IdentityIndex(this.store);
    this.authorizer = createPolicyAuthorizer({
      identityPolicies: (p) => this.resolveIdentity<CompiledPolicy>(p),
      bucketPolicy: opts.bucketPolicy,
      accountId: this.accountId,
      now: () => new Date(this.now()),
    });
  }

  static async open(opts: IamServiceOptions): Promise<IamService> {
    if (!opts.rootUser || !opts.rootPassword) throw new Error('IamService needs root credentials');
    const engine = opts.engine ?? (await import('./policy-engine-default.js')).defaultPolicyEngine();
    const svc = new IamService(opts, engine);
    await svc.store.open();
    await svc.loadSigningKey();
    return svc;
  }

  close(): void {
    this.store.close();
  }

  /** Re-reads every document now (what the refresh timer does). */
  reload(): Promise<void> {
    return this.store.reloadAll();
  }

  get rootUser(): string {
    return this.opts.rootUser;
  }

  // ---------------------------------------------------------------- credentials lookup

  /**
   * CredentialLookup for the authenticate step. Returns undefined for unknown, disabled or
   * expired keys (the caller answers InvalidAccessKeyId). With a session token it validates
   * the token itself and throws S3Error ExpiredToken (expired) or InvalidToken (bad token,
   * token for another key, or a token sent with a long-term key).
   */
  async lookup(accessKey: string, sessionToken?: string): Promise<Credential | undefined> {
    if (sessionToken) return this.lookupSession(accessKey, sessionToken);
    if (accessKey === this.opts.rootUser) {
      return { accessKey, secretKey: this.opts.rootPassword, principal: this.rootPrincipal() };
    }
    const owner = this.index.owner(accessKey);
    if (!owner) return undefined;
    if (owner.kind === 'user') {
      const user = this.store.users.get(owner.name);
      const key = user?.accessKeys.find((k) => k.accessKey === accessKey);
      if (!user || !key || user.status !== 'enabled' || key.status !== 'Active') return undefined;
      return {
        accessKey,
        secretKey: key.secretKey,
        principal: { kind: 'user', accessKey, username: user.name, userId: user.id },
      };
    }
    const sa = this.store.svcs.get(owner.accessKey);
    if (!sa || sa.status !== 'on') return undefined;
    const expiresAt = sa.expiration ? new Date(sa.expiration) : undefined;
    if (expiresAt && expiresAt.getTime() <= this.now()) return undefined;
    const parentId = this.activeParentId(sa.parent);
    if (parentId === undefined || parentId !== sa.parentId) return undefined;
    return {
      accessKey,
      secretKey: sa.secretKey,
      expiresAt,
      principal: { kind: 'serviceAccount', accessKey, username: sa.parent, userId: parentId, parentUser: sa.parent },
    };
  }

  private async lookupSession(accessKey: string, token: string): Promise<Credential | undefined> {
    const kid = tokenKeyId(token);
    if (kid && !this.signing.has(kid)) await this.loadSigningKey();
    const check = verifySessionToken(token, (id) => this.signing.get(id));
    if (!check.ok) throw new S3Error('InvalidToken');
    const c = check.claims;
    if (c.ak !== accessKey) throw new S3Error('InvalidToken');
    if (c.exp * 1000 <= this.now()) throw new S3Error('ExpiredToken');
    let parentId = this.activeParentId(c.sub);
    if (parentId !== c.pid && c.sub !== this.opts.rootUser) {
      // Another instance on this data dir may have made the parent after our last refresh:
      // one read of its document (only for a validly signed token) instead of waiting.
      await this.store.readFresh('user', c.sub);
      parentId = this.activeParentId(c.sub);
    }
    if (parentId === undefined || parentId !== c.pid) return undefined;
    const principal: Principal = { kind: 'sts', accessKey, username: c.sub, userId: parentId, parentUser: c.sub, sessionName: c.rsn };
    const info: SessionInfo = { sessionPolicy: c.sp, exp: c.exp };
    this.sessionsByPrincipal.set(principal, info);
    this.rememberSession(accessKey, info);
    return { accessKey, secretKey: check.secretKey, sessionToken: token, expiresAt: new Date(c.exp * 1000), principal };
  }

  /** The id of an enabled parent (root or user), or undefined when gone or disabled. */
  private activeParentId(name: string): string | undefined {
    if (name === this.opts.rootUser) return this.rootId();
    const u = this.store.users.get(name);
    return u && u.status === 'enabled' ? u.id : undefined;
  }

  private rootId(): string {
    return this.opts.rootUser;
  }

  rootPrincipal(): Principal {
    const name = this.opts.rootUser;
    return { kind: 'root', accessKey: name, username: name, userId: this.rootId() };
  }

  private rememberSession(accessKey: string, info: SessionInfo): void {
    this.sessionsByKey.delete(accessKey);
    this.sessionsByKey.set(accessKey, info);
    if (this.sessionsByKey.size > 10_000) {
      const oldest = this.sessionsByKey.keys().next().value;
      if (oldest !== undefined) this.sessionsByKey.delete(oldest);
    }
  }

  // ---------------------------------------------------------------- authorization support

  /**
   * The identity policies the authorizer evaluates for a principal: 'root' for the owner,
   * else the (compiled) policies of the user and its enabled groups — of the parent for
   * service accounts and STS sessions — plus the narrowing embedded/session policy.
   * Unknown or disabled identities get no policies (deny). Never touches the disk.
   */
  resolveIdentity<P = unknown>(principal: Principal): ResolvedIdentity<P> {
    const none: IdentityPolicies<P> = { policies: [] };
    switch (principal.kind) {
      case 'root':
        return principal.accessKey === this.opts.rootUser ? 'root' : none;
      case 'anonymous':
        return none;
      case 'user': {
        const u = this.store.users.get(principal.username);
        if (!u || u.status !== 'enabled' || u.id !== principal.userId) return none;
        return { policies: this.compiledPoliciesOf(u.name) as IdentityPolicies<P>['policies'] };
      }
      case 'serviceAccount': {
        const sa = this.store.svcs.get(principal.accessKey);
        if (!sa || sa.status !== 'on' || this.activeParentId(sa.parent) !== sa.parentId) return none;
        const base = this.parentPolicies(sa.parent) as IdentityPolicies<P>['policies'];
        if (sa.policy === undefined) return { policies: base };
        return { policies: base, sessionPolicy: { name: `service-account:${sa.accessKey}`, policy: this.compileCached(sa.policy, `service-account:${sa.accessKey}`, 'session', SERVICE_ACCOUNT_POLICY_MAX_BYTES) as P } };
      }
      case 'sts': {
        const info = this.sessionsByPrincipal.get(principal) ?? this.sessionsByKey.get(principal.accessKey);
        // No record of the session (it was not looked up here): fail closed.
        if (!info || info.exp * 1000 <= this.now()) return none;
        const parent = principal.parentUser ?? principal.username;
        if (this.activeParentId(parent) !== principal.userId) return none;
        const base = this.parentPolicies(parent) as IdentityPolicies<P>['policies'];
        if (info.sessionPolicy === undefined) return { policies: base };
        return { policies: base, sessionPolicy: { name: 'session-policy', policy: this.compileCached(info.sessionPolicy, 'session-policy', 'session', SESSION_POLICY_MAX_CHARS * 4) as P } };
      }
    }
  }

  /**
   * Allow or deny, and which statement of which policy decided, for a principal, action,
   * resource ARN and condition context (policy simulate). Delegates to the policy
   * authorizer, so a bucket policy (when `bucketPolicy` was given) counts as it would for
   * a real request.
   */
  explain(principal: Principal, action: string, resource?: string, context?: ContextInput): Promise<Explanation> {
    return this.authorizer.explainAction({ principal, action, resource, context });
  }

  /** explain(...).allowed, e.g. for adapters that check admin: actions. */
  async isAllowed(principal: Principal, action: string, resource?: string, context?: ContextInput): Promise<boolean> {
    return (await this.explain(principal, action, resource, context)).allowed;
  }

  private parentPolicies(parent: string): { name: string; policy: unknown }[] {
    if (parent === this.opts.rootUser) return [{ name: 'root', policy: this.engine.allowAll }];
    return this.compiledPoliciesOf(parent);
  }

  private compiledPoliciesOf(user: string): { name: string; policy: unknown }[] {
    const out: { name: string; policy: unknown }[] = [];
    for (const name of this.effectivePolicyNames(user)) {
      const text = this.policyText(name);
      if (text === undefined) continue;
      try {
        out.push({ name, policy: this.compileCached(text, name, 'identity', Number.MAX_SAFE_INTEGER) });
      } catch (e) {
        // Skipping it could drop a Deny: fail closed instead.
        this.log('warn', 'stored policy does not compile, it denies everything', { policy: name, error: String(e) });
        out.push({ name, policy: this.engine.invalid(name, text, String((e as Error)?.message ?? e)) });
      }
    }
    return out;
  }

  /** A user's effective policy names: own, then each enabled group's, without repeats. */
  effectivePolicyNames(user: string): string[] {
    const u = this.store.users.get(user);
    if (!u) return [];
    const names = new Set(u.policies);
    for (const g of this.index.groupsOf(user)) {
      const group = this.store.groups.get(g);
      if (group?.status === 'enabled') for (const p of group.policies) names.add(p);
    }
    return [...names];
  }

  private policyText(name: string): string | undefined {
    return this.store.policies.get(name)?.document ?? this.engine.builtins.get(name);
  }

  private compileCached(text: string, name: string, kind: 'identity' | 'session', maxBytes: number): unknown {
    const cacheKey = `${kind}\0${name}\0${text}`;
    const hit = this.compiled.get(cacheKey);
    if (hit !== undefined) return hit;
    const c = this.engine.compile(text, { name, kind, maxBytes });
    if (this.compiled.size >= COMPILED_CACHE_MAX) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    this.compiled.set(cacheKey, c);
    return c;
  }

  /** Validates policy text, mapping engine errors to IamError. */
  private validatePolicy(text: string, name: string, kind: 'identity' | 'session', maxBytes: number): void {
    if (typeof text !== 'string' || text.trim() === '') throw new IamError('MalformedPolicy', 'policy document is empty');
    if (Buffer.byteLength(text) > maxBytes) throw new IamError('PolicyTooLarge', `policy document exceeds ${maxBytes} bytes`);
    try {
      this.compileCached(text, name, kind, maxBytes);
    } catch (e: any) {
      const code = e?.code === 'PolicyTooLarge' ? 'PolicyTooLarge' : 'MalformedPolicy';
      throw new IamError(code, e?.message ? String(e.message) : 'invalid policy document');
    }
  }

  // ---------------------------------------------------------------- users

  /**
   * MinIO `user add`: creates the user, or updates its password, with the name as access
   * key. Policies and group memberships of an existing user are kept.
   */
  addUser(name: string, secretKey: string, opts: { status?: EnabledStatus; policies?: string[] } = {}): Promise<UserInfo> {
    return this.exclusive(async () => {
      this.checkNotRoot(name);
      validateUserName(name);
      validateAccessKey(name, 64);
      validateSecretKey(secretKey, USER_SECRET_MAX);
      if (opts.policies) this.checkPoliciesExist(opts.policies);
      const owner = this.index.owner(name);
      if (owner && !(owner.kind === 'user' && owner.name === name)) {
        throw new IamError('AccessKeyInUse', `access key '${name}' is already in use`);
      }
      const now = this.isoNow();
      const existing = await this.store.readFresh('user', name);
      const user: UserRecord = existing ?? this.newUserRecord(name, now);
      const key = user.accessKeys.find((k) => k.accessKey === name);
      if (key) {
        key.secretKey = secretKey;
        key.status = 'Active';
      } else {
        user.accessKeys.unshift({ accessKey: name, secretKey, status: 'Active', createdAt: now });
      }
      if (opts.status) user.status = opts.status;
      if (opts.policies) user.policies = dedupe(opts.policies);
      user.updatedAt = now;
      await this.store.put('user', name, user);
      return this.userInfo(user);
    });
  }

  /** AWS CreateUser: a user without access keys. */
  createUser(name: string, opts: { path?: string } = {}): Promise<UserInfo> {
    return this.exclusive(async () => {
      this.checkNotRoot(name);
      validateUserName(name);
      const path = validatePath(opts.path);
      if (await this.store.readFresh('user', name)) throw new IamError('UserAlreadyExists', `user '${name}' already exists`);
      const owner = this.index.owner(name);
      if (owner) throw new IamError('AccessKeyInUse', `'${name}' is already in use as an access key`);
      const user = this.newUserRecord(name, this.isoNow(), path);
      await this.store.put('user', name, user);
      return this.userInfo(user);
    });
  }

  /** Removes the user with its service accounts, inline policies and group memberships. */
  removeUser(name: string): Promise<void> {
    return this.exclusive(async () => {
      this.checkNotRoot(name);
      const user = await this.store.readFresh('user', name);
      if (!user) throw new IamError('NoSuchUser', `user '${name}' does not exist`);
      for (const sa of [...this.store.svcs.values()]) if (sa.parent === name) await this.store.remove('svc', sa.accessKey);
      for (const g of [...this.index.groupsOf(name)]) {
        const group = await this.store.readFresh('group', g);
        if (!group) continue;
        group.members = group.members.filter((m) => m !== name);
        group.updatedAt = this.isoNow();
        await this.store.put('group', g, group);
      }
      for (const p of [...this.index.inlinePolicies('user', name)]) await this.store.remove('policy', p);
      await this.store.remove('user', name);
    });
  }

  listUsers(): UserInfo[] {
    return [...this.store.users.values()].sort(byName).map((u) => this.userInfo(u));
  }

  getUser(name: string): UserInfo {
    return this.userInfo(this.requireUser(name));
  }

  /** True for a regular user (not root, not a service account or STS key). */
  hasUser(name: string): boolean {
    return this.store.users.has(name);
  }

  setUserStatus(name: string, status: EnabledStatus): Promise<void> {
    return this.exclusive(async () => {
      this.checkNotRoot(name);
      checkStatus(status);
      const user = await this.freshUser(name);
      user.status = status;
      user.updatedAt = this.isoNow();
      await this.store.put('user', name, user);
    });
  }

  /** AWS CreateAccessKey: a generated (or chosen) key pair for an existing user. */
  createAccessKey(user: string, opts: { accessKey?: string; secretKey?: string } = {}): Promise<AccessKeyInfo & { secretKey: string }> {
    return this.exclusive(async () => {
      this.checkNotRoot(user);
      const u = await this.freshUser(user);
      if (u.accessKeys.length >= MAX_ACCESS_KEYS_PER_USER) {
        throw new IamError('LimitExceeded', `cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS_PER_USER}`);
      }
      const accessKey = opts.accessKey ?? this.freshAccessKey();
      const secretKey = opts.secretKey ?? generateSecretKey();
      if (opts.accessKey !== undefined) { validateAccessKey(accessKey); this.checkKeyFree(accessKey); }
      if (opts.secretKey !== undefined) validateSecretKey(secretKey);
      const rec: AccessKeyRecord = { accessKey, secretKey, status: 'Active', createdAt: this.isoNow() };
      u.accessKeys.push(rec);
      u.updatedAt = rec.createdAt;
      await this.store.put('user', user, u);
      return { accessKey, secretKey, status: rec.status, createdAt: new Date(rec.createdAt) };
    });
  }

  listAccessKeys(user: string): AccessKeyInfo[] {
    return this.requireUser(user).accessKeys.map(keyInfo);
  }

  deleteAccessKey(user: string, accessKey: string): Promise<void> {
    return this.editAccessKey(user, accessKey, (u) => { u.accessKeys = u.accessKeys.filter((k) => k.accessKey !== accessKey); });
  }

  updateAccessKey(user: string, accessKey: string, status: 'Active' | 'Inactive'): Promise<void> {
    if (status !== 'Active' && status !== 'Inactive') return Promise.reject(new IamError('InvalidArgument', `status must be Active or Inactive, not '${String(status)}'`));
    return this.editAccessKey(user, accessKey, (u) => { u.accessKeys.find((k) => k.accessKey === accessKey)!.status = status; });
  }

  /** The user that owns a long-term access key (user keys only). */
  userForAccessKey(accessKey: string): string | undefined {
    const o = this.index.owner(accessKey);
    return o?.kind === 'user' ? o.name : undefined;
  }

  private editAccessKey(user: string, accessKey: string, edit: (u: UserRecord) => void): Promise<void> {
    return this.exclusive(async () => {
      this.checkNotRoot(user);
      const u = await this.freshUser(user);
      if (!u.accessKeys.some((k) => k.accessKey === accessKey)) {
        throw new IamError('NoSuchAccessKey', `the access key '${accessKey}' does not exist for user '${user}'`);
      }
      edit(u);
      u.updatedAt = this.isoNow();
      await this.store.put('user', user, u);
    });
  }

  private newUserRecord(name: string, now: string, path = '/'): UserRecord {
    return { version: 1, name, id: generateId('AIDA'), status: 'enabled', accessKeys: [], policies: [], path, createdAt: now, updatedAt: now };
  }

  private userInfo(u: UserRecord): UserInfo {
    return {
      name: u.name,
      id: u.id,
      arn: `arn:aws:iam::${this.accountId}:user${u.path}${u.name}`,
      path: u.path,
      status: u.status,
      policies: [...u.policies],
      memberOf: [...this.index.groupsOf(u.name)],
      accessKeys: u.accessKeys.map(keyInfo),
      createdAt: new Date(u.createdAt),
      updatedAt: new Date(u.updatedAt),
    };
  }

  private requireUser(name: string): UserRecord {
    const u = this.store.users.get(name);
    if (!u) throw new IamError('NoSuchUser', `user '${name}' does not exist`);
    return u;
  }

  private async freshUser(name: string): Promise<UserRecord> {
    const u = await this.store.readFresh('user', name);
    if (!u) throw new IamError('NoSuchUser', `user '${name}' does not exist`);
    return u;
  }

  // ---------------------------------------------------------------- groups

  /** AWS CreateGroup: an empty enabled group. */
  createGroup(name: string, opts: { path?: string } = {}): Promise<GroupInfo> {
    return this.exclusive(async () => {
      validateGroupName(name);
      const path = validatePath(opts.path);
      if (await this.store.readFresh('group', name)) throw new IamError('GroupAlreadyExists', `group '${name}' already exists`);
      const g = this.newGroupRecord(name, path);
      await this.store.put('group', name, g);
      return this.groupInfo(g);
    });
  }

  /** MinIO `group add`: adds existing users, creating the group (enabled) when absent. */
  addGroupMembers(name: string, members: string[]): Promise<GroupInfo> {
    return this.exclusive(async () => {
      validateGroupName(name);
      for (const m of members) {
        if (!this.store.users.has(m)) throw new IamError('NoSuchUser', `user '${m}' does not exist`);
      }
      const g = (await this.store.readFresh('group', name)) ?? this.newGroupRecord(name);
      g.members = dedupe([...g.members, ...members]);
      g.updatedAt = this.isoNow();
      await this.store.put('group', name, g);
      return this.groupInfo(g);
    });
  }

  /** Removes the named members (names that are not members are ignored). */
  removeGroupMembers(name: string, members: string[]): Promise<GroupInfo> {
    return this.exclusive(async () => {
      const g = await this.freshGroup(name);
      const drop = new Set(members);
      g.members = g.members.filter((m) => !drop.has(m));
      g.updatedAt = this.isoNow();
      await this.store.put('group', name, g);
      return this.groupInfo(g);
    });
  }

  /** Removes an empty group with its inline policies (GroupNotEmpty while it has members). */
  removeGroup(name: string): Promise<void> {
    return this.exclusive(async () => {
      const g = await this.freshGroup(name);
      if (g.members.length > 0) throw new IamError('GroupNotEmpty', `group '${name}' is not empty`);
      for (const p of [...this.index.inlinePolicies('group', name)]) await this.store.remove('policy', p);
      await this.store.remove('group', name);
    });
  }

  listGroups(): GroupInfo[] {
    return [...this.store.groups.values()].sort(byName).map((g) => this.groupInfo(g));
  }

  getGroup(name: string): GroupInfo {
    const g = this.store.groups.get(name);
    if (!g) throw new IamError('NoSuchGroup', `group '${name}' does not exist`);
    return this.groupInfo(g);
  }

  setGroupStatus(name: string, status: EnabledStatus): Promise<void> {
    return this.exclusive(async () => {
      checkStatus(status);
      const g = await this.freshGroup(name);
      g.status = status;
      g.updatedAt = this.isoNow();
      await this.store.put('group', name, g);
    });
  }

  groupsForUser(user: string): string[] {
    this.requireUser(user);
    return [...this.index.groupsOf(user)];
  }

  private newGroupRecord(name: string, path = '/'): GroupRecord {
    const now = this.isoNow();
    return { version: 1, name, id: generateId('AGPA'), status: 'enabled', members: [], policies: [], path, createdAt: now, updatedAt: now };
  }

  private groupInfo(g: GroupRecord): GroupInfo {
    return {
      name: g.name,
      id: g.id,
      arn: `arn:aws:iam::${this.accountId}:group${g.path}${g.name}`,
      path: g.path,
      status: g.status,
      members: [...g.members],
      policies: [...g.policies],
      createdAt: new Date(g.createdAt),
      updatedAt: new Date(g.updatedAt),
    };
  }

  private async freshGroup(name: string): Promise<GroupRecord> {
    const g = await this.store.readFresh('group', name);
    if (!g) throw new IamError('NoSuchGroup', `group '${name}' does not exist`);
    return g;
  }

  // ---------------------------------------------------------------- policies

  /** Built-in and custom policies (inline ones included; adapters filter on `inline`). */
  listPolicies(): PolicyInfo[] {
    const out: PolicyInfo[] = [];
    for (const [name, document] of this.engine.builtins) out.push(this.builtinInfo(name, document));
    for (const p of [...this.store.policies.values()].sort(byName)) out.push(this.policyInfo(p));
    return out;
  }

  getPolicy(name: string): PolicyInfo {
    const p = this.store.policies.get(name);
    if (p) return this.policyInfo(p);
    const b = this.engine.builtins.get(name);
    if (b !== undefined) return this.builtinInfo(name, b);
    throw new IamError('NoSuchPolicy', `policy '${name}' does not exist`);
  }

  isBuiltinPolicy(name: string): boolean {
    return this.engine.builtins.has(name);
  }

  /**
   * Adds or replaces a custom policy after validating it with the policy engine.
   * `createOnly` (AWS CreatePolicy) refuses an existing name.
   */
  putPolicy(name: string, document: string, opts: { createOnly?: boolean; description?: string } = {}): Promise<PolicyInfo> {
    return this.exclusive(async () => {
      validatePolicyName(name);
      if (this.engine.builtins.has(name)) throw new IamError('NotAllowed', `'${name}' is a built-in policy and cannot be changed`);
      this.validatePolicy(document, name, 'identity', POLICY_MAX_BYTES);
      const now = this.isoNow();
      const existing = await this.store.readFresh('policy', name);
      if (existing && opts.createOnly) throw new IamError('PolicyAlreadyExists', `policy '${name}' already exists`);
      const rec: PolicyRecord = existing
        ? { ...existing, document, updatedAt: now, ...(opts.description !== undefined ? { description: opts.description } : {}) }
        : { version: 1, name, id: generateId('ANPA'), document, createdAt: now, updatedAt: now, ...(opts.description !== undefined ? { description: opts.description } : {}) };
      await this.store.put('policy', name, rec);
      return this.policyInfo(rec);
    });
  }

  /** Removes a custom policy and unmaps it from every user and group. */
  removePolicy(name: string): Promise<void> {
    return this.exclusive(async () => {
      if (this.engine.builtins.has(name)) throw new IamError('NotAllowed', `'${name}' is a built-in policy and cannot be removed`);
      if (!(await this.store.readFresh('policy', name))) throw new IamError('NoSuchPolicy', `policy '${name}' does not exist`);
      await this.unmapEverywhere(name);
      await this.store.remove('policy', name);
    });
  }

  /** Replaces the policy list of a user or group (MinIO set-user-or-group-policy); [] clears it. */
  setPolicies(target: PolicyTarget, names: string[]): Promise<string[]> {
    return this.exclusive(async () => {
      this.checkPoliciesExist(names);
      const policies = dedupe(names);
      await this.editMapping(target, () => policies);
      return policies;
    });
  }

  /** Attaches policies; returns the names that were not attached before. */
  attachPolicies(target: PolicyTarget, names: string[]): Promise<string[]> {
    return this.exclusive(async () => {
      this.checkPoliciesExist(names);
      let added: string[] = [];
      await this.editMapping(target, (cur) => {
        added = dedupe(names).filter((n) => !cur.includes(n));
        return [...cur, ...added];
      });
      return added;
    });
  }

  /** Detaches policies; returns the names that were attached. */
  detachPolicies(target: PolicyTarget, names: string[]): Promise<string[]> {
    return this.exclusive(async () => {
      let removed: string[] = [];
      await this.editMapping(target, (cur) => {
        removed = cur.filter((n) => names.includes(n));
        return cur.filter((n) => !names.includes(n));
      });
      return removed;
    });
  }

  /** Policies attached directly to a user or group. */
  attachedPolicies(target: PolicyTarget): string[] {
    if ('user' in target) return [...this.requireUser(target.user).policies];
    const g = this.store.groups.get(target.group);
    if (!g) throw new IamError('NoSuchGroup', `group '${target.group}' does not exist`);
    return [...g.policies];
  }

  /** Users and groups a policy is attached to. */
  policyEntities(name: string): { users: string[]; groups: string[] } {
    return {
      users: [...this.store.users.values()].filter((u) => u.policies.includes(name)).map((u) => u.name).sort(),
      groups: [...this.store.groups.values()].filter((g) => g.policies.includes(name)).map((g) => g.name).sort(),
    };
  }

  // Inline policies (AWS PutUserPolicy & co.), stored as custom policies owned by the entity.

  putInlinePolicy(kind: 'user' | 'group', owner: string, policyName: string, document: string): Promise<void> {
    return this.exclusive(async () => {
      validatePolicyName(policyName);
      this.requireEntity(kind, owner);
      const name = inlinePolicyName(kind, owner, policyName);
      this.validatePolicy(document, name, 'identity', POLICY_MAX_BYTES);
      const now = this.isoNow();
      const existing = await this.store.readFresh('policy', name);
      const rec: PolicyRecord = existing
        ? { ...existing, document, updatedAt: now }
        : { version: 1, name, id: generateId('ANPA'), document, inline: { kind, owner, name: policyName }, createdAt: now, updatedAt: now };
      await this.store.put('policy', name, rec);
      await this.editMapping(kind === 'user' ? { user: owner } : { group: owner }, (cur) => (cur.includes(name) ? cur : [...cur, name]));
    });
  }

  getInlinePolicy(kind: 'user' | 'group', owner: string, policyName: string): string {
    this.requireEntity(kind, owner);
    const p = this.store.policies.get(inlinePolicyName(kind, owner, policyName));
    if (!p?.inline) throw new IamError('NoSuchPolicy', `the ${kind} policy with name ${policyName} cannot be found`);
    return p.document;
  }

  /** PolicyNames (as the client chose them) of an entity's inline policies. */
  listInlinePolicies(kind: 'user' | 'group', owner: string): string[] {
    this.requireEntity(kind, owner);
    return this.index.inlinePolicies(kind, owner).map((n) => this.store.policies.get(n)?.inline?.name).filter((n): n is string => !!n).sort();
  }

  deleteInlinePolicy(kind: 'user' | 'group', owner: string, policyName: string): Promise<void> {
    return this.exclusive(async () => {
      this.requireEntity(kind, owner);
      const name = inlinePolicyName(kind, owner, policyName);
      const p = await this.store.readFresh('policy', name);
      if (!p?.inline) throw new IamError('NoSuchPolicy', `the ${kind} policy with name ${policyName} cannot be found`);
      await this.editMapping(kind === 'user' ? { user: owner } : { group: owner }, (cur) => cur.filter((n) => n !== name));
      await this.store.remove('policy', name);
    });
  }

  private requireEntity(kind: 'user' | 'group', owner: string): void {
    if (kind === 'user') this.requireUser(owner);
    else if (!this.store.groups.has(owner)) throw new IamError('NoSuchGroup', `group '${owner}' does not exist`);
  }

  private async editMapping(target: PolicyTarget, edit: (current: string[]) => string[]): Promise<void> {
    const now = this.isoNow();
    if ('user' in target) {
      this.checkNotRoot(target.user);
      const u = await this.freshUser(target.user);
      u.policies = edit(u.policies);
      u.updatedAt = now;
      await this.store.put('user', u.name, u);
    } else {
      const g = await this.freshGroup(target.group);
      g.policies = edit(g.policies);
      g.updatedAt = now;
      await this.store.put('group', g.name, g);
    }
  }

  private async unmapEverywhere(name: string): Promise<void> {
    for (const u of [...this.store.users.values()]) {
      if (!u.policies.includes(name)) continue;
      const fresh = await this.store.readFresh('user', u.name);
      if (!fresh) continue;
      fresh.policies = fresh.policies.filter((p) => p !== name);
      await this.store.put('user', u.name, fresh);
    }
    for (const g of [...this.store.groups.values()]) {
      if (!g.policies.includes(name)) continue;
      const fresh = await this.store.readFresh('group', g.name);
      if (!fresh) continue;
      fresh.policies = fresh.policies.filter((p) => p !== name);
      await this.store.put('group', g.name, fresh);
    }
  }

  private checkPoliciesExist(names: string[]): void {
    for (const n of names) {
      if (!this.store.policies.has(n) && !this.engine.builtins.has(n)) throw new IamError('NoSuchPolicy', `policy '${n}' does not exist`);
    }
  }

  private builtinInfo(name: string, document: string): PolicyInfo {
    return { name, arn: `arn:aws:iam::aws:policy/${name}`, builtin: true, document, attachmentCount: this.attachmentCount(name) };
  }

  private policyInfo(p: PolicyRecord): PolicyInfo {
    return {
      name: p.name,
      arn: `arn:aws:iam::${this.accountId}:policy/${p.name}`,
      builtin: false,
      document: p.document,
      id: p.id,
      ...(p.description !== undefined ? { description: p.description } : {}),
      ...(p.inline ? { inline: { ...p.inline } } : {}),
      attachmentCount: this.attachmentCount(p.name),
      createdAt: new Date(p.createdAt),
      updatedAt: new Date(p.updatedAt),
    };
  }

  private attachmentCount(name: string): number {
    let n = 0;
    for (const u of this.store.users.values()) if (u.policies.includes(name)) n++;
    for (const g of this.store.groups.values()) if (g.policies.includes(name)) n++;
    return n;
  }

  // ---------------------------------------------------------------- service accounts

  /**
   * Creates a service account for `parent` (a user or root). Keys are generated unless
   * given (access 3..20, secret 8..40 chars); `policy` can only narrow the parent's rights.
   * Returns the info plus the secret (shown once).
   */
  addServiceAccount(input: NewServiceAccount): Promise<ServiceAccountInfo & { secretKey: string }> {
    return this.exclusive(async () => {
      const parentId = this.parentIdForNew(input.parent);
      const accessKey = input.accessKey ?? this.freshAccessKey();
      const secretKey = input.secretKey ?? generateSecretKey();
      if (input.accessKey !== undefined) { validateAccessKey(accessKey); this.checkKeyFree(accessKey); }
      if (input.secretKey !== undefined) validateSecretKey(secretKey);
      checkSvcMeta(input.name, input.description);
      if (input.expiration !== undefined) this.checkExpiration(input.expiration);
      if (input.policy !== undefined) this.validatePolicy(input.policy, `service-account:${accessKey}`, 'session', SERVICE_ACCOUNT_POLICY_MAX_BYTES);
      const now = this.isoNow();
      const rec: ServiceAccountRecord = {
        version: 1, accessKey, secretKey, parent: input.parent, parentId, status: 'on', createdAt: now, updatedAt: now,
        ...(input.name ? { name: input.name } : {}),
        ...(input.description ? { description: input.description } : {}),
        ...(input.expiration ? { expiration: input.expiration.toISOString() } : {}),
        ...(input.policy !== undefined ? { policy: input.policy } : {}),
      };
      await this.store.put('svc', accessKey, rec);
      return { ...svcInfo(rec), secretKey };
    });
  }

  /** Service accounts of a parent user (or root), sorted by access key. */
  listServiceAccounts(parent: string): ServiceAccountInfo[] {
    return [...this.store.svcs.values()].filter((s) => s.parent === parent).sort((a, b) => cmp(a.accessKey, b.accessKey)).map(svcInfo);
  }

  getServiceAccount(accessKey: string): ServiceAccountInfo {
    const s = this.store.svcs.get(accessKey);
    if (!s) throw new IamError('NoSuchServiceAccount', `service account '${accessKey}' does not exist`);
    return svcInfo(s);
  }

  updateServiceAccount(accessKey: string, update: ServiceAccountUpdate): Promise<ServiceAccountInfo> {
    return this.exclusive(async () => {
      const s = await this.store.readFresh('svc', accessKey);
      if (!s) throw new IamError('NoSuchServiceAccount', `service account '${accessKey}' does not exist`);
      if (update.status !== undefined && update.status !== 'on' && update.status !== 'off') {
        throw new IamError('InvalidArgument', `status must be 'on' or 'off', not '${String(update.status)}'`);
      }
      if (update.secretKey !== undefined) validateSecretKey(update.secretKey);
      if (update.policy !== undefined && update.policy !== null) this.validatePolicy(update.policy, `service-account:${accessKey}`, 'session', SERVICE_ACCOUNT_POLICY_MAX_BYTES);
      checkSvcMeta(update.name, update.description);
      if (update.expiration) this.checkExpiration(update.expiration);
      if (update.status !== undefined) s.status = update.status;
      if (update.secretKey !== undefined) s.secretKey = update.secretKey;
      if (update.policy === null) delete s.policy;
      else if (update.policy !== undefined) s.policy = update.policy;
      if (update.name !== undefined) { if (update.name) s.name = update.name; else delete s.name; }
      if (update.description !== undefined) { if (update.description) s.description = update.description; else delete s.description; }
      if (update.expiration === null) delete s.expiration;
      else if (update.expiration !== undefined) s.expiration = update.expiration.toISOString();
      s.updatedAt = this.isoNow();
      await this.store.put('svc', accessKey, s);
      return svcInfo(s);
    });
  }

  removeServiceAccount(accessKey: string): Promise<void> {
    return this.exclusive(async () => {
      if (!(await this.store.readFresh('svc', accessKey))) throw new IamError('NoSuchServiceAccount', `service account '${accessKey}' does not exist`);
      await this.store.remove('svc', accessKey);
    });
  }

  private parentIdForNew(parent: string): string {
    if (parent === this.opts.rootUser) return this.rootId();
    const u = this.store.users.get(parent);
    if (!u) throw new IamError('NoSuchUser', `user '${parent}' does not exist`);
    return u.id;
  }

  private checkExpiration(d: Date): void {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new IamError('InvalidArgument', 'invalid expiration');
    if (d.getTime() <= this.now()) throw new IamError('InvalidArgument', 'expiration must be in the future');
  }

  // ---------------------------------------------------------------- STS

  /**
   * AssumeRole for an authenticated caller: IAM users and root (not service accounts or
   * STS sessions). The session has the parent's current rights, narrowed by `policy`.
   */
  async assumeRole(caller: Principal, input: AssumeRoleInput = {}): Promise<TemporaryCredentials> {
    if (caller.kind !== 'user' && caller.kind !== 'root') {
      throw new IamError('AccessDenied', 'Generating temporary credentials not allowed for this request.');
    }
    const parent = caller.username;
    const parentId = this.activeParentId(parent);
    if (parentId === undefined || (caller.kind === 'user' && parentId !== caller.userId)) {
      throw new IamError('AccessDenied', 'the calling identity is unknown or disabled');
    }
    const duration = input.durationSeconds ?? STS_DEFAULT_DURATION;
    if (!Number.isInteger(duration) || duration < STS_MIN_DURATION || duration > STS_MAX_DURATION) {
      throw new IamError('InvalidArgument', `DurationSeconds must be an integer between ${STS_MIN_DURATION} and ${STS_MAX_DURATION}`);
    }
    if (input.policy !== undefined) {
      if (input.policy.length > SESSION_POLICY_MAX_CHARS) {
        throw new IamError('PolicyTooLarge', `session policy is longer than ${SESSION_POLICY_MAX_CHARS} characters`);
      }
      this.validatePolicy(input.policy, 'session-policy', 'session', SESSION_POLICY_MAX_CHARS * 4);
    }
    const iat = Math.floor(this.now() / 1000);
    const claims: SessionClaims = {
      ak: generateAccessKey(),
      sub: parent,
      pid: parentId,
      iat,
      exp: iat + duration,
      jti: randomBytes(12).toString('base64url'),
      ...(input.policy !== undefined ? { sp: input.policy } : {}),
      ...(input.roleSessionName ? { rsn: input.roleSessionName } : {}),
    };
    const { token, secretKey } = issueSessionToken(this.currentKey, claims);
    return {
      accessKeyId: claims.ak,
      secretAccessKey: secretKey,
      sessionToken: token,
      expiration: new Date(claims.exp * 1000),
      parentUser: parent,
      assumedRoleId: `${parentId}:${input.roleSessionName || claims.ak}`,
      arn: `arn:aws:sts::${this.accountId}:assumed-role/${parent}/${input.roleSessionName || claims.ak}`,
    };
  }

  private async loadSigningKey(): Promise<void> {
    const rec = await this.store.signingKey();
    const key: SigningKey = { id: rec.id, key: Buffer.from(rec.key, 'base64') };
    this.signing.set(key.id, key);
    this.currentKey = key;
  }

  // ---------------------------------------------------------------- helpers

  private checkNotRoot(name: string): void {
    if (name === this.opts.rootUser) throw new IamError('NotAllowed', 'the root user cannot be changed through IAM');
  }

  private checkKeyFree(accessKey: string): void {
    if (accessKey === this.opts.rootUser || this.index.owner(accessKey)) {
      throw new IamError('AccessKeyInUse', `access key '${accessKey}' is already in use`);
    }
  }

  private freshAccessKey(): string {
    for (;;) {
      const k = generateAccessKey();
      if (k !== this.opts.rootUser && !this.index.owner(k) && !this.store.users.has(k)) return k;
    }
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  /** Serializes mutations in this process (read-modify-write of one document at a time). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(fn, fn);
    this.mutex = run.catch(() => undefined);
    return run;
  }

  private log(level: 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    if (this.opts.log) this.opts.log(level, msg, fields);
    else console.error(JSON.stringify({ level, msg, ...fields }));
  }
}

function keyInfo(k: AccessKeyRecord): AccessKeyInfo {
  return { accessKey: k.accessKey, status: k.status, createdAt: new Date(k.createdAt) };
}

function svcInfo(s: ServiceAccountRecord): ServiceAccountInfo {
  return {
    accessKey: s.accessKey,
    parent: s.parent,
    ...(s.name ? { name: s.name } : {}),
    ...(s.description ? { description: s.description } : {}),
    ...(s.expiration ? { expiration: new Date(s.expiration) } : {}),
    status: s.status,
    impliedPolicy: s.policy === undefined,
    ...(s.policy !== undefined ? { policy: s.policy } : {}),
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  };
}

function checkStatus(status: string): void {
  if (status !== 'enabled' && status !== 'disabled') throw new IamError('InvalidArgument', `status must be 'enabled' or 'disabled', not '${status}'`);
}

/** MinIO's limits: name up to 32 characters, description up to 256. */
function checkSvcMeta(name?: string, description?: string): void {
  if (name !== undefined && (name.length > 32 || [...name].some((ch) => ch.charCodeAt(0) < 0x20))) throw new IamError('InvalidArgument', 'service account name must be at most 32 printable characters');
  if (description !== undefined && description.length > 256) throw new IamError('InvalidArgument', 'service account description must be at most 256 characters');
}

/** AWS paths: "/" or "/a/b/", printable ASCII, at most 512 characters. */
function validatePath(path: string | undefined): string {
  if (path === undefined || path === '') return '/';
  if (path.length > 512 || !/^\/([\x21-\x2e\x30-\x7e]+\/)*$/.test(path)) {
    throw new IamError('InvalidArgument', `invalid path '${path}': must begin and end with '/'`);
  }
  return path;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return cmp(a.name, b.name);
}
