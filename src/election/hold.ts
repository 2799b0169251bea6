import type { Compare } from './backend.js';
import { linkSignals, raceSignal } from './abort.js';
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
    if (this.#resigning === undefined) {
      const closed = this.#session.signal.reason instanceof ElectionError && this.#session.signal.reason.code === 'WARDEN_ERR_SESSION_CLOSED';
      // Set before end(): the abort listener then leaves the key claimed until the delete is done.
      this.#resigning = Promise.resolve();
      this.end('resigned');
      this.#resigning = (closed ? Promise.resolve() : deleteIfOwned(this.#session, this.key, this.#createRevision, Math.max(1_000, this.#session.rpcTimeout()))).finally(
        () => this.#release(),
      );
      this.#session.releasingKey(this.key, this.#resigning);
    }
    return raceSignal(this.#resigning, options.signal);
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
