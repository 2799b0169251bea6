import { StoreError } from './errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Kinds of names a request carries; each is validated the same way, versions a bit more. */
export type NameKind = 'owner' | 'name' | 'version' | 'alias';

/**
 * Returns true when `value` is a valid name of `kind`: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`,
 * without `..`; versions also must not end in `.json`, which would collide with the metadata
 * file `VERSION.json` beside another version.
 */
export function isValidName(value: string, kind: NameKind = 'name'): boolean {
  if (!NAME.test(value) || value.includes('..')) return false;
  if (kind === 'version' && value.endsWith('.json')) return false;
  return true;
}

/** Throws `WARDEN_ERR_STORE_BAD_NAME` unless {@link isValidName}; runs before any fs access. */
export function assertName(value: string, kind: NameKind): void {
  if (!isValidName(value, kind)) {
    throw new StoreError('WARDEN_ERR_STORE_BAD_NAME', `invalid ${kind} ${JSON.stringify(value.slice(0, 140))}`);
  }
}
