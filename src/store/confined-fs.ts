/**
 * File access confined to the data directory. Node has no `openat`, so confinement is done by
 * checking every component below the root with `lstat` (a directory must be a real
 * directory, never a symlink) and opening the last one with `O_NOFOLLOW`, then checking the
 * opened file is the one `lstat` saw. Nothing here ever follows a link, native or
 * Minshall+French: a planted link is simply "not the expected kind of file".
 */
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, fromFsError } from './errors.js';

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Throws unless every directory from `root` down to `root/…/parts` is a real directory. */
export async function assertRealDirs(root: string, parts: readonly string[]): Promise<void> {
  let path = root;
  for (const part of parts) {
    path = join(path, part);
    let stat: Stats;
    try {
      stat = await lstat(path);
    } catch (error) {
      throw fromFsError(error, part);
    }
    if (!stat.isDirectory()) {
      throw stat.isSymbolicLink()
        ? new StoreError('WARDEN_ERR_STORE_UNSAFE_PATH', `${path}: is a symlink; not followed`)
        : new StoreError('WARDEN_ERR_STORE_NOT_FOUND', `${part}: not a directory`);
    }
  }
}

/** An open regular file inside the root, with the stat taken from its descriptor. */
export interface ConfinedFile {
  readonly handle: FileHandle;
  readonly stat: Stats;
}

/**
 * Opens `root/parts…` read-only after checking every directory component is real and the file
 * itself is a regular file (not a symlink, not a device); `O_NOFOLLOW` closes the gap between
 * the check and the open for the last component.
 */
export async function openConfinedFile(root: string, parts: readonly string[]): Promise<ConfinedFile> {
  if (parts.length === 0) throw new StoreError('WARDEN_ERR_STORE_NOT_FOUND', 'empty path');
  await assertRealDirs(root, parts.slice(0, -1));
  const path = join(root, ...parts);
  let before: Stats;
  try {
    before = await lstat(path);
  } catch (error) {
    throw fromFsError(error, parts.join('/'));
  }
  if (!before.isFile()) {
    throw before.isSymbolicLink()
      ? new StoreError('WARDEN_ERR_STORE_UNSAFE_PATH', `${path}: is a symlink; not followed`)
      : new StoreError('WARDEN_ERR_STORE_NOT_FOUND', `${parts.join('/')}: not a regular file`);
  }
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    throw fromFsError(error, parts.join('/'));
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.ino !== before.ino || stat.dev !== before.dev) {
      throw new StoreError('WARDEN_ERR_STORE_UNSAFE_PATH', `${path}: changed between check and open`);
    }
    return { handle, stat };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw fromFsError(error, parts.join('/'));
  }
}

/** Reads a whole small regular file inside the root, confined like {@link openConfinedFile}. */
export async function readConfinedFile(root: string, parts: readonly string[]): Promise<Buffer> {
  const { handle } = await openConfinedFile(root, parts);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * Creates (one level at a time) the directories `root/parts…` and checks each is a real
 * directory, so a planted symlink is refused instead of written through.
 */
export async function ensureRealDirs(root: string, parts: readonly string[]): Promise<string> {
  let path = root;
  for (const part of parts) {
    path = join(path, part);
    try {
      await mkdir(path, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fromFsError(error, part);
    }
    const stat = await lstat(path).catch((error: unknown) => {
      throw fromFsError(error, part);
    });
    if (!stat.isDirectory()) {
      throw new StoreError('WARDEN_ERR_STORE_UNSAFE_PATH', `${path}: exists and is not a real directory`);
    }
  }
  return path;
}

/** Flushes a directory's entries (renames, unlinks) to stable storage; ignored where unsupported. */
export async function fsyncDir(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Some network file systems refuse fsync on a directory; the rename is still atomic there.
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw fromFsError(error, path);
  } finally {
    await handle?.close();
  }
}
