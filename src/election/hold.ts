import type { Compare } from './backend.js';
import { linkSignals, raceSignal, throwIfAborted } from './abort.js';
import type { Backend } from './backend.js';
import { ElectionError, LeadershipEndedError, type LeadershipEndReason } from './errors.js';
import { emit, type HoldKind } from './metrics.js';
import type { Session } from './session.js';
import { deleteIfOwned, waitForDeletion } from './waits.js';

/**
 * A transaction comparison that holds only while the leader (or lock) key still has the
 * create revision it had when granted. Put it in `backend.txn({ compare: [guard], … })`.
 */
export type Guard = Compare & { target: 'createRevision'; op: '=' };

/** Codes that differ between an election leadership and a lock hold. */
export interface HoldCodes {
  ended: 'WARDEN_ERR_ELECTION_LEADERSHIP_ENDED' | 'WARDEN_ERR_LOCK_LOST';
  notHeld: 'WARDEN_ERR_ELECTION_NOT_LEADER' | 'WARDEN_ERR_LOCK_LOST';
  what: string;
}

/** What a hold reports to the session's metrics hooks. */
export interface HoldInfo {
  kind: HoldKind;
  name: string;
  /** Clock time (session.clock.now()) when the campaign started. */
  startedAt: number;
}

/**
 * A granted candidate key: the leadership of an election or the hold of a lock. Its
 * `signal` aborts the moment it ends: resign/release, session lost (deadline, pause,
 * expiry, close), key deleted or replaced, runner shutdown.
 */
export class Hold implements AsyncDisposable {
  /** Decimal create revision of the key: strictly increasing from one holder to the next. */
  readonly fencingToken: string;
  /** The key this hold owns. */
  readonly key: string;
  readonly #session: Session;
  readonly #createRevision: bigint;
  readonly #controller = new AbortController();
  readonly #codes: HoldCodes;
  readonly #unlink: () => void;
  readonly #release: () => void;
  #value: string;
  #resigning: Promise<void> | undefined;
  readonly #info: HoldInfo | undefined;
  readonly #grantedAt: number;

  /** @internal created by Election.campaign and Lock.acquire. */
  constructor(
    session: Session,
    key: string,
    value: string,
    createRevision: bigint,
    fromRevision: bigint,
    codes: HoldCodes,
    release: () => void,
    info?: HoldInfo,
  ) {
    this.#session = session;
    this.#info = info;
    this.#grantedAt = session.clock.now();
    this.key = key;
    this.#value = value;
    this.#createRevision = createRevision;
    this.fencingToken = createRevision.toString();
    this.#codes = codes;
    const onSession = (): void => this.end('lost', session.signal.reason);
    session.signal.addEventListener('abort', onSession, { once: true });
    this.#unlink = () => session.signal.removeEventListener('abort', onSession);
    let released = false;
    this.#release = () => {
      if (released) return;
      released = true;
      release();
    };
    this.#controller.signal.addEventListener(
      'abort',
      () => {
        this.#unlink();
        // While a resignation deletes the key, the session must not start another
        // candidate on the same key: that one would see the deletion as a lost key.
        if (this.#resigning === undefined) this.#release();
      },
      { once: true },
    );
    if (info) {
      emit(session.metrics, 'elected', {
        kind: info.kind,
        name: info.name,
        key,
        fencingToken: this.fencingToken,
        campaignWaitMs: Math.max(0, this.#grantedAt - info.startedAt),
      });
    }
    if (session.signal.aborted) {
      this.end('lost', session.signal.reason);
      return;
    }
    waitForDeletion(session.backend, key, createRevision, fromRevision + 1n, this.#controller.signal).then(
      () => this.end('superseded'),
      () => undefined,
    );
  }

  /** Aborts when the hold ends; `reason` is a LeadershipEndedError. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Returns the value last written to the key by this holder. */
  get value(): string {
    return this.#value;
  }

