/** Whether a directory's file system supports native symlinks, probed once per directory. */
import { randomBytes } from 'node:crypto';
import { symlink, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { abortable, throwIfAborted } from './abort.js';
import { errnoOf, fromFsError } from './errors.js';

/** Options of {@link probeNativeSymlinks}. */
export interface ProbeOptions {
  /** Rejects with `signal.reason` when aborted (the probe itself still finishes). Default: none. */
  signal?: AbortSignal;
}

/** errno values by which `symlink(2)` says the file system has no symlinks (CIFS without mfsymlinks, FAT, FUSE). */
export const NO_SYMLINK_ERRNOS: ReadonlySet<string> = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EPERM', 'ENOSYS']);

const cache = new Map<string, Promise<boolean>>();

/** Returns a fresh name in `dir` for a temporary entry; it starts with a dot and never collides in practice. */
export function tempName(dir: string, purpose: string): string {
  return join(dir, `.warden-${purpose}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

async function probe(dir: string): Promise<boolean> {
  const name = tempName(dir, 'probe');
  try {
    await symlink('warden-symlink-probe', name);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== undefined && NO_SYMLINK_ERRNOS.has(errno)) return false;
    throw fromFsError(error, 'cannot probe symlink support in', dir);
  }
  await unlink(name).catch(() => undefined);
  return true;
}

/**
 * Tells whether the file system holding `dir` supports `symlink()`, by creating and removing
 * a symlink under a temporary dot-name in `dir`. EOPNOTSUPP, ENOTSUP, EPERM and ENOSYS mean
 * no. The answer is cached per directory (resolved path) for the life of the process; a
 * failed probe is not cached.
 * @throws {MfSymlinkError} `WARDEN_ERR_MFSYMLINK_NOT_FOUND` or `…_IO` when `dir` cannot be written.
 * @example if (!(await probeNativeSymlinks('/mnt/share'))) console.log('Minshall+French links will be used');
 */
export async function probeNativeSymlinks(dir: string, options: ProbeOptions = {}): Promise<boolean> {
  throwIfAborted(options.signal);
  const key = resolve(dir);
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = probe(key);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return await abortable(pending, options.signal);
}

/** Forgets cached probe results: for `dir` only, or all of them (after a remount, say). */
export function clearNativeSymlinkCache(dir?: string): void {
  if (dir === undefined) cache.clear();
  else cache.delete(resolve(dir));
}
