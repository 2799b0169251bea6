/**
 * Watches of the etcd backend, multiplexed on ONE gRPC watch stream per backend (as etcd's Go
 * client does), instead of one stream per watch: a campaign's watch then costs one small
 * message each way instead of an HTTP/2 stream set-up and reset, which dominated the CPU of
 * a 1024-partition cold start.
 *
 * The client picks each watch's id (`watch_id` in the create request, etcd ≥ 3.4), so creates
 * are pipelined without waiting for the server's `created` answer, and a cancel can follow
 * its create at once. A response canceling one watch (compacted history, …) fails that watch
 * only; a broken stream (error, end, lost leader with require-leader metadata) fails every
 * watch on it, and the next watch opens a new stream — callers re-read and re-watch, exactly
 * as they did with one stream per watch.
 */
import type { IDuplexStream, IWatchRequest, IWatchResponse, WatchClient } from 'etcd3';
import type { Watch, WatchEvent, WatchOptions } from './backend.js';
import { rangeEnd, toKv } from './etcd-codec.js';
import { toBackendError } from './etcd-errors.js';
import { BackendError } from './errors.js';

interface Entry {
  options: WatchOptions;
  closed: boolean;
}

interface StreamState {
  ready: Promise<IDuplexStream<IWatchRequest, IWatchResponse>>;
  entries: Map<string, Entry>;
  dead: boolean;
}

/** One shared watch stream (reopened after it breaks) carrying any number of watches. */
export class EtcdWatchMux {
  readonly #client: WatchClient;
  #state: StreamState | undefined;
  #nextId = 1;
  #closed = false;

  /** @param client - a WatchClient whose streams carry require-leader metadata. */
  constructor(client: WatchClient) {
    this.#client = client;
  }

  /** Number of watches currently registered (for tests and metrics). */
  get size(): number {
    return this.#state?.entries.size ?? 0;
  }

  /** Starts a watch on the shared stream; see Backend.watch. */
  watch(key: string, options: WatchOptions): Watch {
    const entry: Entry = { options, closed: false };
    if (this.#closed) {
      queueMicrotask(() => {
        if (!entry.closed) options.onError(new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'etcd backend closed'));
        entry.closed = true;
      });
      return { close: () => void (entry.closed = true) };
    }
    const state = (this.#state ??= this.#open());
    const id = String(this.#nextId++);
    state.entries.set(id, entry);
    const k = Buffer.from(key);
    const create = {
      create_request: {
        key: k,
        ...(options.prefix === true ? { range_end: rangeEnd(k) } : {}),
        ...(options.fromRevision !== undefined ? { start_revision: options.fromRevision.toString() } : {}),
        watch_id: id,
      },
    } as IWatchRequest;
    this.#send(state, create);
    return {
      close: () => {
        if (entry.closed) return;
        entry.closed = true;
        if (state.entries.delete(id)) this.#send(state, { cancel_request: { watch_id: id } });
      },
    };
  }

  /** Fails every watch and cancels the stream; later watches fail with WARDEN_ERR_BACKEND_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    const state = this.#state;
    if (state === undefined) return;
    this.#kill(state, undefined);
    await state.ready.then((s) => s.cancel(), () => undefined);
  }

  #send(state: StreamState, request: IWatchRequest): void {
    // Writes queue behind the stream's opening, in call order (a cancel follows its create).
    state.ready.then(
      (s) => {
        if (!state.dead) s.write(request);
      },
      () => undefined,
    );
  }

  #open(): StreamState {
    const state: StreamState = { entries: new Map(), dead: false, ready: this.#client.watch() };
    state.ready.then(
      (s) => {
        if (state.dead) {
          s.cancel();
          return;
        }
        s.on('data', (res: IWatchResponse) => this.#onResponse(state, res));
        s.on('error', (error: Error) => this.#kill(state, toBackendError(error, 'watch')));
        s.on('end', () => this.#kill(state, new BackendError('WARDEN_ERR_BACKEND_UNAVAILABLE', 'etcd watch stream ended', { retryable: true })));
      },
      (error: unknown) => queueMicrotask(() => this.#kill(state, toBackendError(error, 'watch'))),
    );
    return state;
  }

  #onResponse(state: StreamState, res: IWatchResponse): void {
    const entry = state.entries.get(res.watch_id);
    if (entry === undefined) {
      // Answers for a watch closed meanwhile are expected. A created answer with an id we
      // never picked means the server ignores client ids (auto ids start at 0), and events
      // could reach the wrong watch: fail loudly rather than route by guesswork.
      const id = Number(res.watch_id);
      if (res.created && !state.dead && !(id >= 1 && id < this.#nextId)) {
        this.#kill(state, new BackendError('WARDEN_ERR_BACKEND_FAILED', `etcd assigned watch id ${res.watch_id}: client-chosen watch ids (etcd ≥ 3.4) are required`));
      }
      return;
    }
    if (res.canceled) {
      state.entries.delete(res.watch_id);
      const compacted = res.compact_revision !== '0' && res.compact_revision !== '';
      this.#fail(
        entry,
        compacted
          ? new BackendError('WARDEN_ERR_BACKEND_COMPACTED', `etcd watch: history compacted at ${res.compact_revision}`, { retryable: true })
          : new BackendError('WARDEN_ERR_BACKEND_UNAVAILABLE', `etcd watch canceled: ${res.cancel_reason || 'no reason'}`, { retryable: true }),
      );
      return;
    }
    if (res.events.length === 0) return;
    const events: WatchEvent[] = res.events.map((e) => ({ type: e.type === 'Delete' ? 'delete' : 'put', kv: toKv(e.kv) }));
    try {
      entry.options.onEvents(events);
    } catch (error) {
      // One watcher's bug must not break the stream every other watch shares: end that watch only.
      if (state.entries.delete(res.watch_id)) this.#send(state, { cancel_request: { watch_id: res.watch_id } });
      this.#fail(entry, new BackendError('WARDEN_ERR_BACKEND_FAILED', `watch callback threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }

  /** Marks the stream dead (no more writes or callbacks) and fails its watches with `error`. */
  #kill(state: StreamState, error: Error | undefined): void {
    if (state.dead) return;
    state.dead = true;
    if (this.#state === state) this.#state = undefined;
    const entries = [...state.entries.values()];
    state.entries.clear();
    state.ready.then((s) => s.cancel(), () => undefined);
    if (error !== undefined) for (const entry of entries) this.#fail(entry, error);
    else for (const entry of entries) entry.closed = true;
  }

  #fail(entry: Entry, error: Error): void {
    if (entry.closed) return;
    entry.closed = true;
    entry.options.onError(error);
  }
}
