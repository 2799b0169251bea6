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
