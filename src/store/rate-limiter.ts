/**
 * A token bucket over an injectable clock, so background readers (the integrity scrub) stay
 * under a byte rate, and tests can count bytes against simulated time instead of waiting.
 */
import { setTimeout as sleepReal } from 'node:timers/promises';

/** Time source of a {@link RateLimiter}: milliseconds, and an abortable sleep. */
export interface JobClock {
  /** Current time in ms (any origin; only differences are used). */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `performance.now()` and timers. */
export const realJobClock: JobClock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    signal?.throwIfAborted();
    try {
      await sleepReal(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
  },
};

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Largest amount granted without waiting (bucket size), in bytes. Default: one second's worth, at most 1 MiB. */
  burstBytes?: number;
  /** Clock. Default {@link realJobClock}. */
  clock?: JobClock;
}

/** Grants bytes at `bytesPerSecond` on average, never more than rate × elapsed + burst. */
export class RateLimiter {
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  readonly #clock: JobClock;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  /** Creates a limiter; `bytesPerSecond` must be positive. */
  constructor(bytesPerSecond: number, options: RateLimiterOptions = {}) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be positive, got ${bytesPerSecond}`);
    this.bytesPerSecond = bytesPerSecond;
    this.burstBytes = Math.max(1, Math.floor(options.burstBytes ?? Math.min(bytesPerSecond, 1024 * 1024)));
    this.#clock = options.clock ?? realJobClock;
    this.#tokens = this.burstBytes;
    this.#last = this.#clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.burstBytes, this.#tokens + ((now - this.#last) * this.bytesPerSecond) / 1000);
    this.#last = now;
  }

  /**
   * Waits until `bytes` (at most the burst) may be read, then takes them. Callers are served
   * in order. Rejects with `signal.reason` when the signal aborts while waiting.
   */
  async take(bytes: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    const n = Math.min(bytes, this.burstBytes);
    const turn = this.#queue.then(async () => {
      options.signal?.throwIfAborted();
      this.#refill();
      while (this.#tokens < n) {
        await this.#clock.sleep(Math.ceil(((n - this.#tokens) * 1000) / this.bytesPerSecond), options.signal);
        this.#refill();
      }
      this.#tokens -= n;
    });
    this.#queue = turn.catch(() => undefined);
    await turn;
  }
}
