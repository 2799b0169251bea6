import { readFile } from 'node:fs/promises';
import { RuntimeError } from './errors.js';

/** The path the kernel exposes for this process's mount table. */
export const DEFAULT_MOUNTINFO_PATH = '/proc/self/mountinfo';

/** One mount, as described by a line of `/proc/<pid>/mountinfo` (see proc(5)). */
export interface MountEntry {
  readonly mountId: number;
  readonly parentId: number;
  /** `major:minor` of the device. */
  readonly device: string;
  /** The directory of the mounted file system that forms this mount's root (a bind mount's source). */
  readonly root: string;
  /** Where it is mounted, relative to this process's root. */
  readonly mountPoint: string;
  /** Per-mount options (`rw`, `nosuid`, …). */
  readonly mountOptions: readonly string[];
  /** The file-system type (`ext4`, `cifs`, `smb3`, `tmpfs`, `nfs4`, …). */
  readonly fsType: string;
  /** The mount source (`//account.file.core.windows.net/share`, `/dev/sda1`, `tmpfs`). */
  readonly source: string;
  /** Per-superblock options; for CIFS these include `mfsymlinks` when set. */
  readonly superOptions: readonly string[];
}

// The kernel escapes space, tab, newline and backslash as \ooo octal in path fields.
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Parses the text of a mountinfo file into entries, in file order (a later entry on the same
 * mount point is stacked on top of an earlier one).
 *
 * @throws RuntimeError `WARDEN_ERR_RUNTIME_BAD_MOUNTINFO` when a non-empty line is malformed,
 *   unless `onMalformed` is given: it then receives the line and parsing goes on.
 */
export function parseMountinfo(text: string, settings: { onMalformed?: (line: string) => void } = {}): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    const [mountId, parentId, device, root, mountPoint, options] = fields;
    const fsType = fields[separator + 1];
    const source = fields[separator + 2];
    const superOptions = fields[separator + 3];
    if (
      separator < 0 ||
      mountPoint === undefined ||
      options === undefined ||
      root === undefined ||
      device === undefined ||
      fsType === undefined ||
      source === undefined ||
      !/^\d+$/.test(mountId ?? '') ||
      !/^\d+$/.test(parentId ?? '')
    ) {
      if (settings.onMalformed !== undefined) {
        settings.onMalformed(line);
        continue;
      }
      throw new RuntimeError('WARDEN_ERR_RUNTIME_BAD_MOUNTINFO', `mountinfo line ${index + 1} is malformed: ${JSON.stringify(line)}`);
    }
    entries.push({
      mountId: Number(mountId),
      parentId: Number(parentId),
      device,
      root: unescapeOctal(root),
      mountPoint: unescapeOctal(mountPoint),
      mountOptions: options.split(','),
      fsType,
      source: unescapeOctal(source),
      superOptions: superOptions === undefined ? [] : superOptions.split(','),
    });
  }
  return entries;
}

/** Reads and parses a mountinfo file (default `/proc/self/mountinfo`). */
export async function readMountinfo(
  options: { mountinfoPath?: string; signal?: AbortSignal; onMalformed?: (line: string) => void } = {},
): Promise<MountEntry[]> {
  const text = await readFile(options.mountinfoPath ?? DEFAULT_MOUNTINFO_PATH, { encoding: 'utf8', signal: options.signal });
  return parseMountinfo(text, options.onMalformed === undefined ? {} : { onMalformed: options.onMalformed });
}

function contains(mountPoint: string, path: string): boolean {
  if (mountPoint === '/') return path.startsWith('/');
  return path === mountPoint || path.startsWith(`${mountPoint}/`);
}

/**
 * Returns the mount that holds the absolute, symlink-free `path`: the longest mount point
 * containing it, the last one listed when several are stacked on the same point.
 */
export function findMount(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const entry of entries) {
    if (!contains(entry.mountPoint, path)) continue;
    if (best === undefined || entry.mountPoint.length >= best.mountPoint.length) best = entry;
  }
  return best;
}

/** Says whether a mount is an SMB/CIFS share (Azure Files is one). */
export function isCifs(entry: MountEntry): boolean {
  return entry.fsType === 'cifs' || entry.fsType === 'smb3' || entry.fsType === 'smbfs';
}

/** Says whether a CIFS mount stores symlinks as Minshall+French files (`mfsymlinks`). */
export function hasMfsymlinks(entry: MountEntry): boolean {
  return entry.superOptions.includes('mfsymlinks') || entry.mountOptions.includes('mfsymlinks');
}
