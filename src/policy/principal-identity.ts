/**
 * How a request's Principal appears to policies: its ARN, type and account (for the
 * aws:Principal* condition keys), and the identifiers a bucket policy Principal element
 * can name. Service accounts and STS sessions are matched both directly (their access key,
 * the session ARN) and through their parent user ("inherited"): a bucket policy grant
 * reached only through the parent is still narrowed by the session/embedded policy.
 *
 * ARNs (s3gate has one account, `accountId`, default 000000000000):
 *   root            arn:aws:iam::<acct>:root                     aws:PrincipalType Account
 *   user            arn:aws:iam::<acct>:user/<name>              User
 *   service account arn:aws:iam::<acct>:user/<parent>            User (acts as its parent)
 *   STS session     arn:aws:sts::<acct>:assumed-role/<parent>/<session name or accessKey>   AssumedRole
 *   anonymous       (none)                                       Anonymous
 */
import type { Principal } from '../auth/principal.js';

export const DEFAULT_ACCOUNT_ID = '000000000000';

export interface PrincipalIdentity {
  kind: Principal['kind'];
  accountId: string;
  /** aws:PrincipalArn; undefined for anonymous. */
  arn?: string;
  /** aws:PrincipalType */
  type: 'Account' | 'User' | 'AssumedRole' | 'Anonymous';
  /** Identifiers that name this identity itself. */
  direct: readonly string[];
  /** Identifiers of the parent user (service accounts, STS). */
  inherited: readonly string[];
}

export function userArn(accountId: string, name: string): string {
  return `arn:aws:iam::${accountId}:user/${name}`;
}

export function principalIdentity(p: Principal, accountId = DEFAULT_ACCOUNT_ID): PrincipalIdentity {
  const parent = p.parentUser ?? p.username;
  switch (p.kind) {
    case 'anonymous':
      return { kind: p.kind, accountId, type: 'Anonymous', direct: [], inherited: [] };
    case 'root': {
      const arn = `arn:aws:iam::${accountId}:root`;
      return { kind: p.kind, accountId, arn, type: 'Account', direct: uniq([arn, accountId, p.username, p.accessKey]), inherited: [] };
    }
    case 'user': {
      const arn = userArn(accountId, p.username);
      return { kind: p.kind, accountId, arn, type: 'User', direct: uniq([arn, p.username, p.accessKey]), inherited: [] };
    }
    case 'serviceAccount':
      return { kind: p.kind, accountId, arn: userArn(accountId, parent), type: 'User', direct: uniq([p.accessKey]), inherited: uniq([userArn(accountId, parent), parent]) };
    case 'sts': {
      const arn = `arn:aws:sts::${accountId}:assumed-role/${parent}/${p.sessionName || p.accessKey}`;
      return { kind: p.kind, accountId, arn, type: 'AssumedRole', direct: uniq([arn, p.accessKey]), inherited: uniq([userArn(accountId, parent), parent]) };
    }
  }
}

function uniq(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}
