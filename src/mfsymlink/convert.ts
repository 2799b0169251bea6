/** Converting every link in a directory tree to native symlinks or to Minshall+French files. */
import { relative, resolve } from 'node:path';
import { throwIfAborted } from './abort.js';
import { createSymlink, type LinkKind } from './create.js';
import { MfSymlinkError } from './errors.js';
import { MF_MAX_TARGET_LENGTH } from './format.js';
import { probeNativeSymlinks } from './probe.js';
import { inspectLink } from './read.js';
import { listTree } from './scan.js';

/** Options of {@link convertTree}. */
export interface ConvertTreeOptions {
  /** The kind every link should end up as. Required. */
  to: LinkKind;
  /** Report what would change without changing anything. Default: `false`. */
  dryRun?: boolean;
  /** fsync each new link (see {@link createSymlink}). Default: `true`. */
  fsync?: boolean;
  /** How many links are converted at once. Default: `8`. */
  concurrency?: number;
  /** Stops before the next link; links already converted stay converted (each swap is atomic). Default: none. */
  signal?: AbortSignal;
}

/** A link that was (or, in a dry run, would be) converted. */
export interface ConvertedLink {
  /** Path relative to the converted directory. */
  readonly path: string;
  /** The kind it had. */
  readonly from: LinkKind;
  /** The target, as bytes. */
  readonly target: Buffer;
}

/** An entry left alone, and why. */
export interface SkippedEntry {
  /** Path relative to the converted directory. */
  readonly path: string;
  /** The error code that explains it (`…_NOT_A_LINK` for a malformed candidate, `…_TARGET_TOO_LONG`, `…_IO`…). */
  readonly code: string;
  /** A sentence for humans. */
  readonly reason: string;
  /** True when the entry is a malformed 1067-byte candidate (a regular file the kernel will not show as a link). */
  readonly malformed: boolean;
}

/** What {@link convertTree} did. */
export interface ConvertReport {
  /** The directory, resolved. */
  readonly dir: string;
  /** The requested kind. */
  readonly to: LinkKind;
  /** Whether nothing was changed on purpose. */
  readonly dryRun: boolean;
  /** How many non-directory entries were examined. */
  readonly scanned: number;
  /** How many links already were of kind `to`. */
  readonly unchanged: number;
  /** Links converted (or to convert, in a dry run), sorted by path. */
  readonly converted: ConvertedLink[];
  /** Entries left alone, sorted by path: malformed candidates, targets the other kind cannot hold, failures. */
  readonly skipped: SkippedEntry[];
}

function codeOf(error: unknown): string {
  return error instanceof MfSymlinkError ? error.code : 'WARDEN_ERR_MFSYMLINK_IO';
}

/**
 * Converts every link under `dir` (recursively, never following symlinks) to `to`: native
 * symlinks to Minshall+French files or back. Each link is swapped atomically. Entries that
 * cannot be converted are reported in `skipped` and left alone — a 1067-byte regular file
 * that is not a valid link, a native target over 1024 bytes (to `'mf'`), an empty target (to
 * `'native'`), a failed write. Valid links are read as the Linux kernel reads them.
 * @throws {MfSymlinkError} `WARDEN_ERR_MFSYMLINK_NOT_SUPPORTED` when `to` is `'native'` and
 *   the file system of `dir` has no symlinks; `…_NOT_FOUND`/`…_IO` when `dir` cannot be listed.
 * @example const report = await convertTree('/mnt/share/data', { to: 'mf', dryRun: true });
 */
export async function convertTree(dir: string, options: ConvertTreeOptions): Promise<ConvertReport> {
  const { to, dryRun = false, fsync = true, concurrency = 8, signal } = options;
  if (to !== 'native' && to !== 'mf') {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT', `to must be 'native' or 'mf', not ${String(to)}`);
  }
  throwIfAborted(signal);
  const root = resolve(dir);
  if (to === 'native' && !(await probeNativeSymlinks(root, { signal }))) {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_NOT_SUPPORTED', `the file system of ${root} has no native symlinks`, { path: root });
  }
  const files = await listTree(root, signal);
  const converted: ConvertedLink[] = [];
  const skipped: SkippedEntry[] = [];
  let unchanged = 0;

  const convertOne = async (path: string): Promise<void> => {
    const rel = relative(root, path);
    const skip = (error: unknown, malformed = false): void => {
      const reason = error instanceof Error ? error.message : String(error);
      skipped.push({ path: rel, code: malformed ? 'WARDEN_ERR_MFSYMLINK_NOT_A_LINK' : codeOf(error), reason, malformed });
    };
    let found;
    try {
      found = await inspectLink(path, { signal });
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      skip(error);
      return;
    }
    if (found.kind === 'none') {
      if (found.what === 'malformed') skip(found.reason.cause ?? found.reason, true);
      return;
    }
    if (found.kind === to) {
      unchanged += 1;
      return;
    }
    if (to === 'mf' && found.target.length > MF_MAX_TARGET_LENGTH) {
      skip(new MfSymlinkError('WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG', `target is ${found.target.length} bytes; a Minshall+French link holds at most ${MF_MAX_TARGET_LENGTH}`));
      return;
    }
    if (found.target.length === 0) {
      skip(new MfSymlinkError('WARDEN_ERR_MFSYMLINK_TARGET_EMPTY', 'empty target: no native symlink can hold it'));
      return;
    }
    if (!dryRun) {
      try {
        await createSymlink(found.target, path, { mode: to, replace: true, fsync, signal });
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        skip(error);
        return;
      }
    }
    converted.push({ path: rel, from: found.kind, target: found.target });
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      throwIfAborted(signal);
      const path = files[next]!;
      next += 1;
      await convertOne(path);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  converted.sort(byPath);
  skipped.sort(byPath);
  return { dir: root, to, dryRun, scanned: files.length, unchanged, converted, skipped };
}
