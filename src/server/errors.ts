/**
 * Errors of the HTTP server, and the one table that maps every error code (store and server)
 * to an HTTP status.
 */
import { ERROR_CODES as STORE_CODES } from 'warden/store';

/** Meaning of every server error code, kept in sync with `docs/errors.md` by a test. */
export const ERROR_CODES: Readonly<Record<string, string>> = {
  WARDEN_ERR_HTTP_BAD_PATH: 'the request path is not a valid /v1 path: bad percent-encoding, invalid UTF-8, or a segment that is not a valid name',
  WARDEN_ERR_HTTP_BAD_REQUEST: 'a malformed header or body (sha256 header, alias JSON body, query flag)',
  WARDEN_ERR_HTTP_NOT_FOUND: 'no such route',
  WARDEN_ERR_HTTP_METHOD_NOT_ALLOWED: 'the route exists but not with this method',
  WARDEN_ERR_HTTP_RANGE_NOT_SATISFIABLE: 'the Range starts past the end of the content',
  WARDEN_ERR_HTTP_CLOSING: 'the server is shutting down; retry on another node or later',
  WARDEN_ERR_HTTP_INTERNAL: 'an unexpected error; details are in the server log under the request id',
  WARDEN_ERR_AUTH_MISSING: 'the request needs a bearer token and carries none (or a malformed Authorization header)',
  WARDEN_ERR_AUTH_INVALID: 'the bearer token is not in the tokens file (or no tokens file is configured)',
  WARDEN_ERR_AUTH_FORBIDDEN: 'the token is valid but not for this owner or this scope',
  WARDEN_ERR_SERVER_TOKENS_FILE: 'the tokens file cannot be read or is not valid (at start-up)',
  WARDEN_ERR_SERVER_CLOSED: 'the server object was closed',
  WARDEN_ERR_HTTP_NO_LEADER: "the owner's partition has no reachable leader now (election under way, etcd unavailable, or a forwarded request reached a non-leader); retry",
  WARDEN_ERR_HTTP_FORWARD_FAILED: 'forwarding the write to the partition leader failed mid-flight; nothing was committed unless a retry says identical',
  WARDEN_ERR_HTTP_NOT_READY: 'the node is not ready (cluster session lost or not yet joined); reads still work',
};

/** Options of {@link ServerError}. */
export interface ServerErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

/** Base class of every error the server throws. */
export class ServerError extends Error {
  override readonly name: string = 'ServerError';
  readonly code: string;
  readonly retryable: boolean;

  /** Creates an error with a stable code from {@link ERROR_CODES}. */
  constructor(code: keyof typeof ERROR_CODES & string, message: string, options: ServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** The single code → HTTP status table (store and server codes). */
export const HTTP_STATUS: Readonly<Record<string, number>> = {
  WARDEN_ERR_STORE_BAD_NAME: 400,
  WARDEN_ERR_STORE_NOT_FOUND: 404,
  WARDEN_ERR_STORE_VERSION_CONFLICT: 409,
  WARDEN_ERR_STORE_DIGEST_MISMATCH: 400,
  WARDEN_ERR_STORE_TOO_LARGE: 413,
  WARDEN_ERR_STORE_UPLOAD_ABORTED: 400,
  WARDEN_ERR_STORE_PRECONDITION_FAILED: 412,
  WARDEN_ERR_STORE_VERSION_ALIASED: 409,
  WARDEN_ERR_STORE_CORRUPT_ALIAS: 500,
  WARDEN_ERR_STORE_CORRUPT_METADATA: 500,
  WARDEN_ERR_STORE_UNSAFE_PATH: 404,
  WARDEN_ERR_STORE_NOT_WRITER: 503,
  WARDEN_ERR_STORE_CLOSED: 503,
  WARDEN_ERR_STORE_HASH_THREAD: 503,
  WARDEN_ERR_STORE_INVALID_OPTIONS: 500,
  WARDEN_ERR_STORE_IO: 500,
  WARDEN_ERR_HTTP_BAD_PATH: 400,
  WARDEN_ERR_HTTP_BAD_REQUEST: 400,
  WARDEN_ERR_HTTP_NOT_FOUND: 404,
  WARDEN_ERR_HTTP_METHOD_NOT_ALLOWED: 405,
  WARDEN_ERR_HTTP_RANGE_NOT_SATISFIABLE: 416,
  WARDEN_ERR_HTTP_CLOSING: 503,
  WARDEN_ERR_HTTP_INTERNAL: 500,
  WARDEN_ERR_AUTH_MISSING: 401,
  WARDEN_ERR_AUTH_INVALID: 401,
  WARDEN_ERR_AUTH_FORBIDDEN: 403,
  WARDEN_ERR_SERVER_TOKENS_FILE: 500,
  WARDEN_ERR_SERVER_CLOSED: 503,
  WARDEN_ERR_HTTP_NO_LEADER: 503,
  WARDEN_ERR_HTTP_FORWARD_FAILED: 503,
  WARDEN_ERR_HTTP_NOT_READY: 503,
};

/** Returns the HTTP status for an error code (500 for unknown codes). */
export function statusForCode(code: string): number {
  return HTTP_STATUS[code] ?? 500;
}

/** Every code the HTTP API can answer with. */
export const ALL_CODES: readonly string[] = [...Object.keys(STORE_CODES), ...Object.keys(ERROR_CODES)];
