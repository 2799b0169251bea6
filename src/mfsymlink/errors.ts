/**
 * Errors of `warden/mfsymlink`. Every failure the part reports is an {@link MfSymlinkError}
 * with a stable `code`; file-system errors are converted once, where they happen.
 */

/** Code → one-line meaning, for every error this part can raise (mirrored in docs/errors.md). */
export const ERROR_CODES: Readonly<Record<string, string>> = Object.freeze({
  WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT: 'an argument has the wrong type or value (not bytes, unknown mode, lone surrogate in a string target)',
  WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG: 'the target is longer than 1024 bytes, the most a Minshall+French file can hold (the kernel returns ENAMETOOLONG)',
  WARDEN_ERR_MFSYMLINK_TARGET_NUL: 'the target contains a NUL byte, which no symlink can hold',
  WARDEN_ERR_MFSYMLINK_TARGET_EMPTY: 'the target is empty; symlink(2) refuses empty targets, so createSymlink does too',
  WARDEN_ERR_MFSYMLINK_BAD_SIZE: 'the file is not exactly 1067 bytes, so the kernel treats it as a regular file',
  WARDEN_ERR_MFSYMLINK_BAD_MAGIC: 'the file does not start with the XSym magic (strict: exactly "XSym\\n")',
  WARDEN_ERR_MFSYMLINK_BAD_LENGTH: 'the length field has no decimal digit where the kernel looks for one (strict: not 4 digits and a newline)',
  WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE: 'the length field is above 1024',
  WARDEN_ERR_MFSYMLINK_BAD_HASH: 'the MD5 field does not match the target (kernel: first 17 lower-case hex characters; strict: all 32 and a newline)',
  WARDEN_ERR_MFSYMLINK_NOT_CANONICAL: 'strict reading only: the kernel would accept the file, but its bytes differ from what the kernel writes (NUL in target, newline or padding)',
  WARDEN_ERR_MFSYMLINK_NOT_FOUND: 'the path does not exist',
  WARDEN_ERR_MFSYMLINK_NOT_A_LINK: 'the path is neither a native symlink nor a valid Minshall+French file (the cause says why)',
  WARDEN_ERR_MFSYMLINK_EXISTS: 'the path already exists and replace was not requested',
  WARDEN_ERR_MFSYMLINK_NOT_SUPPORTED: 'native symlinks were asked for on a file system that does not support them',
  WARDEN_ERR_MFSYMLINK_IO: 'a file-system call failed (the cause holds the original error and its errno code)',
});

/** Options of the {@link MfSymlinkError} constructor. */
export interface MfSymlinkErrorOptions {
  /** The error this one wraps (an fs error, or a decode error behind NOT_A_LINK). Default: none. */
  cause?: unknown;
  /** Whether trying again unchanged may succeed. Default: `false`. */
  retryable?: boolean;
  /** The file the error is about, when there is one. Default: none. */
  path?: string;
}

/** Reports any failure of `warden/mfsymlink`; switch on `code`, never on `message`. */
export class MfSymlinkError extends Error {
  override readonly name = 'MfSymlinkError';
  /** Stable code, one of {@link ERROR_CODES}. */
  readonly code: string;
  /** Whether trying again unchanged may succeed (transient I/O errors only). */
  readonly retryable: boolean;
  /** The file the error is about, when there is one. */
  readonly path: string | undefined;

  /** Creates an error with a code from {@link ERROR_CODES}. */
  constructor(code: string, message: string, options: MfSymlinkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.path = options.path;
  }
}

/** Returns whether `error` is an {@link MfSymlinkError}, optionally with the given code. */
export function isMfSymlinkError(error: unknown, code?: string): error is MfSymlinkError {
  return error instanceof MfSymlinkError && (code === undefined || error.code === code);
}

const RETRYABLE_ERRNO = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ESTALE']);

/** Returns the errno code (`'ENOENT'`…) of a Node.js system error, if it has one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Converts a foreign (fs) error into an {@link MfSymlinkError}; coded errors and abort
 * reasons pass through untouched.
 */
export function fromFsError(error: unknown, what: string, path: string, signal?: AbortSignal): unknown {
  if (error instanceof MfSymlinkError) return error;
  if (signal?.aborted && error === signal.reason) return error;
  const errno = errnoOf(error);
  if (errno === 'ENOENT') {
    return new MfSymlinkError('WARDEN_ERR_MFSYMLINK_NOT_FOUND', `${what} ${path}: no such file or directory`, { cause: error, path });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new MfSymlinkError('WARDEN_ERR_MFSYMLINK_IO', `${what} ${path}: ${detail}`, {
    cause: error,
    path,
    retryable: errno !== undefined && RETRYABLE_ERRNO.has(errno),
  });
}
