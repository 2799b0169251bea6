/**
 * Errors of the store. Every error carries a stable `code` (`WARDEN_ERR_STORE_*`); fs errors
 * are converted once, here at the edge, by {@link fromFsError}.
 */

/** Meaning of every store error code, kept in sync with `docs/errors.md` by a test. */
export const ERROR_CODES: Readonly<Record<string, string>> = {
  WARDEN_ERR_STORE_BAD_NAME: 'an owner, name, version or alias does not match [A-Za-z0-9][A-Za-z0-9._-]{0,127}, contains "..", or a version ends in ".json"',
  WARDEN_ERR_STORE_NOT_FOUND: 'the owner/name, version or alias does not exist',
  WARDEN_ERR_STORE_VERSION_CONFLICT: 'the version already exists with different content (versions are immutable)',
  WARDEN_ERR_STORE_DIGEST_MISMATCH: 'the uploaded bytes do not match the sha256 the client announced; nothing was kept',
  WARDEN_ERR_STORE_TOO_LARGE: 'the upload exceeds the size limit; nothing was kept',
  WARDEN_ERR_STORE_UPLOAD_ABORTED: 'the upload stream ended early or failed; nothing was kept',
  WARDEN_ERR_STORE_PRECONDITION_FAILED: 'the alias does not point where If-Match said (compare-and-set lost)',
  WARDEN_ERR_STORE_VERSION_ALIASED: 'the version is the target of an alias; delete refused unless forced',
  WARDEN_ERR_STORE_CORRUPT_ALIAS: 'an alias does not point exactly to ../versions/<valid version>; it is never followed',
  WARDEN_ERR_STORE_CORRUPT_METADATA: 'a version\'s metadata file is missing fields or does not parse',
  WARDEN_ERR_STORE_UNSAFE_PATH: 'a path component inside DATA is a symlink or not the expected kind of file; never followed',
  WARDEN_ERR_STORE_NOT_WRITER: 'this node may not write for the owner (not its partition leader, or leadership lost before commit)',
  WARDEN_ERR_STORE_CLOSED: 'the store was closed',
  WARDEN_ERR_STORE_INVALID_OPTIONS: 'a store option is out of range (e.g. hash threads not an integer in 0..64)',
  WARDEN_ERR_STORE_HASH_THREAD: 'the thread hashing an upload stopped; nothing was kept (retryable)',
  WARDEN_ERR_STORE_IO: 'an unexpected file-system error',
};

/** Options of {@link StoreError}. */
export interface StoreErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

/** Base class of every error the store throws. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  readonly code: string;
  readonly retryable: boolean;

  /** Creates an error with a stable code from {@link ERROR_CODES}. */
  constructor(code: keyof typeof ERROR_CODES & string, message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Converts a foreign (fs) error into a {@link StoreError}; passes StoreErrors through. */
export function fromFsError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new StoreError('WARDEN_ERR_STORE_NOT_FOUND', `${what}: not found`, { cause: error });
  if (code === 'ELOOP') return new StoreError('WARDEN_ERR_STORE_UNSAFE_PATH', `${what}: symlink refused`, { cause: error });
  const retryable = code === 'EAGAIN' || code === 'EBUSY' || code === 'EMFILE' || code === 'ENFILE';
  return new StoreError('WARDEN_ERR_STORE_IO', `${what}: ${code ?? 'error'}`, { cause: error, retryable });
}
