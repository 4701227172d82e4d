/**
 * The persisted IAM documents, one JSON file each under <sysDir>/iam/ (see store.ts).
 * Every document carries `version` so a later format can be read side by side.
 *
 * Policy mappings live inside the user and group documents (`policies`), so attaching a
 * policy is one atomic write of one file; group membership lives in the group document only.
 */
export type EnabledStatus = 'enabled' | 'disabled';

export interface AccessKeyRecord {
  accessKey: string;
  secretKey: string;
  /** AWS wording: an Inactive key signs nothing. */
  status: 'Active' | 'Inactive';
  createdAt: string;
}

export interface UserRecord {
  version: 1;
  name: string;
  /** Stable id (aws:userid), new for every creation so a re-created user is a new identity. */
  id: string;
  status: EnabledStatus;
  /** MinIO-style users have one key whose access key equals the name; AWS-style get more. */
  accessKeys: AccessKeyRecord[];
  /** Attached policy names (built-in or custom). */
  policies: string[];
  path: string;
  createdAt: string;
  updatedAt: string;
}

export interface GroupRecord {
  version: 1;
  name: string;
  id: string;
  status: EnabledStatus;
  members: string[];
  policies: string[];
  path: string;
  createdAt: string;
  updatedAt: string;
}

/** Where an inline (PutUserPolicy/PutGroupPolicy) policy belongs. */
export interface InlineOwner {
  kind: 'user' | 'group';
  owner: string;
  /** The PolicyName the client chose. */
  name: string;
}

export interface PolicyRecord {
  version: 1;
  name: string;
  id: string;
  /** The policy document text as the client sent it (already validated). */
  document: string;
  description?: string;
  inline?: InlineOwner;
  createdAt: string;
  updatedAt: string;
}

export interface ServiceAccountRecord {
  version: 1;
  accessKey: string;
  secretKey: string;
  parent: string;
  /** The parent's id at creation: a re-created parent of the same name does not inherit it. */
  parentId: string;
  name?: string;
  description?: string;
  /** RFC 3339; absent = never expires. */
  expiration?: string;
  /** MinIO wording for service accounts. */
  status: 'on' | 'off';
  /** Embedded policy text that narrows the parent's rights; absent = the parent's rights. */
  policy?: string;
  createdAt: string;
  updatedAt: string;
}

export interface SigningKeyRecord {
  version: 1;
  /** Key id carried in tokens (JWT `kid`). */
  id: string;
  /** base64 of 32 random bytes. */
  key: string;
  createdAt: string;
}
