/**
 * Errors of the cluster glue (`src/cluster/`): options and lifecycle. Write refusals are store
 * errors (`WARDEN_ERR_STORE_NOT_WRITER`, retryable) and routing refusals are HTTP errors, so
 * the single code → status table keeps answering them.
 */

/** Meaning of every cluster error code, kept in sync with `docs/errors.md` by a test. */
export const ERROR_CODES: Readonly<Record<string, string>> = {
  WARDEN_ERR_CLUSTER_INVALID_OPTIONS: 'a cluster option is missing or out of range (endpoints, advertise URL, node id, partitions, TTL)',
  WARDEN_ERR_CLUSTER_CLOSED: 'the cluster node was closed',
};

/** Codes of {@link ClusterError}. */
export type ClusterErrorCode = keyof typeof ERROR_CODES & string;

/** Base class of the cluster glue's errors. */
export class ClusterError extends Error {
  override readonly name: string = 'ClusterError';
  readonly code: string;
  readonly retryable: boolean;

  /** Creates an error with a stable code from {@link ERROR_CODES}. */
  constructor(code: ClusterErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
