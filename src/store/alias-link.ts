/**
 * The only file that touches alias links, through `warden/mfsymlink`: native symlinks where
 * the file system has them, Minshall+French files where it does not (or when forced). Reading
 * never follows a link; it returns the link text for the store to validate.
 */
import { createSymlink, isMfSymlinkError, readSymlink } from 'warden/mfsymlink';
import { StoreError } from './errors.js';

/** How aliases are written: probe the file system, or force native or Minshall+French. */
export type SymlinkMode = 'auto' | 'native' | 'mf';

/** Writes (atomically replacing, temp + rename) the link `path → target`. */
export async function writeAliasLink(target: string, path: string, mode: SymlinkMode): Promise<'native' | 'mf'> {
  try {
    const { kind } = await createSymlink(target, path, { mode, replace: true });
    return kind;
  } catch (error) {
    if (isMfSymlinkError(error)) throw new StoreError('WARDEN_ERR_STORE_IO', `cannot write alias: ${error.code}`, { cause: error });
    throw error;
  }
}

/**
 * Reads the target of the link at `path` (native or Minshall+French) without following it.
 * The bytes are read as latin1 so that no decoding can turn them into something the name
 * check would accept. Missing → `WARDEN_ERR_STORE_NOT_FOUND`; anything that is not a valid
 * link → `WARDEN_ERR_STORE_CORRUPT_ALIAS`.
 */
export async function readAliasLink(path: string): Promise<string> {
  try {
    return (await readSymlink(path, { encoding: 'buffer' })).toString('latin1');
  } catch (error) {
    if (isMfSymlinkError(error)) {
      if (error.code === 'WARDEN_ERR_MFSYMLINK_NOT_FOUND') throw new StoreError('WARDEN_ERR_STORE_NOT_FOUND', 'alias not found', { cause: error });
      if (error.code === 'WARDEN_ERR_MFSYMLINK_NOT_A_LINK') throw new StoreError('WARDEN_ERR_STORE_CORRUPT_ALIAS', 'alias is not a link', { cause: error });
      throw new StoreError('WARDEN_ERR_STORE_IO', `cannot read alias: ${error.code}`, { cause: error, retryable: error.retryable });
    }
    throw error;
  }
}
