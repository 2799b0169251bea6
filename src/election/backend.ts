/**
 * The small store interface the recipes (Session, Election, Lock) are built from. Two
 * implementations keep the same semantics: `createEtcdBackend` (etcd v3) and
 * `createMemoryBackend` (in-process). The contract suite (backend-contract.ts) runs on both.
 *
 * Keys and values are UTF-8 strings. Revisions are bigint. Lease ids are decimal strings
 * ('0' = no lease). Every call that talks to the store takes `{ signal?, timeoutMs? }` last.
 */

/** A stored key with its revisions. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the store when the key was created; stable until the key is deleted. */
  createRevision: bigint;
  /** Revision of the last modification of the key. */
  modRevision: bigint;
  /** Number of modifications since creation (1 after creation). */
  version: bigint;
  /** Decimal id of the lease the key is attached to, '0' for none. */
  lease: string;
}

/** Options of every store request. */
export interface CallOptions {
  /** Rejects with `signal.reason` when aborted (the request may still apply on the store). */
  signal?: AbortSignal;
  /** Deadline of the request in ms; default: the backend's `rpcTimeoutMs`. */
  timeoutMs?: number;
}

/** Options of a read. Reads are linearizable. */
export interface GetOptions extends CallOptions {
  /** Treats `key` as a prefix (every key starting with it). Default false. */
  prefix?: boolean;
  /** Returns at most this many keys (0 = no limit). Default 0. */
  limit?: number;
  /** Orders by create revision. Default: by key, ascending. */
  sort?: 'createAscending' | 'createDescending';
  /** Only keys whose create revision is <= this. */
  maxCreateRevision?: bigint;
}

/** The result of a read: the keys and the store revision it was served at. */
export interface GetResult {
  kvs: KeyValue[];
  revision: bigint;
}

/** A comparison in a transaction. A missing key has createRevision/modRevision/version 0, value '' and lease '0'. */
export type Compare =
  | { key: string; target: 'createRevision' | 'modRevision' | 'version'; op: CompareOp; value: bigint }
  | { key: string; target: 'value'; op: CompareOp; value: string }
  | { key: string; target: 'lease'; op: '=' | '!='; value: string };

/** Comparison operators. */
export type CompareOp = '=' | '!=' | '<' | '>';

/** An operation inside a transaction. */
export type TxnOp =
  | { type: 'put'; key: string; value: string; lease?: string }
  | { type: 'delete'; key: string; prefix?: boolean }
  | { type: 'get'; key: string; prefix?: boolean; limit?: number; sort?: 'createAscending' | 'createDescending' };

/** The result of one transaction operation, in order. */
export type TxnOpResult =
  | { type: 'put' }
  | { type: 'delete'; deleted: number }
  | { type: 'get'; kvs: KeyValue[] };

/** A transaction: if every comparison holds, run `success`, else `failure`. */
export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

/** The outcome of a transaction and the store revision after it. */
export interface TxnResult {
  succeeded: boolean;
  revision: bigint;
  results: TxnOpResult[];
}

/** A granted lease. */
export interface LeaseGrant {
  /** Decimal lease id. */
  id: string;
  /** TTL the store granted, in ms (the store may round up). */
  ttlMs: number;
}

/** A change seen by a watch. `kv.modRevision` is the revision of the change. */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

/** Options of a watch. */
export interface WatchOptions {
  /** Watches every key under `key` as a prefix. Default false. */
  prefix?: boolean;
  /** First revision to report (history from then on). Default: changes after the watch starts. */
  fromRevision?: bigint;
  /** Called with each batch of events, in revision order; batches of one revision are never split. */
  onEvents(events: WatchEvent[]): void;
  /**
   * Called once when the watch ends for good (stream broken, no leader, compacted history,
   * backend closed); no events follow. Callers re-read and re-watch from their last revision.
   */
  onError(error: Error): void;
}

/** A running watch. */
export interface Watch {
  /** Stops the watch; idempotent; no callback runs afterwards. */
  close(): void;
}

/** The store primitives the recipes use. Implementations: etcd and memory. */
export interface Backend extends AsyncDisposable {
  readonly kind: 'etcd' | 'memory';
  /** Reads one key or a prefix, linearizably. */
  get(key: string, options?: GetOptions): Promise<GetResult>;
  /** Writes a key, optionally attached to a lease; returns the new store revision. */
  put(key: string, value: string, options?: CallOptions & { lease?: string }): Promise<bigint>;
  /** Deletes a key or a prefix; returns how many keys were deleted and the store revision. */
  delete(key: string, options?: CallOptions & { prefix?: boolean }): Promise<{ deleted: number; revision: bigint }>;
  /** Runs a transaction atomically. */
  txn(request: TxnRequest, options?: CallOptions): Promise<TxnResult>;
  /** Grants a lease of at least `ttlMs` (stores count in whole seconds and round up). */
  grantLease(ttlMs: number, options?: CallOptions): Promise<LeaseGrant>;
  /**
   * Sends one keepalive for a lease and resolves with the remaining TTL in ms the store
   * granted (0 = the lease is gone). Callers time the send themselves: the store renews
   * the lease after it receives the request, so `send time + ttl` bounds the server expiry.
   */
  keepAliveOnce(leaseId: string, options?: CallOptions): Promise<number>;
  /** Revokes a lease and deletes its keys; a lease that is already gone is not an error. */
  revokeLease(leaseId: string, options?: CallOptions): Promise<void>;
  /** Starts a watch on a key or prefix (with require-leader semantics on etcd). */
  watch(key: string, options: WatchOptions): Watch;
  /** Closes connections; idempotent; later calls reject with WARDEN_ERR_BACKEND_CLOSED. */
  close(): Promise<void>;
}
