import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds. Default 10000. */
  timeoutMs?: number;
  /** Pause between attempts, in milliseconds. Default 20. */
  intervalMs?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
  /** Says what was awaited, for the timeout error. */
  what?: string;
}

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, and returns it.
 *
 * Tests wait for conditions, never for fixed sleeps: this is the one place that polls.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20, signal, what = 'condition' } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await sleep(intervalMs, undefined, signal ? { signal } : {});
  }
}
