import { ElectionError } from './errors.js';

/** Maps every code of PartitionSet to a one-line meaning (kept in sync with docs/errors.md by a test). */
export const PARTITION_ERROR_CODES: Readonly<Record<string, string>> = Object.freeze({
  WARDEN_ERR_PARTITION_INVALID_OPTIONS: 'partition set options are not valid (partition count, member id or url, prefix, timeouts)',
  WARDEN_ERR_PARTITION_CLOSED: 'the partition set was closed, or its session ended; create a new one',
  WARDEN_ERR_PARTITION_STARTED: 'start() was called twice on the same partition set',
  WARDEN_ERR_PARTITION_RELEASED: 'this node stopped leading the partition: handed over to its new target, or the set is closing',
  WARDEN_ERR_PARTITION_DRAIN_TIMEOUT: 'the drain of a partition did not finish within drainTimeoutMs; the partition was resigned anyway',
});

/** Tells that a PartitionSet call or partition leadership failed; `code` is one of PARTITION_ERROR_CODES. */
export class PartitionError extends ElectionError {
  override name = 'PartitionError';
}
