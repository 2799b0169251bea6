import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Copies directories and regular files from `from` to `to` with plain reads and writes
 * (fs.cp uses copy_file_range, which FUSE file systems such as fusefat lack). Any other
 * entry (a symlink) is an error: the trees copied in tests hold files only.
 */
export async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isDirectory()) await copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile()) await writeFile(join(to, entry.name), await readFile(join(from, entry.name)));
    else throw new Error(`copyTree: ${join(from, entry.name)} is neither a file nor a directory`);
  }
}
