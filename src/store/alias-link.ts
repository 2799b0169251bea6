/**
 * The only file that touches alias links. Temporary native-only stand-in until the
 * Minshall+French helpers land (`warden/mfsymlink`).
 */
import { readlink, rename, symlink, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

/** How aliases are written: probe the file system, or force native or Minshall+French. */
export type SymlinkMode = 'auto' | 'native' | 'mf';

/** Writes (atomically replacing) the link `path → target`. */
export async function writeAliasLink(target: string, path: string, _mode: SymlinkMode): Promise<void> {
  const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await symlink(target, temp);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Reads the target of the link at `path` without following it; throws when it is no link. */
export async function readAliasLink(path: string): Promise<string> {
  return await readlink(path, 'utf8');
}
