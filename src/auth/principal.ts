/**
 * Who is making a request, as the authenticate step found it. The IAM service builds
 * these from its records; the policy engine reads them for variables and conditions.
 */
export type PrincipalKind = 'root' | 'user' | 'serviceAccount' | 'sts' | 'anonymous';

export interface Principal {
  kind: PrincipalKind;
  /** The access key the request was signed with ('' for anonymous). */
  accessKey: string;
  /** aws:username: the user name (root user name, IAM user, or the parent for svc/sts). */
  username: string;
  /** aws:userid */
  userId: string;
  /** For service accounts and STS sessions: the user whose rights they derive from. */
  parentUser?: string;
  /** STS: the session name the role was assumed with (names the assumed-role ARN). */
  sessionName?: string;
  /** Claims carried by the identity (${jwt:*}, ${ldap:*}); keys without prefix. */
  claims?: Record<string, string>;
}

/** The credential the authenticate step needs to check a signature. */
export interface Credential {
  accessKey: string;
  secretKey: string;
  /** Set for STS credentials: the request must carry this exact x-amz-security-token. */
  sessionToken?: string;
  /** Expiry, if any (STS, expiring service accounts). */
  expiresAt?: Date;
  principal: Principal;
}

/**
 * Finds the secret for an access key. The IAM service implements it; before IAM exists
 * only root is known. `sessionToken` lets an implementation validate self-contained STS
 * tokens issued by another instance. Returns undefined for unknown or disabled keys.
 */
export interface CredentialLookup {
  lookup(accessKey: string, sessionToken?: string): Credential | undefined | Promise<Credential | undefined>;
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', accessKey: '', username: '', userId: '' }) as Principal;

/** Which authentication scheme was used (s3:authType / s3:signatureversion). */
export type AuthType = 'REST-HEADER' | 'REST-QUERY-STRING' | 'POST' | 'ANONYMOUS';
