/**
 * The etcd v3 backend: the only file that imports etcd3. It uses etcd3's raw gRPC clients
 * (KV, Lease, Watch), not its Lease/Election/Lock recipes, so that it can
 * - put a deadline on every unary request (never longer than the caller's `timeoutMs`),
 * - time each keepalive itself (the caller records the send time; etcd3's Lease hides it),
 * - send require-leader metadata (`hasleader: true`) on keepalive and watch streams, so a
 *   member cut off from its cluster's leader fails the stream instead of going quiet,
 * - read linearizably (never `serializable`),
 * and converts every gRPC/etcd3 error once, here, into a coded BackendError.
 */
import {
  Etcd3,
  KVClient,
  LeaseClient,
  WatchClient,
  type ICallable,
  type IDuplexStream,
  type ILeaseKeepAliveRequest,
  type ILeaseKeepAliveResponse,
  type IOptions,
} from 'etcd3';
import type {
  Backend,
  CallOptions,
  GetOptions,
  GetResult,
  LeaseGrant,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchOptions,
} from './backend.js';
import { raceSignal, throwIfAborted } from './abort.js';
import { rangeEnd, toCompare, toKv, toOp, toRange } from './etcd-codec.js';
import { NOT_SENT, toBackendError } from './etcd-errors.js';
import { EtcdWatchMux } from './etcd-watch.js';
import { BackendError, ElectionError } from './errors.js';

export { toBackendError } from './etcd-errors.js';

/** Options of the etcd backend. */
export interface EtcdBackendOptions {
  /** etcd client URLs, e.g. ['http://127.0.0.1:2379'] (http only). Required, at least one. */
  endpoints: string[];
  /** Upper bound of every unary request, ms. Default 5_000. Recipes pass shorter ones (the time left on the lease). */
  rpcTimeoutMs?: number;
  /** Time to establish a connection, ms. Default 3_000. */
  dialTimeoutMs?: number;
}

const ENDPOINT = /^(http:\/\/)?[A-Za-z0-9.-]+:\d{1,5}\/?$/;

type PolicyContext = { signal: AbortSignal; attempt: number };
/** etcd3 never reads the policy's signal: one shared, never-aborted signal saves an AbortController per call. */
const NEVER_ABORTED = new AbortController().signal;

/** A global policy with cockatiel's `execute` shape that adds no retry: the recipes decide. */
const passthrough = {
  execute: <T>(fn: (context: PolicyContext) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: NEVER_ABORTED, attempt: 0 })),
};

/**
 * A per-member policy: after a failed connection attempt the member is skipped for a
 * second (etcd3's pool then picks another member), instead of etcd3's default circuit
 * breaker, which keeps a single-member cluster unusable for 5 s after it comes back.
 */
function memberPolicy(): typeof passthrough {
  let downUntil = 0;
  return {
    async execute<T>(fn: (context: PolicyContext) => PromiseLike<T> | T): Promise<T> {
      if (Date.now() < downUntil) throw new Error('14 UNAVAILABLE: etcd member skipped after a failed connection attempt');
      try {
        return await fn({ signal: NEVER_ABORTED, attempt: 0 });
      } catch (error) {
        if (NOT_SENT.test(error instanceof Error ? error.message : String(error))) downUntil = Date.now() + 1_000;
        throw error;
      }
    },
  };
}

interface PendingKeepalive {
  resolve(ttlMs: number): void;
  reject(error: Error): void;
}

interface KeepaliveState {
  stream: Promise<IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>>;
  pending: Map<string, PendingKeepalive[]>;
}

class EtcdBackend implements Backend {
  readonly kind = 'etcd' as const;
  readonly #client: Etcd3;
  readonly #kv: KVClient;
  readonly #lease: LeaseClient;
  readonly #rpcTimeoutMs: number;
  readonly #hostCount: number;
  readonly #watches: EtcdWatchMux;
  #keepalive: KeepaliveState | undefined;
  #closed = false;

