/** The bucket/object owner S3 responses name. One owner: the gateway's account. */
import { createHash } from 'node:crypto';

export type Owner = { ID: string; DisplayName: string };

let cached: Owner | undefined;
/** A stable canonical ID derived from the root user name (the name itself is not shown). */
export function ownerOf(rootUser: string): Owner {
  if (!cached) cached = { ID: createHash('sha256').update(`s3gate-owner:${rootUser}`).digest('hex'), DisplayName: 's3gate' };
  return cached;
}
