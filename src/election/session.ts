import type { Backend } from './backend.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { ElectionError, SessionEndedError, SessionOptionsError, hasCode, type SessionEndReason } from './errors.js';
import { throwIfAborted } from './abort.js';
import { emit, type ElectionMetrics } from './metrics.js';

/** Timing options of a session. All durations are in ms. */
export interface SessionOptions {
  /** Lease TTL. Default 10_000; min 2_000 (etcd's floor with its default election timeout); max 3_600_000. */
  ttlMs?: number;
  /** Time between keepalives. Default ttlMs/3 (rounded down); must be ≤ ttlMs/3 and ≥ 50. */
  keepaliveIntervalMs?: number;
  /** Deadline of one keepalive request. Default = keepaliveIntervalMs; ≥ 50. */
  keepaliveTimeoutMs?: number;
  /**
   * How long before the server could expire the lease the session gives up, and the longest
   * event-loop stall tolerated. Default max(500, ttlMs/10); ≥ 100.
   * Rule: keepaliveTimeoutMs + keepaliveIntervalMs + safetyMarginMs < ttlMs.
   */
  safetyMarginMs?: number;
  /** Monotonic clock and timers; default the system clock (tests inject a ManualClock). */
  clock?: Clock;
  /**
   * Receives events of this session and of every Election, Lock and PartitionSet on it
   * (see ElectionMetrics). Default: none.
   */
  metrics?: ElectionMetrics;
}

/** The result of `Session.healthCheck()`. */
export interface SessionHealth {
  /** False when the session ended, passed its deadline, stalled, or its keepalives stopped being acknowledged. */
  healthy: boolean;
  /** 'ok', or why it is unhealthy: 'ended' | 'deadline' | 'paused' | 'keepalive-stalled'. */
  status: 'ok' | 'ended' | 'deadline' | 'paused' | 'keepalive-stalled';
  /** Human-readable detail (the end reason's message when ended). */
  detail: string;
  /** Time left before the local deadline, ms (0 when past it). */
  remainingMs: number;
  /** Time since the send of the last acknowledged keepalive (or the grant), ms. */
  sinceLastAckMs: number;
  /** Round trip of the last acknowledged keepalive, ms (undefined before the first). */
  lastRttMs: number | undefined;
}

/** Assumptions of `Session.worstCaseFailoverMs()`, in ms. */
export interface FailoverAssumptions {
  /**
   * etcd's election timeout (`--election-timeout`, default 1000): covers the server's lease
   * expiry granularity and an etcd leader change; raise it to your cluster's setting.
   */
  electionTimeoutMs?: number;
  /**
   * Time for the successor to notice the deletion and be elected (watch event, one txn or a
   * linearizable re-read). Default: 4 × the last keepalive round trip, at least 100.
   */
  campaignLatencyMs?: number;
}

interface ResolvedOptions {
  ttlMs: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  safetyMarginMs: number;
  clock: Clock;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** Validates session timing options and fills defaults; throws SessionOptionsError naming the rule. */
export function resolveSessionOptions(options: SessionOptions = {}): ResolvedOptions {
  const ttlMs = options.ttlMs ?? 10_000;
  if (!isInt(ttlMs) || ttlMs < 2_000 || ttlMs > 3_600_000) {
    throw new SessionOptionsError(`ttlMs must be an integer in [2000, 3600000], got ${String(ttlMs)}`);
  }
  const keepaliveIntervalMs = options.keepaliveIntervalMs ?? Math.floor(ttlMs / 3);
  if (!isInt(keepaliveIntervalMs) || keepaliveIntervalMs < 50 || keepaliveIntervalMs > ttlMs / 3) {
    throw new SessionOptionsError(`keepaliveIntervalMs must be an integer in [50, ttlMs/3 = ${Math.floor(ttlMs / 3)}], got ${String(keepaliveIntervalMs)}`);
  }
  const keepaliveTimeoutMs = options.keepaliveTimeoutMs ?? keepaliveIntervalMs;
  if (!isInt(keepaliveTimeoutMs) || keepaliveTimeoutMs < 50) {
    throw new SessionOptionsError(`keepaliveTimeoutMs must be an integer ≥ 50, got ${String(keepaliveTimeoutMs)}`);
  }
  const safetyMarginMs = options.safetyMarginMs ?? Math.max(500, Math.floor(ttlMs / 10));
  if (!isInt(safetyMarginMs) || safetyMarginMs < 100) {
    throw new SessionOptionsError(`safetyMarginMs must be an integer ≥ 100, got ${String(safetyMarginMs)}`);
  }
  if (keepaliveTimeoutMs + keepaliveIntervalMs + safetyMarginMs >= ttlMs) {
    throw new SessionOptionsError(
      `keepaliveTimeoutMs + keepaliveIntervalMs + safetyMarginMs (${keepaliveTimeoutMs} + ${keepaliveIntervalMs} + ${safetyMarginMs}) must be < ttlMs (${ttlMs}), ` +
        'or one lost keepalive would end the session',
    );
  }
  return { ttlMs, keepaliveIntervalMs, keepaliveTimeoutMs, safetyMarginMs, clock: options.clock ?? systemClock };
}

/**
 * One lease, kept alive in the background, that knows its own deadline: the send time
 * (monotonic) of the last acknowledged keepalive + TTL − safety margin. Its `signal` aborts
 * at that deadline whatever the connection state, when the store says the lease is gone,
 * when the event loop stalled longer than the margin, and on close()/orphan(). A session
 * never comes back: create a new one after it ends.
 */
export class Session implements AsyncDisposable {
  /** Decimal lease id. */
  readonly leaseId: string;
  /** Lease TTL in ms used for the local deadline (the store may have granted more). */
  readonly ttlMs: number;
  /** Keepalive period in ms. */
  readonly keepaliveIntervalMs: number;
  /** Safety margin in ms (also the longest tolerated event-loop stall). */
  readonly safetyMarginMs: number;
  /** The backend this session lives on. */
  readonly backend: Backend;
  /** The clock used for deadlines (ms, monotonic). */
  readonly clock: Clock;
  /** The metrics hooks given in the options (shared by everything on this session), if any. */
  readonly metrics: ElectionMetrics | undefined;
  /** TTL in ms the store granted (≥ ttlMs: stores round up to whole seconds). */
  readonly grantedTtlMs: number;

