/**
 * Walks the tree of a store: owners, and names of an owner. Confined like every other read
 * (a symlinked owner or name directory is skipped, never followed); entries that are not
 * valid names (`.warden`, stray files) are ignored.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidName } from './names.js';

async function realDirsIn(path: string, kind: 'owner' | 'name'): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
  const dirs: string[] = [];
  for (const entry of entries.sort()) {
    if (!isValidName(entry, kind)) continue;
    const stat = await lstat(join(path, entry)).catch(() => undefined);
    if (stat?.isDirectory()) dirs.push(entry);
  }
  return dirs;
}

/** Lists the owners under `root` (DATA), sorted; symlinks and invalid names are skipped. */
export async function listOwners(root: string): Promise<string[]> {
  return await realDirsIn(root, 'owner');
}

/** Lists the names of `owner` under `root`, sorted; symlinks and invalid names are skipped. */
export async function listNames(root: string, owner: string): Promise<string[]> {
  if (!isValidName(owner, 'owner')) return [];
  const stat = await lstat(join(root, owner)).catch(() => undefined);
  if (!stat?.isDirectory()) return [];
  return await realDirsIn(join(root, owner), 'name');
}
