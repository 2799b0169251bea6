/** Atomic creation of a symlink, native or Minshall+French. */
import { link, lstat, open, rename, symlink, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { throwIfAborted } from './abort.js';
import { encode, targetBytes } from './codec.js';
import { errnoOf, fromFsError, MfSymlinkError } from './errors.js';
import { NO_SYMLINK_ERRNOS, probeNativeSymlinks, tempName } from './probe.js';

/** How a link is stored: a native symlink, or a Minshall+French file. */
export type LinkKind = 'native' | 'mf';

/** Options of {@link createSymlink}. */
export interface CreateSymlinkOptions {
  /**
   * `'native'`: a real symlink, or `WARDEN_ERR_MFSYMLINK_NOT_SUPPORTED`; `'mf'`: a
   * Minshall+French file; `'auto'`: native where {@link probeNativeSymlinks} says the
   * directory supports it, else Minshall+French. Default: `'auto'`.
   */
  mode?: 'auto' | 'native' | 'mf';
  /** Atomically replace whatever link or file is at `path`. Default: `false` (fail with `WARDEN_ERR_MFSYMLINK_EXISTS`). */
  replace?: boolean;
  /** fsync the Minshall+French file before the rename, and the directory after it (best effort). Default: `true`. */
  fsync?: boolean;
  /** Stops between steps; a temporary entry is removed, `path` is never half-written. Default: none. */
  signal?: AbortSignal;
}

/** What {@link createSymlink} created. */
export interface CreateSymlinkResult {
  /** How the link was stored. */
  readonly kind: LinkKind;
}

const NO_HARD_LINK_ERRNOS = new Set(['EPERM', 'ENOSYS', 'EOPNOTSUPP', 'ENOTSUP', 'EMLINK', 'EXDEV']);

async function writeMfFile(file: string, bytes: Uint8Array, fsync: boolean): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, written);
      if (bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
      written += bytesWritten;
    }
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Not every file system lets a directory be opened or fsynced (FUSE, SMB): best effort.
  try {
    const handle = await open(dir, 'r');
    await handle.sync().finally(() => handle.close());
  } catch {
    // durability of the rename is then up to the file system
  }
}

/** Moves `temp` to `path`, failing with EXISTS rather than replacing anything. */
async function commitNoReplace(temp: string, path: string): Promise<void> {
  try {
    // link(2) fails with EEXIST atomically; it does not follow a symlink on Linux.
    await link(temp, path);
    await unlink(temp).catch(() => undefined);
    return;
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'EEXIST') throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_EXISTS', `${path} already exists`, { cause: error, path });
    if (errno === undefined || !NO_HARD_LINK_ERRNOS.has(errno)) throw error;
  }
  // No hard links here (FAT, many SMB setups): check, then rename. A writer racing between
  // the two can be overwritten; documented in docs/mfsymlink.md.
  const existing = await lstat(path).catch((error: unknown) => {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined) throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_EXISTS', `${path} already exists`, { path });
  await rename(temp, path);
}

/** Returns the target's bytes, refusing what no symlink can hold (empty, NUL). */
function checkedTarget(target: string | Uint8Array): Uint8Array {
  const bytes = targetBytes(target);
  if (bytes.length === 0) {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_TARGET_EMPTY', 'the target is empty; symlink(2) refuses empty targets');
  }
  return bytes;
}

/**
 * Creates a symlink at `path` pointing to `target`, atomically: the link is made under a
 * temporary name in the same directory, then renamed (or hard-linked, when not replacing)
 * into place, so a reader sees either the old entry or the complete new link, never a
 * half-written file. Strings are UTF-8; pass bytes for other targets.
 * @throws {MfSymlinkError} `…_TARGET_EMPTY`, `…_TARGET_NUL`, `…_TARGET_TOO_LONG` (over 1024
 *   bytes in Minshall+French), `…_EXISTS`, `…_NOT_SUPPORTED` (mode `'native'`), `…_NOT_FOUND`, `…_IO`.
 * @example await createSymlink('../versions/1.2.0', 'data/acme/tool/aliases/latest', { replace: true });
 */
export async function createSymlink(
  target: string | Uint8Array,
  path: string,
  options: CreateSymlinkOptions = {},
): Promise<CreateSymlinkResult> {
  const { mode = 'auto', replace = false, fsync = true, signal } = options;
  if (mode !== 'auto' && mode !== 'native' && mode !== 'mf') {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT', `mode must be 'auto', 'native' or 'mf', not ${String(mode)}`);
  }
  const bytes = checkedTarget(target);
  const content = mode === 'mf' ? encode(bytes) : undefined;
  throwIfAborted(signal);
  const dir = dirname(path);
  const kind: LinkKind = mode === 'auto' ? ((await probeNativeSymlinks(dir, { signal })) ? 'native' : 'mf') : mode;
  const mfContent = kind === 'mf' ? (content ?? encode(bytes)) : undefined;
  const temp = tempName(dir, 'tmp');
  let tempExists = false;
  try {
    if (mfContent === undefined) {
      try {
        await symlink(Buffer.from(bytes), temp);
      } catch (error) {
        const errno = errnoOf(error);
        if (errno !== undefined && NO_SYMLINK_ERRNOS.has(errno)) {
          throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_NOT_SUPPORTED', `the file system of ${dir} has no native symlinks (${errno})`, { cause: error, path });
        }
        if (errno === 'ENAMETOOLONG') {
          throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG', `target of ${bytes.length} bytes is too long for a native symlink`, { cause: error, path });
        }
        throw error;
      }
      tempExists = true;
    } else {
      tempExists = true; // even a failed open('wx') may have left nothing; unlink below is best effort
      await writeMfFile(temp, mfContent, fsync);
    }
    throwIfAborted(signal);
    if (replace) await rename(temp, path);
    else await commitNoReplace(temp, path);
    tempExists = false;
  } catch (error) {
    if (tempExists) await unlink(temp).catch(() => undefined);
    throw fromFsError(error, 'cannot create link', path, signal);
  }
  if (fsync) await syncDirectory(dir);
  return { kind };
}
