/**
 * Follows every owner's generation key (`<prefix>gen/<owner>`) and reports each change, so a
 * node drops its cached copies of that owner within one watch round trip of the leader's
 * commit. When the watch breaks, changes may have been missed: `onReset` runs (drop
 * everything) and the watch starts again after `retryMs`.
 */
import type { Backend, Watch, WatchEvent } from 'warden/election';

/** What a generation value says changed (best effort: unknown values invalidate the whole owner). */
export interface GenerationChange {
  readonly owner: string;
  readonly kind?: 'version' | 'alias';
  readonly name?: string;
  readonly key?: string;
}

/** Options of {@link GenerationFeed}. */
export interface GenerationFeedOptions {
  backend: Backend;
  /** Prefix of the generation keys, '/…/'. */
  prefix: string;
  onChange(change: GenerationChange): void;
  /** Called when the feed (re)starts or breaks: anything cached may be stale. */
  onReset(): void;
  /** Pause before re-watching after a break, ms. Default 500. */
  retryMs?: number;
  onError?(error: unknown): void;
}

/** A running generation watch; `close()` stops it. */
export class GenerationFeed {
  readonly #options: GenerationFeedOptions;
  #watch: Watch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Starts watching at once. */
  constructor(options: GenerationFeedOptions) {
    this.#options = options;
    this.#start();
  }

  #start(): void {
    if (this.#closed) return;
    this.#options.onReset();
    try {
      this.#watch = this.#options.backend.watch(this.#options.prefix, {
        prefix: true,
        onEvents: (events) => this.#deliver(events),
        onError: (error) => {
          this.#options.onError?.(error);
          this.#watch = undefined;
          this.#options.onReset();
          this.#timer = setTimeout(() => this.#start(), this.#options.retryMs ?? 500);
        },
      });
    } catch (error) {
      this.#options.onError?.(error);
      this.#timer = setTimeout(() => this.#start(), this.#options.retryMs ?? 500);
    }
  }

  #deliver(events: WatchEvent[]): void {
    for (const event of events) {
      const owner = event.kv.key.slice(this.#options.prefix.length);
      let change: GenerationChange = { owner };
      try {
        const v = JSON.parse(event.kv.value) as { kind?: unknown; name?: unknown; key?: unknown };
        if ((v.kind === 'version' || v.kind === 'alias') && typeof v.name === 'string' && typeof v.key === 'string') {
          change = { owner, kind: v.kind, name: v.name, key: v.key };
        }
      } catch {
        // not ours or older format: the whole owner is dropped
      }
      this.#options.onChange(change);
    }
  }

  /** Stops the watch; idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#watch?.close();
    this.#watch = undefined;
  }
}
