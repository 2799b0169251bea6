/** Reading links of either kind: native symlinks and Minshall+French files. */
import { lstat, open, readlink } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { abortable, throwIfAborted } from './abort.js';
import { couldBeMfSymlink, parseMfSymlink, type MfSymlinkInfo } from './codec.js';
import { errnoOf, fromFsError, MfSymlinkError } from './errors.js';
import { MF_FILE_SIZE } from './format.js';

/** Options of {@link readSymlink}, {@link linkKind} and {@link inspectLink}. */
export interface ReadSymlinkOptions {
  /** Read Minshall+French files strictly (canonical bytes only) instead of as Linux does. Default: `false`. */
  strict?: boolean;
  /** Rejects with `signal.reason` when aborted. Default: none. */
  signal?: AbortSignal;
}

/** What is at a path, as a link reader sees it (from {@link inspectLink}). */
export type LinkInspection =
  | { readonly kind: 'native'; readonly target: Buffer }
  | { readonly kind: 'mf'; readonly target: Buffer; readonly info: MfSymlinkInfo }
  | {
      readonly kind: 'none';
      /** `'missing'`, `'directory'`, `'file'` (any other size), `'malformed'` (1067 bytes but not a valid link), `'other'`. */
      readonly what: 'missing' | 'directory' | 'file' | 'malformed' | 'other';
      /** Why it is not a link, for `'malformed'` the decode error. */
      readonly reason: MfSymlinkError;
    };

async function readCandidate(path: string): Promise<Uint8Array> {
  // O_NOFOLLOW: if the file was just swapped for a native link, fail (ELOOP) and look again
  // rather than read whatever the new link points to.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    // One byte more than needed: a file that grew since lstat must not pass for a link.
    const buffer = new Uint8Array(MF_FILE_SIZE + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** errno values meaning the entry was replaced between lstat and the next call. */
const RACED_ERRNOS = new Set(['EINVAL', 'ELOOP', 'ENOENT']);

function notALink(path: string, message: string, cause?: unknown): MfSymlinkError {
  return new MfSymlinkError('WARDEN_ERR_MFSYMLINK_NOT_A_LINK', `${path} is not a symlink: ${message}`, { cause, path });
}

async function inspect(path: string, stats: Stats, strict: boolean): Promise<LinkInspection> {
  if (stats.isSymbolicLink()) return { kind: 'native', target: await readlink(path, { encoding: 'buffer' }) };
  if (stats.isDirectory()) return { kind: 'none', what: 'directory', reason: notALink(path, 'it is a directory') };
  if (!couldBeMfSymlink(stats)) {
    const what = stats.isFile() ? 'file' : 'other';
    const message = stats.isFile() ? `it is a regular file of ${stats.size} bytes (a Minshall+French link has ${MF_FILE_SIZE})` : 'it is neither a file nor a symlink';
    return { kind: 'none', what, reason: notALink(path, message) };
  }
  const bytes = await readCandidate(path);
  try {
    const info = parseMfSymlink(bytes, { strict });
    return { kind: 'mf', target: Buffer.from(info.target), info };
  } catch (error) {
    if (!(error instanceof MfSymlinkError)) throw error;
    return { kind: 'none', what: 'malformed', reason: notALink(path, `invalid Minshall+French file: ${error.message}`, error) };
  }
}

/**
 * Tells what is at `path` without throwing for "not a link": a native symlink, a valid
 * Minshall+French file (with its {@link MfSymlinkInfo}), or nothing link-like and why.
 * @throws {MfSymlinkError} `WARDEN_ERR_MFSYMLINK_IO` when the path cannot be read.
 */
export async function inspectLink(path: string, options: ReadSymlinkOptions = {}): Promise<LinkInspection> {
  throwIfAborted(options.signal);
  const look = async (attempt: number): Promise<LinkInspection> => {
    let stats: Stats;
    try {
      stats = await lstat(path);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') {
        return { kind: 'none', what: 'missing', reason: new MfSymlinkError('WARDEN_ERR_MFSYMLINK_NOT_FOUND', `${path}: no such file or directory`, { cause: error, path }) };
      }
      throw error;
    }
    try {
      return await inspect(path, stats, options.strict === true);
    } catch (error) {
      // The entry changed kind between lstat and the read (an atomic swap): look again.
      if (attempt < 5 && RACED_ERRNOS.has(errnoOf(error) ?? '')) return await look(attempt + 1);
      throw error;
    }
  };
  const work = look(0).catch((error: unknown) => {
    throw fromFsError(error, 'cannot read', path);
  });
  return await abortable(work, options.signal);
}

/**
 * Reads the target of the link at `path`: a native symlink, or a Minshall+French file read
 * as the Linux kernel reads it (or strictly). Returns a UTF-8 string by default; pass
 * `encoding: 'buffer'` for the exact bytes (targets need not be UTF-8).
 * @throws {MfSymlinkError} `WARDEN_ERR_MFSYMLINK_NOT_FOUND`, `…_NOT_A_LINK` (its `cause` is the
 *   decode error for a malformed 1067-byte file), `…_IO`.
 * @example await readSymlink('data/acme/tool/aliases/latest') // '../versions/1.2.0'
 */
export function readSymlink(path: string, options?: ReadSymlinkOptions & { encoding?: 'utf8' }): Promise<string>;
export function readSymlink(path: string, options: ReadSymlinkOptions & { encoding: 'buffer' }): Promise<Buffer>;
export function readSymlink(path: string, options?: ReadSymlinkOptions & { encoding?: 'utf8' | 'buffer' }): Promise<string | Buffer>;
export async function readSymlink(
  path: string,
  options: ReadSymlinkOptions & { encoding?: 'utf8' | 'buffer' } = {},
): Promise<string | Buffer> {
  const { encoding = 'utf8' } = options;
  if (encoding !== 'utf8' && encoding !== 'buffer') {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT', `encoding must be 'utf8' or 'buffer', not ${String(encoding)}`);
  }
  const found = await inspectLink(path, options);
  if (found.kind === 'none') throw found.reason;
  return encoding === 'buffer' ? found.target : found.target.toString('utf8');
}

/**
 * Tells how the link at `path` is stored: `'native'`, `'mf'` (a valid Minshall+French file),
 * or `'none'` (missing, a directory, any other file, or a malformed 1067-byte file).
 * @throws {MfSymlinkError} `WARDEN_ERR_MFSYMLINK_IO` when the path cannot be read.
 */
export async function linkKind(path: string, options: ReadSymlinkOptions = {}): Promise<'native' | 'mf' | 'none'> {
  return (await inspectLink(path, options)).kind;
}
