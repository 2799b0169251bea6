import type {
  Backend,
  CallOptions,
  Compare,
  GetOptions,
  GetResult,
  KeyValue,
  LeaseGrant,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchEvent,
  WatchOptions,
} from './backend.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { BackendError } from './errors.js';
import { throwIfAborted } from './abort.js';

/** Options of the in-process backend. */
export interface MemoryBackendOptions {
  /** Monotonic clock for lease expiry; default the system clock. */
  clock?: Clock;
}

/** The in-process backend plus hooks that tests and demos use to inject faults. */
export interface MemoryBackend extends Backend {
  readonly kind: 'memory';
  /** Expires a lease now, as the store would at its TTL: its keys are deleted in one revision. */
  expireLease(leaseId: string): void;
  /** Lists the ids of live leases. */
  leases(): string[];
  /**
   * Makes the store unreachable (true) or reachable again (false). While unreachable, every
   * request fails after its timeout with WARDEN_ERR_BACKEND_TIMEOUT (like a black-holed link)
   * and every watch ends with WARDEN_ERR_BACKEND_UNAVAILABLE; leases keep expiring.
   */
  setUnreachable(on: boolean): void;
  /** Drops history up to `revision`: watches from older revisions fail with WARDEN_ERR_BACKEND_COMPACTED. */
  compact(revision: bigint): void;
  /** Returns the current store revision. */
  revision(): bigint;
}

interface Lease {
  id: string;
  ttlMs: number;
  expiresAt: number;
  keys: Set<string>;
  timer: TimerHandle | undefined;
}

interface Watcher {
  key: string;
  prefix: boolean;
  options: WatchOptions;
  closed: boolean;
}

const DEFAULT_TIMEOUT_MS = 5_000;

function matches(key: string, target: string, prefix: boolean): boolean {
  return prefix ? key.startsWith(target) : key === target;
}

function compareValues<T extends bigint | string>(a: T, op: Compare['op'], b: T): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
  }
}

class InMemoryBackend implements MemoryBackend {
  readonly kind = 'memory' as const;
  readonly #clock: Clock;
  readonly #kvs = new Map<string, KeyValue>();
  readonly #leases = new Map<string, Lease>();
  readonly #watchers = new Set<Watcher>();
  readonly #history: WatchEvent[] = [];
  #revision = 1n;
  #compacted = 0n;
  #nextLease = 0x7a3d_0000_0000n + BigInt(Math.floor(Math.random() * 0xffff)) * 0x1_0000n;
  #closed = false;
  #unreachable = false;

  constructor(options: MemoryBackendOptions) {
    this.#clock = options.clock ?? systemClock;
  }

  // ---- request plumbing ----