  constructor(options: EtcdBackendOptions) {
    const { endpoints } = options;
    if (!Array.isArray(endpoints) || endpoints.length === 0 || !endpoints.every((e) => typeof e === 'string' && ENDPOINT.test(e))) {
      throw new BackendError('WARDEN_ERR_BACKEND_INVALID_OPTIONS', `endpoints must be a non-empty list of http://host:port URLs, got ${JSON.stringify(endpoints)}`);
    }
    const rpcTimeoutMs = options.rpcTimeoutMs ?? 5_000;
    const dialTimeoutMs = options.dialTimeoutMs ?? 3_000;
    for (const [name, v] of [['rpcTimeoutMs', rpcTimeoutMs], ['dialTimeoutMs', dialTimeoutMs]] as const) {
      if (!Number.isSafeInteger(v) || v < 1 || v > 600_000) {
        throw new BackendError('WARDEN_ERR_BACKEND_INVALID_OPTIONS', `${name} must be an integer in [1, 600000], got ${String(v)}`);
      }
    }
    this.#rpcTimeoutMs = rpcTimeoutMs;
    this.#hostCount = endpoints.length;
    const clientOptions: IOptions = {
      hosts: endpoints.map((e) => e.replace(/^http:\/\//, '').replace(/\/$/, '')),
      dialTimeout: dialTimeoutMs,
      faultHandling: {
        host: () => memberPolicy() as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['global']>,
        global: passthrough as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['global']>,
      },
      // Notice dead connections (e.g. a black-holed link) on idle streams too. etcd accepts
      // pings every 5 s or slower.
      grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 },
    };
    this.#client = new Etcd3(clientOptions);
    // etcd3 keeps its connection pool private; its RPC clients accept any ICallable, so the
    // pool is wrapped to add require-leader metadata to streams.
    const pool = (this.#client as unknown as { pool?: ICallable<unknown> }).pool;
    if (pool === undefined || typeof pool.withConnection !== 'function') {
      throw new BackendError('WARDEN_ERR_BACKEND_FAILED', 'unsupported etcd3 version: no connection pool');
    }
    const requireLeader: ICallable<unknown> = {
      exec: (service, method, params, callOptions) => pool.exec(service, method, params, callOptions),
      withConnection: (service, fn) =>
        pool.withConnection(service, (args) => {
          const metadata = args.metadata.clone();
          metadata.set('hasleader', 'true');
          return fn({ ...args, metadata });
        }),
      // etcd3 reports every stream error here and then closes ALL channels to that host,
      // failing unrelated in-flight requests; a stream we cancelled ourselves is no failure.
      markFailed: (resource, error) => {
        if ((error as { code?: number }).code === 1 || /cancel/i.test(error.message)) return;
        pool.markFailed(resource, error);
      },
      get callOptionsFactory() {
        return pool.callOptionsFactory;
      },
    };
    this.#kv = new KVClient(pool);
    this.#lease = new LeaseClient(requireLeader);
    this.#watches = new EtcdWatchMux(new WatchClient(requireLeader));
  }

  /**
   * Runs one unary request under a deadline. The request goes to a random member; when it
   * could not even be sent there (no connection), or when it is a read, it is retried on
   * another member while the deadline allows, so one dead member does not fail callers.
   */
  async #unary<T>(what: string, options: CallOptions | undefined, call: (grpcOptions: { deadline: Date }) => Promise<T>): Promise<T> {
    if (this.#closed) throw new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'etcd backend closed');
    throwIfAborted(options?.signal);
    const timeoutMs = Math.max(1, Math.min(options?.timeoutMs ?? this.#rpcTimeoutMs, this.#rpcTimeoutMs));
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await raceSignal(call({ deadline: new Date(deadline) }), options?.signal);
      } catch (error) {
        if (options?.signal?.aborted === true && error === options.signal.reason) throw error;
        const converted = toBackendError(error, what);
        const notSent = NOT_SENT.test(converted.message) || converted.message.includes('member skipped');
        const retry =
          converted.code === 'WARDEN_ERR_BACKEND_UNAVAILABLE' && (notSent || what === 'range') && attempt <= this.#hostCount && Date.now() < deadline - 10;
        if (!retry) throw converted;
      }
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const r = await this.#unary('range', options, (o) => this.#kv.range(toRange(key, options), o));
    return { kvs: r.kvs.map(toKv), revision: BigInt(r.header.revision) };
  }

  async put(key: string, value: string, options: CallOptions & { lease?: string } = {}): Promise<bigint> {
    const r = await this.#unary('put', options, (o) =>
      this.#kv.put({ key: Buffer.from(key), value: Buffer.from(value), ...(options.lease && options.lease !== '0' ? { lease: options.lease } : {}) }, o),
    );
    return BigInt(r.header.revision);
  }

  async delete(key: string, options: CallOptions & { prefix?: boolean } = {}): Promise<{ deleted: number; revision: bigint }> {
    const k = Buffer.from(key);
    const r = await this.#unary('delete', options, (o) => this.#kv.deleteRange({ key: k, ...(options.prefix === true ? { range_end: rangeEnd(k) } : {}) }, o));
    return { deleted: Number(r.deleted), revision: BigInt(r.header.revision) };
  }

  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    const r = await this.#unary('txn', options, (o) =>
      this.#kv.txn({ compare: request.compare.map(toCompare), success: request.success.map(toOp), failure: (request.failure ?? []).map(toOp) }, o),
    );
    const ops = r.succeeded ? request.success : (request.failure ?? []);
    const results: TxnOpResult[] = ops.map((op, i) => {
      const res = r.responses[i];
      if (op.type === 'get') return { type: 'get', kvs: (res?.response_range?.kvs ?? []).map(toKv) };
      if (op.type === 'delete') return { type: 'delete', deleted: Number(res?.response_delete_range?.deleted ?? 0) };
      return { type: 'put' };
    });
    return { succeeded: r.succeeded, revision: BigInt(r.header.revision), results };
  }

