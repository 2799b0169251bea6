/** Walking a directory tree for links of either kind. */
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { throwIfAborted } from './abort.js';
import { fromFsError } from './errors.js';
import { inspectLink, type LinkInspection } from './read.js';

/** Options of {@link scanTree}. */
export interface ScanTreeOptions {
  /** Read Minshall+French files strictly (canonical only). Default: `false` (as Linux reads them). */
  strict?: boolean;
  /** Stops before the next entry. Default: none. */
  signal?: AbortSignal;
}

/** One non-directory entry found by {@link scanTree}. */
export interface ScannedEntry {
  /** Path relative to the scanned directory. */
  readonly path: string;
  /** What it is. */
  readonly inspection: LinkInspection;
}

const OWN_TEMP = /^\.warden-(tmp|probe)-/;

/** Lists every non-directory path under `dir` (absolute), never following symlinks, skipping Warden's own temp entries. */
export async function listTree(dir: string, signal?: AbortSignal, out: string[] = []): Promise<string[]> {
  throwIfAborted(signal);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fromFsError(error, 'cannot list', dir);
  }
  for (const entry of entries) {
    if (OWN_TEMP.test(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listTree(path, signal, out);
    else out.push(path);
  }
  return out;
}

/**
 * Inspects every non-directory entry under `dir` (recursively, never following symlinks)
 * and returns them sorted by path: native links, Minshall+French files, malformed 1067-byte
 * candidates and everything else.
 * @throws {MfSymlinkError} `…_NOT_FOUND`/`…_IO` when a directory cannot be listed.
 */
export async function scanTree(dir: string, options: ScanTreeOptions = {}): Promise<ScannedEntry[]> {
  const root = resolve(dir);
  const files = await listTree(root, options.signal);
  files.sort();
  const out: ScannedEntry[] = [];
  for (const path of files) {
    out.push({ path: relative(root, path), inspection: await inspectLink(path, options) });
  }
  return out;
}
