/**
 * Which mc generation is calling, from the User-Agent (the only signal, spec §1.1, §3.4):
 *   MinIO (linux; amd64) madmin-go/0.0.1 mc/RELEASE.2021-04-22T17-40-00Z
 * list-service-accounts changed shape in mc RELEASE.2023-05-26T23-31-54Z (madmin-go
 * #195). Older mc releases and madmin-go/0.0.1 get the old shape; source builds
 * (DEVELOPMENT.GOGET), unknown clients and s3gate's own CLI get the new one.
 */
const NEW_SVC_LIST_SINCE = '2023-05-26T23-31-54Z';

export interface ClientGeneration {
  /** {"accounts":["AK",...]} instead of objects. */
  oldServiceAccountList: boolean;
  /** The 2021 client: "never" is 0001-01-01T00:00:00Z, not 1970-01-01T00:00:00Z. */
  legacy: boolean;
}

export function clientGeneration(userAgent: string | undefined): ClientGeneration {
  const ua = userAgent ?? '';
  const release = /\b(?:mc|mcli)\/RELEASE\.(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)/.exec(ua)?.[1];
  const madmin = /\bmadmin-go\/(\d+)\.(\d+)\.(\d+)/.exec(ua);
  let old = false;
  if (release) old = release < NEW_SVC_LIST_SINCE;
  else if (madmin) old = madmin[1] === '0';
  const legacy = release ? release < '2022-01-01T00-00-00Z' : madmin?.[1] === '0';
  return { oldServiceAccountList: old, legacy: Boolean(legacy) };
}
