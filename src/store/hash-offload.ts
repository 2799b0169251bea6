/**
 * SHA-256 of uploads computed on other threads. Hashing is most of the CPU a publish costs
 * (SHA-256 runs at ~1.4 GB/s per core here, about the speed of the disk), so on a machine with
 * a spare core a large upload hashes there while the event loop receives, writes and keeps
 * serving. With one core (or `threads: 0`) hashing stays inline: a thread would only add
 * copies and context switches.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { StoreError } from './errors.js';
import type { HashReply, HashRequest } from './hash-protocol.js';

/** A running SHA-256 of one upload. */
export interface UploadHash {
  /** Adds `chunks` (`total` bytes) in order. The caller keeps ownership of the buffers. */
  update(chunks: readonly Buffer[], total: number): void;
  /** Resolves once at most `limit` bytes handed over are still waiting to be hashed. */
  whenBacklogAtMost(limit: number): Promise<void>;
  /** Resolves with the lowercase hex digest of everything handed over. */
  digest(): Promise<string>;
  /** Abandons the hash after a failure; idempotent. */
  discard(): void;
}

/** Options of {@link HashThreads}. */
export interface HashThreadsOptions {
  /** Threads to hash on; 0 hashes inline. Default: {@link HashThreads.defaultThreads}. */
  threads?: number;
  /** Script each thread runs. Default: `hash-thread.js`; tests inject faulty ones. */
  threadScript?: URL;
}

/** Returns a SHA-256 computed on the calling thread. */
export function inlineHash(): UploadHash {
  const hash = createHash('sha256');
  return {
    update(chunks) {
      for (const chunk of chunks) hash.update(chunk);
    },
    whenBacklogAtMost: async () => undefined,
    digest: async () => hash.digest('hex'),
    discard: () => undefined,
  };
}

interface Stream {
  backlog: number;
  failed: StoreError | undefined;
  waiters: Array<{ limit: number; resolve: () => void; reject: (error: StoreError) => void }>;
  digest: { resolve: (hex: string) => void; reject: (error: StoreError) => void } | undefined;
}

/**
 * Bytes queued on one thread, all uploads together, before their senders wait: bounds the
 * memory of many concurrent uploads when hashing is the bottleneck.
 */
const THREAD_BACKLOG_CAP = 16 * 1024 * 1024;

/** One worker thread and the uploads it hashes. */
class HashThread {
  readonly streams = new Map<number, Stream>();
  /** Bytes sent to this thread and not yet hashed, all uploads together. */
  backlog = 0;
  readonly #worker: Worker;
  #dead = false;

  constructor(script: URL, onDeath: (thread: HashThread) => void) {
    this.#worker = new Worker(script);
    this.#worker.unref();
    this.#worker.on('message', (reply: HashReply) => this.#onReply(reply));
    const die = (cause: unknown): void => {
      if (this.#dead) return;
      this.#dead = true;
      onDeath(this);
      const error = new StoreError('WARDEN_ERR_STORE_HASH_THREAD', 'the thread hashing this upload stopped; nothing was kept', { retryable: true, cause });
      for (const stream of this.streams.values()) fail(stream, error);
      this.streams.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`hash thread exited with code ${code}`)));
  }

  send(request: HashRequest, transfer: ArrayBuffer[] = []): void {
    if (this.#dead) return;
    this.#worker.postMessage(request, transfer);
  }

  /** Keeps the process alive only while some upload waits for this thread. */
  track(id: number, stream: Stream | undefined): void {
    if (stream === undefined) this.streams.delete(id);
    else this.streams.set(id, stream);
    if (this.streams.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }

  /** True when `stream` has at most `limit` bytes queued and the thread is under its cap. */
  caughtUp(stream: Stream, limit: number): boolean {
    return stream.backlog <= limit && (this.backlog <= THREAD_BACKLOG_CAP || stream.backlog === 0);
  }

  async terminate(): Promise<void> {
    const error = new StoreError('WARDEN_ERR_STORE_CLOSED', 'store is closed');
    for (const stream of this.streams.values()) fail(stream, error);
    this.streams.clear();
    this.#dead = true;
    await this.#worker.terminate();
  }

  #onReply(reply: HashReply): void {
    const stream = this.streams.get(reply.id);
    if (stream === undefined) return;
    if (reply.kind === 'hashed') {
      stream.backlog -= reply.bytes;
      this.backlog -= reply.bytes;
      for (const waiting of this.streams.values()) {
        waiting.waiters = waiting.waiters.filter((waiter) => {
          if (!this.caughtUp(waiting, waiter.limit)) return true;
          waiter.resolve();
          return false;
        });
      }
    } else {
      this.track(reply.id, undefined);
      stream.digest?.resolve(reply.digest);
    }
  }
}

