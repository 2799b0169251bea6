/**
 * Who may write for an owner. In the embedded single-node default this node leads every
 * partition and the answer is always yes; cluster mode injects an authority backed by the
 * partition elections, whose guard turns false the moment leadership is lost.
 */

/** Permission to write for one owner, checked again right before every commit lands. */
export interface WriteGuard {
  /** The fencing token of the leadership this write runs under (recorded in metadata). */
  readonly fencingToken: string;
  /** Aborted when the permission ends (leadership lost); commits check it before renaming. */
  readonly signal: AbortSignal;
  /**
   * Proves the permission still holds, against the coordinator, right before a commit lands
   * (cluster mode: a transaction guarded by the leader key's create revision). Rejects with a
   * retryable `WARDEN_ERR_STORE_NOT_WRITER` StoreError when it does not; the commit is then
   * abandoned. Optional: the single-node authority has nothing to check.
   */
  beforeCommit?(change: StoreChangeRef): Promise<void>;
  /**
   * Returns false once the permission ended, checked synchronously immediately before each
   * rename (cluster mode: the session's local deadline). Default: `!signal.aborted`.
   */
  isValid?(): boolean;
  /** Announces a landed commit (cluster mode: other nodes drop their cached copies); awaited before the answer. */
  afterCommit?(change: StoreChangeRef): Promise<void>;
  /** Ends the write that acquired this guard (drains count it); called once, committed or not. */
  release?(): void;
}

/** What a commit changes, as told to {@link WriteGuard} hooks. */
export interface StoreChangeRef {
  readonly kind: 'version' | 'alias';
  readonly owner: string;
  readonly name: string;
  readonly key: string;
  /**
   * True when the commit only adds a new version: nothing any node cached can be stale
   * because of it (caches hold existing versions and aliases only), so no announcement is needed.
   */
  readonly addsOnly?: boolean;
}

/** Grants {@link WriteGuard}s; the store asks it before every write. */
export interface WriteAuthority {
  /**
   * Resolves a guard when this node may write for `owner`; rejects with a
   * `WARDEN_ERR_STORE_NOT_WRITER` StoreError otherwise.
   */
  acquire(owner: string, options?: { signal?: AbortSignal }): Promise<WriteGuard>;
}

/** Options of {@link localWriteAuthority}. */
export interface LocalWriteAuthorityOptions {
  /** Fencing token recorded in metadata. Default `'local-1'`. */
  fencingToken?: string;
}

/** Creates the single-node authority: this node leads everything, forever. */
export function localWriteAuthority(options: LocalWriteAuthorityOptions = {}): WriteAuthority {
  const guard: WriteGuard = { fencingToken: options.fencingToken ?? 'local-1', signal: new AbortController().signal };
  return {
    acquire: async (_owner, opts = {}) => {
      opts.signal?.throwIfAborted();
      return guard;
    },
  };
}