  readonly #controller = new AbortController();
  readonly #keepaliveTimeoutMs: number;
  /** Claimed candidate keys: null = in use, a promise = being released. */
  readonly #keys = new Map<string, Promise<void> | null>();
  #deadline: number;
  #deadlineTimer: TimerHandle | undefined;
  #keepaliveTimer: TimerHandle | undefined;
  #stallTimer: TimerHandle | undefined;
  #stallExpected = 0;
  readonly #stallIntervalMs: number;
  readonly #deadlineListeners = new Set<(deadline: number) => void>();
  #closing: Promise<void> | undefined;
  /** Send time of the last acknowledged keepalive (or of the grant). */
  #lastAckSentAt: number;
  #lastRttMs: number | undefined;

  /**
   * Grants a lease and starts keeping it alive. Rejects with SessionOptionsError on bad
   * timing options and with a BackendError when the store cannot be reached.
   */
  static async create(backend: Backend, options: SessionOptions & { signal?: AbortSignal } = {}): Promise<Session> {
    const resolved = resolveSessionOptions(options);
    throwIfAborted(options.signal);
    const sentAt = resolved.clock.now();
    const grant = await backend.grantLease(resolved.ttlMs, {
      timeoutMs: resolved.ttlMs - resolved.safetyMarginMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (options.signal?.aborted === true) {
      backend.revokeLease(grant.id).catch(() => undefined);
      throw options.signal.reason;
    }
    return new Session(backend, grant.id, Math.min(resolved.ttlMs, grant.ttlMs), grant.ttlMs, sentAt, resolved, options.metrics);
  }

  private constructor(
    backend: Backend,
    leaseId: string,
    ttlMs: number,
    grantedTtlMs: number,
    sentAt: number,
    options: ResolvedOptions,
    metrics: ElectionMetrics | undefined,
  ) {
    this.backend = backend;
    this.metrics = metrics;
    this.grantedTtlMs = grantedTtlMs;
    this.#lastAckSentAt = sentAt;
    this.leaseId = leaseId;
    this.ttlMs = ttlMs;
    this.keepaliveIntervalMs = options.keepaliveIntervalMs;
    this.safetyMarginMs = options.safetyMarginMs;
    this.clock = options.clock;
    this.#keepaliveTimeoutMs = options.keepaliveTimeoutMs;
    this.#deadline = sentAt + ttlMs - options.safetyMarginMs;
    this.#stallIntervalMs = Math.max(50, Math.min(250, Math.floor(options.safetyMarginMs / 2)));
    this.#armDeadline();
    this.#armStallCheck();
    this.#scheduleKeepalive(Math.max(0, sentAt + this.keepaliveIntervalMs - this.clock.now()));
  }

  /** Aborts when the session ends; `reason` is a SessionEndedError. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Returns the local deadline in ms on the clock's monotonic scale (`performance.now()` by default). */
  deadline(): number {
    return this.#deadline;
  }

  /**
   * Calls `listener` with the new deadline each time an acknowledged keepalive moves it
   * forward (a few times per TTL); returns a function that removes the listener. Lets a
   * caller mirror the deadline elsewhere (e.g. a watchdog process) without polling. A
   * listener that throws is ignored.
   */
  onDeadline(listener: (deadline: number) => void): () => void {
    this.#deadlineListeners.add(listener);
    return () => this.#deadlineListeners.delete(listener);
  }

  /** Returns the ms left before the local deadline (0 when past it). */
  remainingMs(): number {
    return Math.max(0, this.#deadline - this.clock.now());
  }

  /**
   * Throws the session's end reason if it ended, checking the deadline synchronously first,
   * so code resumed after a pause cannot act before the deadline timer had a chance to run.
   */
  check(): void {
    this.#checkNow();
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason;
  }

  /** Returns true while the session is live (deadline checked synchronously). */
  isLive(): boolean {
    this.#checkNow();
    return !this.#controller.signal.aborted;
  }

  /**
   * Reports whether this session can be trusted now, without throwing (for health endpoints,
   * like client-go's HealthzAdaptor): unhealthy when it ended, when its deadline passed or the
   * event loop stalled past the margin (both checked synchronously, and both end the session),
   * or when no keepalive was acknowledged for longer than one keepalive period plus one
   * keepalive timeout (a keepalive failed: the session is on its way to its deadline).
   */
  healthCheck(): SessionHealth {
    this.#checkNow();
    const now = this.clock.now();
    const base = { remainingMs: Math.max(0, this.#deadline - now), sinceLastAckMs: Math.max(0, now - this.#lastAckSentAt), lastRttMs: this.#lastRttMs };
    const signal = this.#controller.signal;
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      const why = reason instanceof SessionEndedError ? reason.reason : undefined;
      const status = why === 'deadline' ? 'deadline' : why === 'paused' ? 'paused' : 'ended';
      return { ...base, healthy: false, status, detail: reason instanceof Error ? reason.message : String(reason) };
    }
    if (base.sinceLastAckMs > this.keepaliveIntervalMs + this.#keepaliveTimeoutMs) {
      return {
        ...base,
        healthy: false,
        status: 'keepalive-stalled',
        detail: `no keepalive acknowledged for ${Math.round(base.sinceLastAckMs)} ms (interval ${this.keepaliveIntervalMs} ms, timeout ${this.#keepaliveTimeoutMs} ms)`,
      };
    }
    return { ...base, healthy: true, status: 'ok', detail: 'ok' };
  }

  /**
   * Returns the longest time in ms from a crash of a leader on this session until a
   * successor can lead, assuming the successor is queued: the granted lease TTL (the store
   * expires the lease at most that long after the last renewal) + etcd's election timeout
   * (lease expiry granularity, and an etcd leader change, which also extends leases) + the
   * successor's campaign latency. A graceful resign needs only the campaign latency. The
   * split-brain window is 0 by construction: the old leader's signal aborts at its local
   * deadline, before the store can expire the lease. See docs/election.md.
   */
  worstCaseFailoverMs(assumptions: FailoverAssumptions = {}): number {
    const electionTimeoutMs = assumptions.electionTimeoutMs ?? 1_000;
    const campaignLatencyMs = assumptions.campaignLatencyMs ?? Math.max(100, Math.ceil(4 * (this.#lastRttMs ?? 25)));
    for (const [name, v] of [['electionTimeoutMs', electionTimeoutMs], ['campaignLatencyMs', campaignLatencyMs]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new SessionOptionsError(`${name} must be a finite number ≥ 0, got ${String(v)}`);
    }
    return this.grantedTtlMs + electionTimeoutMs + campaignLatencyMs;
  }

  /** Revokes the lease (deleting every key on it) and ends the session; idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#end('closed', 'session closed');
    // Revoke even after a lost deadline: the lease may still live, and revoking frees others now.
    this.#closing = this.backend
      .revokeLease(this.leaseId, { timeoutMs: Math.max(1_000, this.#keepaliveTimeoutMs) })
      .catch(() => undefined);
    return this.#closing;
  }

  /** Stops keepalives and ends the session locally, leaving the lease to expire on the store. */
  orphan(): void {
    this.#end('orphaned', 'session orphaned');
    this.#closing ??= Promise.resolve();
  }

  /** Closes the session (same as close()). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Reserves a key for one candidate of this session: waits while a previous holder of the
   * key is still resigning, throws `code` when the key is in use.
   * @internal used by Election and Lock.
   */
  async claimKey(key: string, code: string): Promise<() => void> {
    for (;;) {
      const state = this.#keys.get(key);
      if (state === undefined) break;
      if (state === null) throw new ElectionError(code, `this session already uses ${key}`);
      await state;
    }
    this.#keys.set(key, null);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#keys.delete(key);
    };
  }

  /**
   * Marks a claimed key as being released until `done` settles (a resignation deleting it).
   * @internal used by Hold.
   */
  releasingKey(key: string, done: Promise<void>): void {
    if (this.#keys.get(key) === null) this.#keys.set(key, done.catch(() => undefined));
  }

  /**
   * Returns the timeout for one store request: never longer than the time left before the
   * local deadline, so no call outlives the lease.
   * @internal
   */
  rpcTimeout(): number {
    return Math.max(1, Math.floor(this.remainingMs()));
  }

  #checkNow(): void {
    if (this.#controller.signal.aborted) return;
    if (this.#stalled()) return;
    if (this.clock.now() >= this.#deadline) {
      this.#end('deadline', `no keepalive acknowledged in time (lease ${this.leaseId}, ttl ${this.ttlMs} ms, margin ${this.safetyMarginMs} ms)`);
    }
  }

  #end(reason: SessionEndReason, message: string, cause?: unknown): void {
    if (this.#controller.signal.aborted) return;
    for (const t of [this.#deadlineTimer, this.#keepaliveTimer, this.#stallTimer]) if (t !== undefined) this.clock.clearTimeout(t);
    this.#deadlineTimer = this.#keepaliveTimer = this.#stallTimer = undefined;
    this.#deadlineListeners.clear();
    this.#controller.abort(new SessionEndedError(reason, message, cause === undefined ? {} : { cause }));
    emit(this.metrics, 'sessionEnded', { leaseId: this.leaseId, reason });
  }

  #armDeadline(): void {
    if (this.#deadlineTimer !== undefined) this.clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = this.clock.setTimeout(() => {
      this.#deadlineTimer = undefined;
      if (this.#stalled()) return;
      this.#checkNow();
      if (!this.#controller.signal.aborted) this.#armDeadline();
    }, this.#deadline - this.clock.now());
  }

  #armStallCheck(): void {
    this.#stallExpected = this.clock.now() + this.#stallIntervalMs;
    this.#stallTimer = this.clock.setTimeout(() => {
      this.#stallTimer = undefined;
      if (this.#stalled()) return;
      this.#checkNow();
      if (!this.#controller.signal.aborted) this.#armStallCheck();
    }, this.#stallIntervalMs);
  }

  /** Ends the session with 'paused' when the stall timer fired later than the margin allows. */
  #stalled(): boolean {
    const lateBy = this.clock.now() - this.#stallExpected;
    if (lateBy > this.safetyMarginMs) {
      this.#end('paused', `event loop stalled for ${Math.round(lateBy)} ms (margin ${this.safetyMarginMs} ms)`);
      return true;
    }
    return false;
  }

  #scheduleKeepalive(ms: number): void {
    if (this.#controller.signal.aborted) return;
    this.#keepaliveTimer = this.clock.setTimeout(() => {
      this.#keepaliveTimer = undefined;
      this.#keepalive();
    }, ms);
  }

  #keepalive(): void {
    if (this.#stalled()) return;
    this.#checkNow();
    if (this.#controller.signal.aborted) return;
    const sentAt = this.clock.now();
    this.backend
      .keepAliveOnce(this.leaseId, { timeoutMs: Math.min(this.#keepaliveTimeoutMs, this.rpcTimeout()) })
      .then(
        (ttlMs) => {
          if (this.#controller.signal.aborted) return;
          if (ttlMs <= 0) {
            this.#end('expired', `lease ${this.leaseId} is gone on the store`);
            return;
          }
          // Credit the send time, not the receive time: the store renewed after receiving.
          const deadline = sentAt + Math.min(this.ttlMs, ttlMs) - this.safetyMarginMs;
          this.#checkNow();
          if (this.#controller.signal.aborted) return;
          if (deadline > this.#deadline) {
            this.#deadline = deadline;
            this.#armDeadline();
            for (const listener of this.#deadlineListeners) {
              try {
                listener(deadline);
              } catch {
                // a listener's failure is its own
              }
            }
          }
          const now = this.clock.now();
          if (sentAt > this.#lastAckSentAt) this.#lastAckSentAt = sentAt;
          this.#lastRttMs = now - sentAt;
          emit(this.metrics, 'keepalive', { leaseId: this.leaseId, rttMs: now - sentAt, deadlineRemainingMs: Math.max(0, this.#deadline - now) });
          this.#scheduleKeepalive(Math.max(0, sentAt + this.keepaliveIntervalMs - this.clock.now()));
        },
        (error: unknown) => {
          if (this.#controller.signal.aborted) return;
          if (hasCode(error, 'WARDEN_ERR_BACKEND_LEASE_NOT_FOUND')) {
            this.#end('expired', `lease ${this.leaseId} is gone on the store`, error);
            return;
          }
          emit(this.metrics, 'keepaliveFailed', {
            leaseId: this.leaseId,
            code: error instanceof ElectionError ? error.code : 'unknown',
            deadlineRemainingMs: this.remainingMs(),
          });
          // Retry soon: the deadline, not this loop, decides when the session is lost.
          this.#scheduleKeepalive(Math.min(this.keepaliveIntervalMs, 200));
        },
      );
  }
}