  async grantLease(ttlMs: number, options: CallOptions = {}): Promise<LeaseGrant> {
    const r = await this.#unary('lease grant', options, (o) => this.#lease.leaseGrant({ TTL: Math.ceil(ttlMs / 1000) }, o));
    if (r.error) throw new BackendError('WARDEN_ERR_BACKEND_FAILED', `etcd lease grant: ${r.error}`);
    return { id: String(r.ID), ttlMs: Number(r.TTL) * 1000 };
  }

  async revokeLease(leaseId: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.#unary('lease revoke', options, (o) => this.#lease.leaseRevoke({ ID: leaseId }, o));
    } catch (error) {
      if (error instanceof ElectionError && error.code === 'WARDEN_ERR_BACKEND_LEASE_NOT_FOUND') return;
      throw error;
    }
  }

  #openKeepalive(): KeepaliveState {
    const pending = new Map<string, PendingKeepalive[]>();
    const state: KeepaliveState = {
      pending,
      stream: this.#lease.leaseKeepAlive().then((stream) => {
        const fail = (error: unknown): void => {
          if (this.#keepalive === state) this.#keepalive = undefined;
          const converted = toBackendError(error, 'keepalive stream');
          for (const queue of pending.values()) for (const p of queue.splice(0)) p.reject(converted);
          pending.clear();
        };
        stream.on('data', (res: ILeaseKeepAliveResponse) => {
          // Responses come in request order per lease: credit the oldest waiting request.
          const p = pending.get(String(res.ID))?.shift();
          p?.resolve(Number(res.TTL) * 1000);
        });
        stream.on('error', fail);
        stream.on('end', () => fail(new BackendError('WARDEN_ERR_BACKEND_UNAVAILABLE', 'keepalive stream ended', { retryable: true })));
        return stream;
      }),
    };
    state.stream.catch(() => {
      if (this.#keepalive === state) this.#keepalive = undefined;
    });
    return state;
  }

  async keepAliveOnce(leaseId: string, options: CallOptions = {}): Promise<number> {
    if (this.#closed) throw new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'etcd backend closed');
    throwIfAborted(options.signal);
    const timeoutMs = Math.max(1, Math.min(options.timeoutMs ?? this.#rpcTimeoutMs, this.#rpcTimeoutMs));
    this.#keepalive ??= this.#openKeepalive();
    const state = this.#keepalive;
    const result = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        const queue = state.pending.get(leaseId);
        const i = queue?.indexOf(entry) ?? -1;
        if (i >= 0) queue?.splice(i, 1);
        // A keepalive that got no answer means the stream is stuck (e.g. a black-holed
        // link): drop it so the next keepalive opens a new one, maybe to another member.
        if (this.#keepalive === state) this.#keepalive = undefined;
        state.stream.then((s) => s.cancel(), () => undefined);
        reject(new BackendError('WARDEN_ERR_BACKEND_TIMEOUT', `etcd keepalive: no answer within ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      const entry: PendingKeepalive = {
        resolve: (ttl) => {
          clearTimeout(timer);
          resolve(ttl);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const queue = state.pending.get(leaseId) ?? [];
      queue.push(entry);
      state.pending.set(leaseId, queue);
      state.stream.then(
        (stream) => stream.write({ ID: leaseId }),
        (error: unknown) => entry.reject(toBackendError(error, 'keepalive')),
      );
    });
    return await raceSignal(result, options.signal);
  }

  watch(key: string, options: WatchOptions): Watch {
    return this.#watches.watch(key, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#watches.close();
    const ka = this.#keepalive;
    this.#keepalive = undefined;
    if (ka) {
      for (const queue of ka.pending.values()) for (const p of queue.splice(0)) p.reject(new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'etcd backend closed'));
      await ka.stream.then((s) => s.cancel(), () => undefined);
    }
    this.#client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Creates the etcd v3 backend. Throws WARDEN_ERR_BACKEND_INVALID_OPTIONS on bad endpoints or
 * timeouts; an unreachable etcd shows up on the first request as WARDEN_ERR_BACKEND_UNAVAILABLE
 * or WARDEN_ERR_BACKEND_TIMEOUT.
 */
export function createEtcdBackend(options: EtcdBackendOptions): Backend {
  return new EtcdBackend(options);
}
