/**
 * Integrity scrub: re-reads committed versions at a bounded byte rate, re-hashes them and
 * compares with their metadata. A mismatch (different sha256, or a size that disagrees) is
 * reported and, by default, the version is quarantined ({@link Store.quarantineVersion}): it
 * stops being served (404) and its bytes and metadata are kept for inspection under
 * `DATA/.warden/quarantine/`. Leader-only work, like retention.
 */
import { createHash } from 'node:crypto';
import { StoreError } from './errors.js';
import { RateLimiter, type JobClock } from './rate-limiter.js';
import { selectOwners, type OwnerSelection } from './retention.js';
import type { Store } from './store.js';
import { listNames } from './walk.js';

/** Default scrub rate: 8 MiB/s, gentle on a shared NFS or SMB volume. */
export const DEFAULT_SCRUB_BYTES_PER_SECOND = 8 * 1024 * 1024;

/** A version whose bytes no longer match its metadata. */
export interface ScrubMismatch {
  readonly owner: string;
  readonly name: string;
  readonly version: string;
  /** `sha256`: the bytes hash differently; `size`: the file is longer or shorter than recorded. */
  readonly reason: 'sha256' | 'size';
  readonly expectedSha256: string;
  /** Hash of the bytes read (undefined for a size mismatch). */
  readonly actualSha256: string | undefined;
  /** Where it was moved, or undefined when not quarantined (disabled, or it changed meanwhile). */
  readonly quarantinedTo: string | undefined;
}

/** Options of {@link scrubStore}. */
export interface ScrubOptions extends OwnerSelection {
  /** Byte rate limiter; share one across calls so the bound holds across owners and passes. Default: a new one at 8 MiB/s. */
  limiter?: RateLimiter;
  /** Clock of the default limiter (tests). */
  clock?: JobClock;
  /** Quarantine mismatched versions. Default true. */
  quarantine?: boolean;
  /** Stops the work between two reads; the call then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Called for each mismatch, after quarantine. */
  onMismatch?: (mismatch: ScrubMismatch) => void;
  /** Called after each version read, with its size. */
  onVersion?: (owner: string, name: string, version: string, bytes: number) => void;
  /** Called when a version cannot be checked (unreadable metadata, I/O error); the scrub goes on. */
  onError?: (error: StoreError, owner: string, name: string, version: string) => void;
}

/** What a scrub pass did. */
export interface ScrubResult {
  readonly versions: number;
  readonly bytes: number;
  readonly mismatches: ScrubMismatch[];
}

/** Result of {@link checkVersion}. */
export type VersionCheck =
  | { readonly status: 'ok'; readonly bytes: number }
  | { readonly status: 'missing'; readonly bytes: number }
  | { readonly status: 'mismatch'; readonly reason: 'sha256' | 'size'; readonly expectedSha256: string; readonly actualSha256: string | undefined; readonly bytes: number };

/** Largest single read; also bounded by the limiter's burst so one read never overdraws it. */
const CHUNK = 256 * 1024;

/**
 * Re-hashes one version at the limiter's rate. Resolves `ok`, a mismatch reason, or
 * `missing` (deleted meanwhile). Rejects with `signal.reason` when aborted.
 */
export async function checkVersion(
  store: Store,
  owner: string,
  name: string,
  version: string,
  options: { limiter: RateLimiter; signal?: AbortSignal | undefined },
): Promise<VersionCheck> {
  const { limiter, signal } = options;
  let opened;
  try {
    opened = await store.openVersion(owner, name, version);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'WARDEN_ERR_STORE_NOT_FOUND') return { status: 'missing', bytes: 0 };
    if (error instanceof StoreError && error.code === 'WARDEN_ERR_STORE_CORRUPT_METADATA') {
      // openVersion reports a size disagreement this way; unparsable metadata stays an error.
      const meta = await store.readMeta(owner, name, version).catch(() => undefined);
      if (meta) return { status: 'mismatch', reason: 'size', expectedSha256: meta.sha256, actualSha256: undefined, bytes: 0 };
    }
    throw error;
  }
  const hash = createHash('sha256');
  const chunkSize = Math.max(1, Math.min(CHUNK, limiter.burstBytes));
  const buffer = Buffer.allocUnsafe(chunkSize);
  let read = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      // Charge what we ask for (one byte to see the end): small files cost what they weigh.
      const want = Math.max(1, Math.min(chunkSize, opened.meta.size - read));
      await limiter.take(want, signal ? { signal } : {});
      const { bytesRead } = await opened.handle.read(buffer, 0, want, read);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      read += bytesRead;
    }
  } finally {
    await opened.handle.close();
  }
  if (read !== opened.meta.size) return { status: 'mismatch', reason: 'size', expectedSha256: opened.meta.sha256, actualSha256: undefined, bytes: read };
  const actual = hash.digest('hex');
  if (actual !== opened.meta.sha256) return { status: 'mismatch', reason: 'sha256', expectedSha256: opened.meta.sha256, actualSha256: actual, bytes: read };
  return { status: 'ok', bytes: read };
}

/**
 * Scrubs every version of the selected owners (owners, names and versions in sorted order).
 * Rejects with `signal.reason` once the signal aborts; never reads faster than the limiter.
 */
export async function scrubStore(store: Store, options: ScrubOptions = {}): Promise<ScrubResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const limiter = options.limiter ?? new RateLimiter(DEFAULT_SCRUB_BYTES_PER_SECOND, options.clock ? { clock: options.clock } : {});
  const result = { versions: 0, bytes: 0, mismatches: [] as ScrubMismatch[] };
  for (const owner of await selectOwners(store, options)) {
    for (const name of await listNames(store.root, owner)) {
      signal?.throwIfAborted();
      const versions = (await store.listVersionNames(owner, name)).sort();
      for (const version of versions) {
        let checked;
        try {
          checked = await checkVersion(store, owner, name, version, { limiter, signal });
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          if (!(error instanceof StoreError)) throw error;
          if (error.code === 'WARDEN_ERR_STORE_CLOSED') throw error;
          options.onError?.(error, owner, name, version);
          continue;
        }
        if (checked.status === 'missing') continue;
        result.versions++;
        result.bytes += checked.bytes;
        options.onVersion?.(owner, name, version, checked.bytes);
        if (checked.status !== 'mismatch') continue;
        let quarantinedTo: string | undefined;
        if (options.quarantine ?? true) {
          signal?.throwIfAborted();
          const report = { reason: checked.reason, expectedSha256: checked.expectedSha256, actualSha256: checked.actualSha256 ?? null, bytesRead: checked.bytes };
          quarantinedTo = (await store.quarantineVersion(owner, name, version, { expectSha256: checked.expectedSha256, report, ...(signal ? { signal } : {}) })) ?? undefined;
        }
        const mismatch: ScrubMismatch = { owner, name, version, reason: checked.reason, expectedSha256: checked.expectedSha256, actualSha256: checked.actualSha256, quarantinedTo };
        result.mismatches.push(mismatch);
        options.onMismatch?.(mismatch);
      }
    }
  }
  return result;
}
