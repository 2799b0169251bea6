import { ElectionError } from './errors.js';

/** Default key prefix of every election and lock. */
export const DEFAULT_PREFIX = '/warden/';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PREFIX = /^\/([A-Za-z0-9._-]+\/)*$/;

/** Throws a coded error unless `name` matches `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` without `..`. */
export function checkName(name: unknown, code: 'WARDEN_ERR_ELECTION_INVALID_NAME' | 'WARDEN_ERR_LOCK_INVALID_NAME'): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) {
    throw new ElectionError(code, `invalid name ${JSON.stringify(name)}: use [A-Za-z0-9][A-Za-z0-9._-]{0,127} without '..'`);
  }
  return name;
}

/** Throws a coded error unless `prefix` looks like `/a/b/` (starts and ends with '/'). */
export function checkPrefix(prefix: unknown, code: 'WARDEN_ERR_ELECTION_INVALID_NAME' | 'WARDEN_ERR_LOCK_INVALID_NAME'): string {
  if (typeof prefix !== 'string' || !PREFIX.test(prefix) || prefix.includes('..')) {
    throw new ElectionError(code, `invalid key prefix ${JSON.stringify(prefix)}: use '/seg/…/' with [A-Za-z0-9._-] segments`);
  }
  return prefix;
}

/** Renders a decimal lease id as the lowercase hex used in candidate keys. */
export function leaseHex(leaseId: string): string {
  return BigInt(leaseId).toString(16);
}