  /** Throws the end reason if the hold ended, checking the session deadline synchronously first. */
  check(): void {
    this.#session.isLive();
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
  }

  /** Returns true while the hold is live (session deadline checked synchronously). */
  isHeld(): boolean {
    this.#session.isLive();
    return !this.#controller.signal.aborted;
  }

  /** Returns the comparison "key still has this create revision" for guarded transactions. */
  guard(): Guard {
    return { key: this.key, target: 'createRevision', op: '=', value: this.#createRevision };
  }

  /**
   * Ends the hold locally with `reason` (idempotent). @internal used by the runner ('shutdown').
   */
  end(reason: LeadershipEndReason, cause?: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(
      new LeadershipEndedError(this.#codes.ended, reason, `${this.#codes.what} ${this.key} ended: ${reason}`, cause === undefined ? {} : { cause }),
    );
    if (this.#info) {
      emit(this.#session.metrics, 'leadershipEnded', {
        kind: this.#info.kind,
        name: this.#info.name,
        key: this.key,
        fencingToken: this.fencingToken,
        reason,
        heldMs: Math.max(0, this.#session.clock.now() - this.#grantedAt),
      });
    }
  }

  /**
   * Writes a new value to the key, guarded by its create revision. Rejects with
   * NOT_LEADER (or LOCK_LOST) and ends the hold when the key is no longer this holder's.
   */
  async proclaim(value: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.check();
    const { signal, dispose } = linkSignals(options.signal, this.#controller.signal);
    try {
      const r = await raceSignal(
        this.#session.backend.txn(
          { compare: [this.guard()], success: [{ type: 'put', key: this.key, value, lease: this.#session.leaseId }] },
          { timeoutMs: this.#session.rpcTimeout(), signal },
        ),
        signal,
      );
      if (!r.succeeded) {
        this.end('superseded');
        throw new ElectionError(this.#codes.notHeld, `${this.key} is no longer held by this candidate`);
      }
      this.#value = value;
    } catch (error) {
      if (signal.aborted && signal.reason === error && this.#controller.signal.aborted && options.signal?.aborted !== true) {
        throw new ElectionError(this.#codes.notHeld, `${this.key} is no longer held by this candidate`, { cause: error });
      }
      throw error;
    } finally {
      dispose();
    }
  }

  /**
   * Ends the hold (the signal aborts first, so work stops before others can start), then
   * deletes the key guarded by its create revision. Idempotent; a key already gone is fine.
   */
  resign(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#resignWith(() => deleteIfOwned(this.#session, this.key, this.#createRevision, Math.max(1_000, this.#session.rpcTimeout())));
    return raceSignal(this.#resigning as Promise<void>, options.signal);
  }

  /** Starts the resignation once: end (signal first), then `remove` the key, then release it. */
  #resignWith(remove: () => Promise<void>): boolean {
    if (this.#resigning !== undefined) return false;
    const closed = this.#session.signal.reason instanceof ElectionError && this.#session.signal.reason.code === 'WARDEN_ERR_SESSION_CLOSED';
    // Set before end(): the abort listener then leaves the key claimed until the delete is done.
    this.#resigning = Promise.resolve();
    this.end('resigned');
    this.#resigning = (closed ? Promise.resolve() : remove()).finally(() => this.#release());
    this.#session.releasingKey(this.key, this.#resigning);
    return true;
  }

  /**
   * Hands leadership to one candidate (R8, like Patroni's switchover): waits until the
   * candidate `candidateId` (its LeaderInfo id: the last key segment) is next in line — the
   * oldest key after this one — then resigns with a transaction that deletes this key only
   * if both keys are still the ones seen. No key can later slip in between (create revisions
   * only grow), so the candidate is the one elected next. Other candidates are never skipped:
   * if one queues in between, this waits (up to `timeoutMs`) for it to leave.
   *
   * Rejects with WARDEN_ERR_ELECTION_HANDOVER_FAILED (still leading) when the candidate is not
   * next in line within `timeoutMs` (default 10_000), with NOT_LEADER when leadership ended
   * meanwhile, with `signal.reason` when aborted (still leading). If the candidate's key
   * vanishes in the instant between the check and the resign, this has already stopped
   * leading: it resigns plainly (the next in line takes over) and rejects with HANDOVER_FAILED.
   */
  async handoverTo(candidateId: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    this.check();
    throwIfAborted(options.signal);
    const dir = this.key.slice(0, this.key.lastIndexOf('/') + 1);
    const target = `${dir}${candidateId}`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (typeof candidateId !== 'string' || candidateId === '' || candidateId.includes('/') || target === this.key) {
      throw new ElectionError('WARDEN_ERR_ELECTION_HANDOVER_FAILED', `cannot hand over to ${JSON.stringify(candidateId)}: not another candidate id`);
    }
    const clock = this.#session.clock;
    const timeout = new AbortController();
    const timer = clock.setTimeout(
      () => timeout.abort(new ElectionError('WARDEN_ERR_ELECTION_HANDOVER_FAILED', `${candidateId} was not next in line for ${this.key} within ${timeoutMs} ms`, { retryable: true })),
      timeoutMs,
    );
    const { signal, dispose } = linkSignals(options.signal, timeout.signal, this.#controller.signal);
    const backend = this.#session.backend;
    let next: bigint | undefined;
    try {
      for (;;) {
        // This key is the oldest while it leads: the first two keys are this one and the next in line.
        const r = await backend.get(dir, { prefix: true, sort: 'createAscending', limit: 2, timeoutMs: this.#session.rpcTimeout(), signal });
        const [first, second] = r.kvs;
        if (first === undefined || first.key !== this.key || first.createRevision !== this.#createRevision) {
          this.end('superseded');
          throw new ElectionError(this.#codes.notHeld, `${this.key} is no longer held by this candidate`);
        }
        if (second?.key === target) {
          next = second.createRevision;
          break;
        }
        await changeIn(backend, dir, r.revision + 1n, signal);
      }
    } catch (error) {
      if (signal.aborted && error === signal.reason && this.#controller.signal.aborted && options.signal?.aborted !== true) {
        throw new ElectionError(this.#codes.notHeld, `${this.key} is no longer held by this candidate`, { cause: error });
      }
      throw error;
    } finally {
      clock.clearTimeout(timer);
      dispose();
    }
    this.check();
    let handedOver = false;
    const started = this.#resignWith(async () => {
      try {
        const r = await backend.txn(
          {
            compare: [this.guard(), { key: target, target: 'createRevision', op: '=', value: next }],
            success: [{ type: 'delete', key: this.key }],
          },
          { timeoutMs: Math.max(1_000, this.#session.rpcTimeout()) },
        );
        handedOver = r.succeeded;
      } catch {
        // Unknown outcome: fall through to the plain guarded delete.
      }
      if (!handedOver) await deleteIfOwned(this.#session, this.key, this.#createRevision, Math.max(1_000, this.#session.rpcTimeout()));
    });
    if (!started) throw new ElectionError(this.#codes.notHeld, `${this.key} is no longer held by this candidate`);
    await this.#resigning;
    if (!handedOver) {
      throw new ElectionError('WARDEN_ERR_ELECTION_HANDOVER_FAILED', `${candidateId} left the queue of ${this.key} during the handover; resigned to the next in line`);
    }
  }

  /** Releases the hold (same as resign()). */
  release(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.resign(options);
  }

  /** Resigns (election) or releases (lock). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.resign();
  }
}

/** Resolves at the first change under `dir` from `fromRevision` on (or when the watch breaks: re-read). */
function changeIn(backend: Backend, dir: string, fromRevision: bigint, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      watch.close();
      fn();
    };
    const onAbort = (): void => finish(() => reject(signal.reason));
    const watch = backend.watch(dir, { prefix: true, fromRevision, onEvents: () => finish(resolve), onError: () => finish(resolve) });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