  async #call<T>(options: CallOptions | undefined, fn: () => T): Promise<T> {
    if (options?.signal?.aborted === true) throw options.signal.reason;
    if (this.#closed) throw new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'memory backend closed');
    if (this.#unreachable) {
      const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.#clock.clearTimeout(timer);
          reject(options?.signal?.reason);
        };
        const timer = this.#clock.setTimeout(() => {
          options?.signal?.removeEventListener('abort', onAbort);
          resolve();
        }, timeoutMs);
        options?.signal?.addEventListener('abort', onAbort, { once: true });
      });
      throw new BackendError('WARDEN_ERR_BACKEND_TIMEOUT', `memory backend unreachable: no answer within ${timeoutMs} ms`, { retryable: true });
    }
    await Promise.resolve();
    throwIfAborted(options?.signal);
    this.#expireDue();
    return fn();
  }

  #expireDue(): void {
    const now = this.#clock.now();
    for (const lease of [...this.#leases.values()]) if (lease.expiresAt <= now) this.#revoke(lease.id);
  }

  #armLease(lease: Lease): void {
    if (lease.timer !== undefined) this.#clock.clearTimeout(lease.timer);
    lease.timer = this.#clock.setTimeout(
      () => {
        lease.timer = undefined;
        if (this.#leases.get(lease.id) !== lease) return;
        if (this.#clock.now() >= lease.expiresAt) this.#revoke(lease.id);
        else this.#armLease(lease);
      },
      lease.expiresAt - this.#clock.now(),
      { unref: true },
    );
  }

  #revoke(leaseId: string): void {
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return;
    this.#leases.delete(leaseId);
    if (lease.timer !== undefined) this.#clock.clearTimeout(lease.timer);
    if (lease.keys.size === 0) return;
    const revision = ++this.#revision;
    const events: WatchEvent[] = [];
    for (const key of [...lease.keys].sort()) events.push(this.#deleteKey(key, revision));
    this.#publish(events);
  }

  #deleteKey(key: string, revision: bigint): WatchEvent {
    const kv = this.#kvs.get(key);
    this.#kvs.delete(key);
    if (kv !== undefined && kv.lease !== '0') this.#leases.get(kv.lease)?.keys.delete(key);
    return { type: 'delete', kv: { key, value: '', createRevision: 0n, modRevision: revision, version: 0n, lease: '0' } };
  }

  #publish(events: WatchEvent[]): void {
    if (events.length === 0) return;
    this.#history.push(...events);
    // Bounded history, like etcd's auto-compaction: watches from older revisions re-read.
    if (this.#history.length > 10_000) this.compact(this.#history[this.#history.length - 5_000]?.kv.modRevision ?? 0n);
    for (const w of this.#watchers) this.#deliver(w, events);
  }

  #deliver(w: Watcher, events: WatchEvent[]): void {
    const mine = events.filter((e) => matches(e.kv.key, w.key, w.prefix)).map((e) => ({ type: e.type, kv: { ...e.kv } }));
    if (mine.length === 0) return;
    // Delivered asynchronously, as a network watch would be, and in revision order.
    queueMicrotask(() => {
      if (!w.closed) w.options.onEvents(mine);
    });
  }

  #range(key: string, options: Omit<GetOptions, 'signal' | 'timeoutMs'>): KeyValue[] {
    let kvs = [...this.#kvs.values()].filter((kv) => matches(kv.key, key, options.prefix === true));
    if (options.maxCreateRevision !== undefined) {
      const max = options.maxCreateRevision;
      kvs = kvs.filter((kv) => kv.createRevision <= max);
    }
    if (options.sort === 'createAscending') kvs.sort((a, b) => (a.createRevision < b.createRevision ? -1 : 1));
    else if (options.sort === 'createDescending') kvs.sort((a, b) => (a.createRevision > b.createRevision ? -1 : 1));
    else kvs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (options.limit !== undefined && options.limit > 0) kvs = kvs.slice(0, options.limit);
    return kvs.map((kv) => ({ ...kv }));
  }

  #holds(c: Compare): boolean {
    const kv = this.#kvs.get(c.key);
    switch (c.target) {
      case 'value':
        return kv !== undefined && compareValues(kv.value, c.op, c.value);
      case 'lease':
        return compareValues(kv?.lease ?? '0', c.op, c.value);
      case 'createRevision':
        return compareValues(kv?.createRevision ?? 0n, c.op, c.value);
      case 'modRevision':
        return compareValues(kv?.modRevision ?? 0n, c.op, c.value);
      case 'version':
        return compareValues(kv?.version ?? 0n, c.op, c.value);
    }
  }

  /** Applies ops at one new revision (allocated only if something changes). */
  #apply(ops: TxnOp[]): { results: TxnOpResult[]; revision: bigint } {
    for (const op of ops) {
      if (op.type === 'put' && op.lease !== undefined && op.lease !== '0' && !this.#leases.has(op.lease)) {
        throw new BackendError('WARDEN_ERR_BACKEND_LEASE_NOT_FOUND', `lease ${op.lease} not found`);
      }
    }
    const writes = ops.some((op) => op.type === 'put' || (op.type === 'delete' && this.#range(op.key, { prefix: op.prefix === true }).length > 0));
    const revision = writes ? this.#revision + 1n : this.#revision;
    if (writes) this.#revision = revision;
    const results: TxnOpResult[] = [];
    const events: WatchEvent[] = [];
    for (const op of ops) {
      if (op.type === 'get') {
        results.push({ type: 'get', kvs: this.#range(op.key, op) });
      } else if (op.type === 'delete') {
        const victims = this.#range(op.key, { prefix: op.prefix === true });
        for (const kv of victims) events.push(this.#deleteKey(kv.key, revision));
        results.push({ type: 'delete', deleted: victims.length });
      } else {
        const old = this.#kvs.get(op.key);
        const lease = op.lease ?? '0';
        if (old !== undefined && old.lease !== '0' && old.lease !== lease) this.#leases.get(old.lease)?.keys.delete(op.key);
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          createRevision: old?.createRevision ?? revision,
          modRevision: revision,
          version: (old?.version ?? 0n) + 1n,
          lease,
        };
        this.#kvs.set(op.key, kv);
        if (lease !== '0') this.#leases.get(lease)?.keys.add(op.key);
        events.push({ type: 'put', kv: { ...kv } });
        results.push({ type: 'put' });
      }
    }
    this.#publish(events);
    return { results, revision };
  }

  // ---- Backend ----

  get(key: string, options: GetOptions = {}): Promise<GetResult> {
    return this.#call(options, () => ({ kvs: this.#range(key, options), revision: this.#revision }));
  }

  put(key: string, value: string, options: CallOptions & { lease?: string } = {}): Promise<bigint> {
    return this.#call(options, () => this.#apply([{ type: 'put', key, value, ...(options.lease ? { lease: options.lease } : {}) }]).revision);
  }

  delete(key: string, options: CallOptions & { prefix?: boolean } = {}): Promise<{ deleted: number; revision: bigint }> {
    return this.#call(options, () => {
      const r = this.#apply([{ type: 'delete', key, prefix: options.prefix === true }]);
      const first = r.results[0];
      return { deleted: first?.type === 'delete' ? first.deleted : 0, revision: r.revision };
    });
  }

  txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    return this.#call(options, () => {
      const succeeded = request.compare.every((c) => this.#holds(c));
      const r = this.#apply(succeeded ? request.success : (request.failure ?? []));
      return { succeeded, revision: r.revision, results: r.results };
    });
  }

  grantLease(ttlMs: number, options: CallOptions = {}): Promise<LeaseGrant> {
    return this.#call(options, () => {
      const id = (this.#nextLease++).toString();
      const lease: Lease = { id, ttlMs, expiresAt: this.#clock.now() + ttlMs, keys: new Set(), timer: undefined };
      this.#leases.set(id, lease);
      this.#armLease(lease);
      return { id, ttlMs };
    });
  }

  keepAliveOnce(leaseId: string, options: CallOptions = {}): Promise<number> {
    return this.#call(options, () => {
      const lease = this.#leases.get(leaseId);
      if (lease === undefined) return 0;
      lease.expiresAt = this.#clock.now() + lease.ttlMs;
      return lease.ttlMs;
    });
  }

  revokeLease(leaseId: string, options: CallOptions = {}): Promise<void> {
    return this.#call(options, () => this.#revoke(leaseId));
  }

  watch(key: string, options: WatchOptions): Watch {
    const w: Watcher = { key, prefix: options.prefix === true, options, closed: false };
    const fail = (error: Error): void => {
      queueMicrotask(() => {
        if (w.closed) return;
        w.closed = true;
        this.#watchers.delete(w);
        options.onError(error);
      });
    };
    if (this.#closed) fail(new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'memory backend closed'));
    else if (this.#unreachable) fail(new BackendError('WARDEN_ERR_BACKEND_UNAVAILABLE', 'memory backend unreachable', { retryable: true }));
    else if (options.fromRevision !== undefined && options.fromRevision <= this.#compacted) {
      fail(new BackendError('WARDEN_ERR_BACKEND_COMPACTED', `revision ${options.fromRevision} is compacted (at ${this.#compacted})`, { retryable: true }));
    } else {
      this.#expireDue();
      this.#watchers.add(w);
      if (options.fromRevision !== undefined) {
        const from = options.fromRevision;
        this.#deliver(w, this.#history.filter((e) => e.kv.modRevision >= from));
      }
    }
    return {
      close: () => {
        w.closed = true;
        this.#watchers.delete(w);
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const lease of this.#leases.values()) if (lease.timer !== undefined) this.#clock.clearTimeout(lease.timer);
    for (const w of this.#watchers) w.closed = true;
    this.#watchers.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- hooks ----

  expireLease(leaseId: string): void {
    this.#revoke(leaseId);
  }

  leases(): string[] {
    this.#expireDue();
    return [...this.#leases.keys()];
  }

  setUnreachable(on: boolean): void {
    this.#unreachable = on;
    if (!on) return;
    for (const w of [...this.#watchers]) {
      this.#watchers.delete(w);
      queueMicrotask(() => {
        if (w.closed) return;
        w.closed = true;
        w.options.onError(new BackendError('WARDEN_ERR_BACKEND_UNAVAILABLE', 'memory backend unreachable', { retryable: true }));
      });
    }
  }

  compact(revision: bigint): void {
    this.#compacted = revision > this.#compacted ? revision : this.#compacted;
    while (this.#history.length > 0 && (this.#history[0]?.kv.modRevision ?? 0n) <= this.#compacted) this.#history.shift();
  }

  revision(): bigint {
    return this.#revision;
  }
}

/** Creates the in-process backend: same semantics as etcd (revisions, leases, txn, watch), plus fault hooks. */
export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  return new InMemoryBackend(options);
}
