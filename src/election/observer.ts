import type { Backend, KeyValue } from './backend.js';
import { delay } from './abort.js';
import { toLeaderInfo, type LeaderInfo } from './election.js';

/**
 * Streams the leader of the election whose candidate keys live under `dir`. Keeps the full
 * candidate set (from one read plus a prefix watch from that read's revision), so it can
 * report `null` when the last candidate leaves and picks the oldest key even when one watch
 * batch carries several changes (etcd #18163). Emits only changes of (key, token, value) and
 * never a token lower than one already emitted. A broken watch is followed by a fresh
 * linearizable read and a new watch. The iterator ends when `signal` aborts or on return().
 */
export function observeLeader(backend: Backend, dir: string, signal: AbortSignal | undefined): AsyncIterable<LeaderInfo | null> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<LeaderInfo | null> {
      return new LeaderObserver(backend, dir, signal);
    },
  };
}

class LeaderObserver implements AsyncIterator<LeaderInfo | null> {
  readonly #backend: Backend;
  readonly #dir: string;
  readonly #stop = new AbortController();
  readonly #queue: (LeaderInfo | null)[] = [];
  #wake: (() => void) | undefined;
  #candidates = new Map<string, KeyValue>();
  #last: LeaderInfo | null | undefined;
  #highest = -1n;
  readonly #unlink: () => void;

  constructor(backend: Backend, dir: string, signal: AbortSignal | undefined) {
    this.#backend = backend;
    this.#dir = dir;
    const onAbort = (): void => this.#finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#unlink = () => signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted === true) this.#finish();
    else void this.#loop();
  }

  async next(): Promise<IteratorResult<LeaderInfo | null>> {
    for (;;) {
      if (this.#queue.length > 0) return { done: false, value: this.#queue.shift() as LeaderInfo | null };
      if (this.#stop.signal.aborted) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<LeaderInfo | null>> {
    this.#finish();
    this.#queue.length = 0;
    return { done: true, value: undefined };
  }

  #finish(): void {
    if (this.#stop.signal.aborted) return;
    this.#unlink();
    this.#stop.abort();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #emitIfChanged(): void {
    let oldest: KeyValue | undefined;
    for (const kv of this.#candidates.values()) if (oldest === undefined || kv.createRevision < oldest.createRevision) oldest = kv;
    if (oldest === undefined) {
      if (this.#last !== null) this.#push(null);
      return;
    }
    const last = this.#last;
    if (last != null && last.key === oldest.key && last.fencingToken === oldest.createRevision.toString() && last.value === oldest.value) return;
    if (oldest.createRevision < this.#highest) return;
    this.#highest = oldest.createRevision;
    this.#push(toLeaderInfo(oldest));
  }

  #push(info: LeaderInfo | null): void {
    this.#last = info;
    this.#queue.push(info);
    this.#notify();
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const r = await this.#backend.get(this.#dir, { prefix: true, signal });
        this.#candidates = new Map(r.kvs.map((kv) => [kv.key, kv]));
        this.#emitIfChanged();
        attempt = 0;
        await new Promise<void>((resolve) => {
          const watch = this.#backend.watch(this.#dir, {
            prefix: true,
            fromRevision: r.revision + 1n,
            onEvents: (events) => {
              for (const e of events) {
                if (e.type === 'put') this.#candidates.set(e.kv.key, e.kv);
                else this.#candidates.delete(e.kv.key);
              }
              this.#emitIfChanged();
            },
            onError: () => {
              signal.removeEventListener('abort', onAbort);
              resolve();
            },
          });
          const onAbort = (): void => {
            watch.close();
            resolve();
          };
          signal.addEventListener('abort', onAbort, { once: true });
        });
      } catch {
        // Retried below; the observer only ends on abort.
      }
      if (signal.aborted) break;
      await delay(Math.min(50 * 2 ** attempt, 1_000), signal).catch(() => undefined);
    }
  }
}
