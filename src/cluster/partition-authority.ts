/**
 * The cluster's {@link WriteAuthority}: a guard for an owner is granted only while this node
 * leads `partitionOf(owner)`. Its fencing token is the leader key's create revision, its
 * signal the leadership's signal, and before each commit lands `beforeCommit` runs one etcd
 * transaction guarded by that revision: if it does not succeed, the commit does not happen.
 * For changes other nodes may have cached (alias moves and deletes, version deletes) the same
 * transaction bumps the owner's generation key (`<prefix>gen/<owner>`) and `afterCommit`
 * bumps it again once the files moved, so every node drops its cached copies one watch round
 * trip after the answer (the first bump may be seen before the files moved, and a reader
 * could re-cache the old state in between). A new version changes nothing cached: its proof
 * is a read-only transaction and nothing is announced.
 */
import type { Backend, Leadership, PartitionSet, Session } from 'warden/election';
import { StoreError, type StoreChangeRef, type WriteAuthority, type WriteGuard } from 'warden/store';

/** The live part of a node the authority asks: its session, partition set and in-flight counts. */
export interface LiveMembership {
  readonly session: Session;
  readonly set: PartitionSet;
  /** In-flight writes per partition (the handover drain waits for them). */
  readonly inflight: Int32Array;
  /** Called when a partition's in-flight count drops to 0. */
  idle(partition: number): void;
}

/** Options of {@link partitionAuthority}. */
export interface PartitionAuthorityOptions {
  /** Returns the live membership, or undefined while the node has no session. */
  current(): LiveMembership | undefined;
  /** Key prefix of generation keys, '/…/'. The key of an owner is `${genPrefix}${owner}`. */
  genPrefix: string;
  /** This node's id (recorded in generation values). */
  nodeId: string;
  /** Deadline of the fencing transaction, ms (also bounded by the session's time left). Default 1_000. */
  fenceTimeoutMs?: number;
  /** Receives failures of the post-commit announcement (the commit stands). */
  onError?(error: unknown): void;
}

function notWriter(message: string, cause?: unknown): StoreError {
  return new StoreError('WARDEN_ERR_STORE_NOT_WRITER', message, cause === undefined ? { retryable: true } : { retryable: true, cause });
}

/** Creates the write authority backed by the node's partition leaderships. */
export function partitionAuthority(options: PartitionAuthorityOptions): WriteAuthority {
  const fenceTimeoutMs = options.fenceTimeoutMs ?? 700;
  return {
    async acquire(owner, opts = {}) {
      opts.signal?.throwIfAborted();
      const live = options.current();
      if (!live || live.session.signal.aborted) throw notWriter(`no cluster session: cannot write for ${owner} now`);
      const p = live.set.partitionOf(owner);
      const leadership = live.set.leadership(p);
      if (!leadership || leadership.signal.aborted) throw notWriter(`this node does not lead partition ${p} (owner ${owner})`);
      live.inflight[p] = (live.inflight[p] ?? 0) + 1;
      return makeGuard(live, p, leadership, owner);
    },
  };

  function makeGuard(live: LiveMembership, p: number, leadership: Leadership, owner: string): WriteGuard {
    const { session } = live;
    const backend: Backend = session.backend;
    const key = `${options.genPrefix}${owner}`;
    let released = false;
    const value = (change: StoreChangeRef, phase: 'commit' | 'landed'): string =>
      JSON.stringify({ node: options.nodeId, partition: p, token: leadership.fencingToken, phase, kind: change.kind, name: change.name, key: change.key });
    const isValid = (): boolean => session.isLive() && !leadership.signal.aborted;
    return {
      fencingToken: leadership.fencingToken,
      signal: leadership.signal,
      isValid,
      async beforeCommit(change) {
        if (!isValid()) throw notWriter(`lost leadership of partition ${p} before the commit of ${owner}`);
        let succeeded: boolean;
        try {
          const r = await backend.txn(
            // A new version needs only the proof (a read-only transaction: no raft write); a
            // change others may have cached also bumps the owner's generation.
            { compare: [leadership.guard()], success: change.addsOnly ? [{ type: 'get', key }] : [{ type: 'put', key, value: value(change, 'commit') }] },
            { timeoutMs: Math.max(1, Math.min(fenceTimeoutMs, session.rpcTimeout())), signal: leadership.signal },
          );
          succeeded = r.succeeded;
        } catch (error) {
          throw notWriter(`fencing check for partition ${p} failed (etcd unavailable?): ${(error as Error).message}`, error);
        }
        if (!succeeded) throw notWriter(`fencing token ${leadership.fencingToken} of partition ${p} is no longer the leader's`);
      },
      async afterCommit(change) {
        if (change.addsOnly) return;
        try {
          await backend.txn(
            { compare: [leadership.guard()], success: [{ type: 'put', key, value: value(change, 'landed') }] },
            { timeoutMs: Math.max(1, Math.min(fenceTimeoutMs, session.rpcTimeout())) },
          );
        } catch (error) {
          // The commit stands; other nodes' caches expire on their own (1 s) in the worst case.
          options.onError?.(error);
        }
      },
      release() {
        if (released) return;
        released = true;
        const left = (live.inflight[p] = (live.inflight[p] ?? 1) - 1);
        if (left <= 0) live.idle(p);
      },
    };
  }
}
