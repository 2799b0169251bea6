/**
 * Monotonic time and timers, injectable so tests can move time by hand. All times are ms on
 * the `performance.now()` scale, never wall-clock time.
 */

/** A timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** Monotonic time plus timers. */
export interface Clock {
  /** Returns the monotonic time in ms. */
  now(): number;
  /** Runs `fn` after `ms`; `unref` lets the process exit while it is pending. */
  setTimeout(fn: () => void, ms: number, options?: { unref?: boolean }): TimerHandle;
  /** Cancels a timer; ignores handles that already fired. */
  clearTimeout(handle: TimerHandle): void;
}

/** Uses `performance.now()` and the Node timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms, options) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (options?.unref === true) t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that falls due, in
 * order, each seeing `now()` equal to its due time.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  /** Creates a clock starting at `startMs` (default 0). */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  /** Returns the current manual time. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + ms. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }

  /** Cancels a timer. */
  clearTimeout(handle: TimerHandle): void {
    (handle as ManualTimer).cancelled = true;
  }

  /**
   * Moves time forward by `ms` without firing any timer, as if the process had been paused;
   * the overdue timers fire, late, on the next `advance()`.
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order; between timers it yields to the
   * microtask queue so promise chains started by a timer run before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