function fail(stream: Stream, error: StoreError): void {
  stream.failed = error;
  for (const waiter of stream.waiters) waiter.reject(error);
  stream.waiters = [];
  stream.digest?.reject(error);
}

/** Copies `chunks` into one buffer the thread may take over (the caller's buffers stay intact). */
function gather(chunks: readonly Buffer[], total: number): ArrayBuffer {
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes.buffer;
}

/** A small pool of hash threads, started on first use; each upload sticks to one thread. */
export class HashThreads {
  readonly threads: number;
  readonly #script: URL;
  readonly #pool: HashThread[] = [];
  #nextId = 1;
  #closed = false;

  /** Threads worth using here: one per spare core (cores this process may run on), at most 4. */
  static defaultThreads(): number {
    return Math.max(0, Math.min(4, availableParallelism() - 1));
  }

  constructor(options: HashThreadsOptions = {}) {
    const threads = options.threads ?? HashThreads.defaultThreads();
    if (!Number.isInteger(threads) || threads < 0 || threads > 64) {
      throw new StoreError('WARDEN_ERR_STORE_INVALID_OPTIONS', `hash threads must be an integer in 0..64, got ${threads}`);
    }
    this.threads = threads;
    this.#script = options.threadScript ?? new URL('./hash-thread.js', import.meta.url);
  }

  /** Starts the hash of one upload on the least busy thread, or inline when there are none. */
  start(): UploadHash {
    if (this.#closed) throw new StoreError('WARDEN_ERR_STORE_CLOSED', 'store is closed');
    if (this.threads === 0) return inlineHash();
    const thread = this.#pick();
    const id = this.#nextId++;
    const stream: Stream = { backlog: 0, failed: undefined, waiters: [], digest: undefined };
    thread.track(id, stream);
    let finished = false;
    return {
      update(chunks, total) {
        if (stream.failed || finished) return;
        const bytes = gather(chunks, total);
        stream.backlog += total;
        thread.backlog += total;
        thread.send({ kind: 'update', id, bytes }, [bytes]);
      },
      whenBacklogAtMost(limit) {
        if (stream.failed) return Promise.reject(stream.failed);
        if (thread.caughtUp(stream, limit)) return Promise.resolve();
        return new Promise((resolve, reject) => stream.waiters.push({ limit, resolve, reject }));
      },
      digest() {
        if (stream.failed) return Promise.reject(stream.failed);
        finished = true;
        return new Promise((resolve, reject) => {
          stream.digest = { resolve, reject };
          thread.send({ kind: 'digest', id });
        });
      },
      discard() {
        if (finished) return;
        finished = true;
        thread.track(id, undefined);
        thread.send({ kind: 'drop', id });
      },
    };
  }

  /** Stops every thread; uploads still hashing fail with `WARDEN_ERR_STORE_CLOSED`. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#pool.splice(0).map((thread) => thread.terminate()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #pick(): HashThread {
    let best: HashThread | undefined;
    for (const thread of this.#pool) if (best === undefined || thread.streams.size < best.streams.size) best = thread;
    if (best !== undefined && (best.streams.size === 0 || this.#pool.length >= this.threads)) return best;
    const thread = new HashThread(this.#script, (dead) => {
      const index = this.#pool.indexOf(dead);
      if (index >= 0) this.#pool.splice(index, 1);
    });
    this.#pool.push(thread);
    return thread;
  }
}
