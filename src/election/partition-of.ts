import { createHash } from 'node:crypto';

/**
 * Maps a key (an owner name, a user id) to its partition in `[0, partitions)`.
 *
 * The hash is part of Warden's wire contract and must give the same answer on every node and
 * in every language: take the SHA-256 digest of the key's UTF-8 bytes, read its first 4 bytes
 * as a big-endian unsigned 32-bit integer, and reduce it modulo `partitions`.
 *
 * @example
 * partitionOf('alice', 64); // 9 — the same on every node and every run
 * @throws RangeError when `partitions` is not an integer in [1, 2^31].
 */
export function partitionOf(key: string, partitions: number): number {
  assertPartitionCount(partitions);
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return digest.readUInt32BE(0) % partitions;
}

/** Throws a RangeError unless `partitions` is an integer in [1, 2^31]. */
export function assertPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 2 ** 31) {
    throw new RangeError(`partitions must be an integer in [1, 2^31], got ${String(partitions)}`);
  }
}
