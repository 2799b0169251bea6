import { linkSignals, throwIfAborted } from './abort.js';
import { Hold, type Guard } from './hold.js';
import { DEFAULT_PREFIX, checkName, checkPrefix, leaseHex } from './names.js';
import type { Session } from './session.js';
import { deleteIfOwned, enqueue, waitTurn, type Enqueued } from './waits.js';

/** A held lock. Ends (its `signal` aborts) on release, lost session or deleted key. */
export interface LockHandle extends AsyncDisposable {
  /** Decimal create revision of the lock key; strictly increasing from holder to holder. */
  readonly fencingToken: string;
  /** Aborts the moment the lock is lost or released; `reason` is a LeadershipEndedError (WARDEN_ERR_LOCK_LOST). */
  readonly signal: AbortSignal;
  /** The lock key. */
  readonly key: string;
  /** Releases the lock (signal first, then a guarded delete); idempotent. */
  release(options?: { signal?: AbortSignal }): Promise<void>;
  /** Returns the comparison "lock key still has this create revision" for backend txns. */
  guard(): Guard;
  /** Throws the end reason if the lock is no longer held (checks the session deadline synchronously). */
  check(): void;
  /** Returns true while held. */
  isHeld(): boolean;
}

/** Options of a Lock. */
export interface LockOptions {
  /** Key prefix; keys are `<prefix>lock/<name>/<leaseIdHex>`. Default '/warden/'. */
  prefix?: string;
}

const CODES = { ended: 'WARDEN_ERR_LOCK_LOST', notHeld: 'WARDEN_ERR_LOCK_LOST', what: 'lock' } as const;

/** Mutexes on a session: FIFO by create revision, with fencing tokens. */
export class Lock {
  /** The session locks are held with. */
  readonly session: Session;
  readonly #prefix: string;

  /** Creates a lock factory; throws WARDEN_ERR_LOCK_INVALID_NAME on a bad prefix. */
  constructor(session: Session, options: LockOptions = {}) {
    this.session = session;
    this.#prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX, 'WARDEN_ERR_LOCK_INVALID_NAME');
  }

  #keys(name: string): { dir: string; key: string } {
    const dir = `${this.#prefix}lock/${checkName(name, 'WARDEN_ERR_LOCK_INVALID_NAME')}/`;
    return { dir, key: `${dir}${leaseHex(this.session.leaseId)}` };
  }

  /**
   * Waits for the lock (first come, first served) and resolves with a handle. A cancelled
   * wait deletes its key. Rejects with WARDEN_ERR_LOCK_KEY_LOST when the key vanished while
   * waiting, WARDEN_ERR_LOCK_BUSY when this session already holds or waits for `name`.
   */
  async acquire(name: string, options: { signal?: AbortSignal } = {}): Promise<LockHandle> {
    const { dir, key } = this.#keys(name);
    throwIfAborted(options.signal);
    this.session.check();
    const startedAt = this.session.clock.now();
    const release = await this.session.claimKey(key, 'WARDEN_ERR_LOCK_BUSY');
    const { signal, dispose } = linkSignals(options.signal, this.session.signal);
    let created: Enqueued | undefined;
    try {
      created = await enqueue(this.session, key, '', signal, dir);
      if (created.oldest) this.session.check();
      else await waitTurn(this.session, dir, key, created.createRevision, created.revision, 'WARDEN_ERR_LOCK_KEY_LOST', signal);
      return new Hold(this.session, key, '', created.createRevision, created.revision, CODES, release, { kind: 'lock', name, startedAt });
    } catch (error) {
      release();
      if (!this.session.signal.aborted) await deleteIfOwned(this.session, key, created?.createRevision);
      throw error;
    } finally {
      dispose();
    }
  }

  /** Takes the lock if nobody holds or waits for it; otherwise resolves null (and leaves no key). */
  async tryAcquire(name: string, options: { signal?: AbortSignal } = {}): Promise<LockHandle | null> {
    const { dir, key } = this.#keys(name);
    throwIfAborted(options.signal);
    this.session.check();
    const startedAt = this.session.clock.now();
    const release = await this.session.claimKey(key, 'WARDEN_ERR_LOCK_BUSY');
    let created: { createRevision: bigint; revision: bigint } | undefined;
    try {
      const timeoutMs = this.session.rpcTimeout();
      const r = await this.session.backend.txn(
        {
          compare: [{ key, target: 'createRevision', op: '=', value: 0n }],
          success: [
            { type: 'put', key, value: '', lease: this.session.leaseId },
            { type: 'get', key: dir, prefix: true, sort: 'createAscending', limit: 1 },
          ],
          failure: [{ type: 'get', key }],
        },
        { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) },
      );
      if (!r.succeeded) {
        release();
        return null;
      }
      created = { createRevision: r.revision, revision: r.revision };
      const owner = r.results[1];
      const oldest = owner?.type === 'get' ? owner.kvs[0] : undefined;
      if (oldest === undefined || oldest.key !== key) {
        release();
        await deleteIfOwned(this.session, key, created.createRevision, Math.max(1_000, timeoutMs));
        return null;
      }
      this.session.check();
      return new Hold(this.session, key, '', created.createRevision, created.revision, CODES, release, { kind: 'lock', name, startedAt });
    } catch (error) {
      release();
      if (!this.session.signal.aborted) await deleteIfOwned(this.session, key, created?.createRevision);
      throw error;
    }
  }
}
