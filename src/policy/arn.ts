/**
 * ARNs as policies use them.
 * - Resource: `*` (identity policies only) or `arn:aws:s3:::<bucket>[/<key>]`, with `*`/`?`
 *   wildcards and policy variables; the bucket part must not be empty.
 * - Principal values: `*`, an account id (12 digits), an IAM/STS ARN
 *   (`arn:aws:iam::<acct>:root|user/..|role/..`, `arn:aws:sts::<acct>:assumed-role/..`),
 *   or — as MinIO accepts — a plain user name or access key.
 * - Condition ARNs (ArnEquals/ArnLike): six colon-separated components.
 */
export const S3_ARN_PREFIX = 'arn:aws:s3:::';

export function bucketArn(bucket: string): string {
  return S3_ARN_PREFIX + bucket;
}

export function objectArn(bucket: string, key: string): string {
  return `${S3_ARN_PREFIX}${bucket}/${key}`;
}

/** Why a Resource value is not acceptable, or undefined. */
export function resourceProblem(value: string): string | undefined {
  if (value === '*') return undefined;
  if (!value.startsWith(S3_ARN_PREFIX)) {
    return `invalid resource '${value}': expected '*' or an S3 ARN 'arn:aws:s3:::<bucket>[/<key>]'`;
  }
  const rest = value.slice(S3_ARN_PREFIX.length);
  if (rest === '' || rest.startsWith('/')) return `invalid resource '${value}': the bucket name is empty`;
  return undefined;
}

/** Splits an ARN into its six components, or undefined when it is not one. */
export function splitArn(value: string): string[] | undefined {
  if (!value.startsWith('arn:')) return undefined;
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < 5; i++) {
    const c = value.indexOf(':', from);
    if (c < 0) return undefined;
    parts.push(value.slice(from, c));
    from = c + 1;
  }
  parts.push(value.slice(from));
  return parts;
}

const ACCOUNT_ID = /^\d{12}$/;

/** Why a Principal value is not acceptable, or undefined. */
export function principalValueProblem(value: string): string | undefined {
  if (value === '*' || ACCOUNT_ID.test(value)) return undefined;
  if (value === '') return 'empty principal';
  if (value.startsWith('arn:')) {
    const p = splitArn(value);
    if (!p || (p[2] !== 'iam' && p[2] !== 'sts') || p[5] === '') {
      return `invalid principal '${value}': expected an IAM or STS ARN such as arn:aws:iam::<account>:user/<name>`;
    }
    return undefined;
  }
  if (/[\s*?]/.test(value)) return `invalid principal '${value}': wildcards are only allowed as "*"`;
  return undefined;
}

export function isAccountPrincipal(value: string): string | undefined {
  if (ACCOUNT_ID.test(value)) return value;
  const p = splitArn(value);
  if (p && p[2] === 'iam' && p[5] === 'root' && ACCOUNT_ID.test(p[4])) return p[4];
  return undefined;
}
