import type { Backend, KeyValue } from './backend.js';
import { delay, throwIfAborted } from './abort.js';
import { ElectionError } from './errors.js';
import type { Session } from './session.js';

/**
 * Resolves once `key` no longer holds the incarnation created at `createRevision` (deleted,
 * or deleted and re-created), watching from `fromRevision`. Survives broken watches by
 * re-reading the key linearizably and watching again. Rejects with `signal.reason`.
 */
export async function waitForDeletion(
  backend: Backend,
  key: string,
  createRevision: bigint,
  fromRevision: bigint,
  signal: AbortSignal,
): Promise<void> {
  let from = fromRevision;
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    const outcome = await new Promise<'gone' | 'retry'>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        watch.close();
        fn();
      };
      const onAbort = (): void => finish(() => reject(signal.reason));
      const watch = backend.watch(key, {
        fromRevision: from,
        onEvents(events) {
          for (const e of events) {
            if (e.type === 'delete' || e.kv.createRevision !== createRevision) return finish(() => resolve('gone'));
          }
        },
        onError: () => finish(() => resolve('retry')),
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (outcome === 'gone') return;
    // The watch broke: back off a little, then learn the truth with a linearizable read.
    await delay(Math.min(50 * 2 ** attempt, 500), signal);
    let current: KeyValue | undefined;
    try {
      const r = await backend.get(key, { signal });
      current = r.kvs[0];
      from = r.revision + 1n;
    } catch (error) {
      throwIfAborted(signal);
      if (error instanceof ElectionError && error.retryable) continue;
      throw error;
    }
    if (current === undefined || current.createRevision !== createRevision) return;
  }
}

/** The result of putting a candidate key in a queue. */
export interface Enqueued {
  createRevision: bigint;
  revision: bigint;
  /**
   * True when the key was created as the oldest key of its directory, read atomically in the
   * creating transaction: no predecessor, so there is nothing to wait for.
   */
  oldest: boolean;
}

/**
 * Creates `key` under the session's lease with `value` (txn: createRevision == 0), or adopts
 * it when this session's lease already owns it (a campaign retried after an error). With
 * `dir`, the creating transaction also reads the oldest key of `dir`, so an uncontended
 * campaign needs this one request: the read sees the store at the very revision that created
 * the key, a linearizable fact as strong as a later re-read.
 */
export async function enqueue(session: Session, key: string, value: string, signal: AbortSignal | undefined, dir?: string): Promise<Enqueued> {
  const r = await session.backend.txn(
    {
      compare: [{ key, target: 'createRevision', op: '=', value: 0n }],
      success: [
        { type: 'put', key, value, lease: session.leaseId },
        ...(dir === undefined ? [] : [{ type: 'get' as const, key: dir, prefix: true, sort: 'createAscending' as const, limit: 1 }]),
      ],
      failure: [{ type: 'get', key }],
    },
    { timeoutMs: session.rpcTimeout(), ...(signal ? { signal } : {}) },
  );
  if (r.succeeded) {
    const read = r.results[1];
    const first = read?.type === 'get' ? read.kvs[0] : undefined;
    const oldest = first !== undefined && first.key === key && first.createRevision === r.revision && first.lease === session.leaseId;
    return { createRevision: r.revision, revision: r.revision, oldest };
  }
  const first = r.results[0];
  const existing = first?.type === 'get' ? first.kvs[0] : undefined;
  if (existing === undefined) return await enqueue(session, key, value, signal, dir);
  if (existing.lease !== session.leaseId) {
    throw new ElectionError('WARDEN_ERR_BACKEND_FAILED', `${key} exists on lease ${existing.lease}, not this session's ${session.leaseId}`);
  }
  const put = await session.backend.txn(
    {
      compare: [{ key, target: 'createRevision', op: '=', value: existing.createRevision }],
      success: [{ type: 'put', key, value, lease: session.leaseId }],
    },
    { timeoutMs: session.rpcTimeout(), ...(signal ? { signal } : {}) },
  );
  if (!put.succeeded) return await enqueue(session, key, value, signal, dir);
  return { createRevision: existing.createRevision, revision: put.revision, oldest: false };
}

const WAIT_FINISHED = new Error('wait finished');

/**
 * Waits until `key` (created at `createRevision` in directory `dir`) is the oldest key of
 * `dir`: watches only the next older key (no herd), re-checks after each deletion, rejects
 * at once with `keyLostCode` when the own key disappears, and finally re-reads the own key
 * linearizably before resolving (etcd #11456, #19597).
 */
export async function waitTurn(
  session: Session,
  dir: string,
  key: string,
  createRevision: bigint,
  fromRevision: bigint,
  keyLostCode: string,
  signal: AbortSignal,
): Promise<void> {
  const backend = session.backend;
  const inner = new AbortController();
  const stop = (): void => inner.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  const onSession = (): void => inner.abort(session.signal.reason);
  session.signal.addEventListener('abort', onSession, { once: true });
  // Built only when needed: an error's stack trace costs more than the rest of a fast campaign.
  const keyLost = (): ElectionError => new ElectionError(keyLostCode, `candidate key ${key} disappeared while waiting`, { retryable: true });
  // Watching the own key turns "my key vanished" into an immediate rejection.
  const own = waitForDeletion(backend, key, createRevision, fromRevision + 1n, inner.signal).then(
    () => inner.abort(keyLost()),
    () => undefined,
  );
  try {
    if (signal.aborted) throw signal.reason;
    session.check();
    for (;;) {
      throwIfAborted(inner.signal);
      const r = await backend.get(dir, {
        prefix: true,
        sort: 'createDescending',
        limit: 1,
        maxCreateRevision: createRevision - 1n,
        timeoutMs: session.rpcTimeout(),
        signal: inner.signal,
      });
      const predecessor = r.kvs[0];
      if (predecessor === undefined) break;
      await waitForDeletion(backend, predecessor.key, predecessor.createRevision, r.revision + 1n, inner.signal);
    }
    session.check();
    const mine = await backend.get(key, { timeoutMs: session.rpcTimeout(), signal: inner.signal });
    const kv = mine.kvs[0];
    if (kv === undefined || kv.createRevision !== createRevision || kv.lease !== session.leaseId) throw keyLost();
    session.check();
  } finally {
    signal.removeEventListener('abort', stop);
    session.signal.removeEventListener('abort', onSession);
    if (!inner.signal.aborted) inner.abort(WAIT_FINISHED);
    await own;
  }
}

/**
 * Deletes `key` if it still has `createRevision` — or, when that is unknown (the create
 * request failed or was cancelled in flight and may still have applied), if it is on this
 * session's lease. Ignores errors: at worst the key goes when the lease expires.
 */
export async function deleteIfOwned(session: Session, key: string, createRevision: bigint | undefined, timeoutMs = 1_000): Promise<void> {
  try {
    await session.backend.txn(
      {
        compare: [
          createRevision === undefined
            ? { key, target: 'lease', op: '=', value: session.leaseId }
            : { key, target: 'createRevision', op: '=', value: createRevision },
        ],
        success: [{ type: 'delete', key }],
      },
      { timeoutMs },
    );
  } catch {
    // The key stays until the lease expires; nothing else can be done.
  }
}
