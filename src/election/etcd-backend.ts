/**
 * The etcd v3 backend. It and its helpers (etcd-connection, etcd-keepalive, etcd-watch,
 * etcd-codec, etcd-errors: the only modules importing etcd3) use etcd3's raw gRPC clients
 * (KV, Lease, Watch), not its Lease/Election/Lock recipes, so that they can
 * - put a deadline on every unary request (never longer than the caller's `timeoutMs`),
 * - time each keepalive itself (etcd-keepalive.ts),
 * - send require-leader metadata on keepalive and watch streams (etcd-connection.ts),
 * - carry every watch on one multiplexed stream (etcd-watch.ts),
 * - read linearizably (never `serializable`),
 * and convert every gRPC/etcd3 error once, at this edge (etcd-errors.ts), into a coded BackendError.
 */
import type { Etcd3, KVClient, LeaseClient } from 'etcd3';
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
import { connectEtcd, type EtcdBackendOptions } from './etcd-connection.js';
import { NOT_SENT, toBackendError } from './etcd-errors.js';
import { EtcdKeepalives } from './etcd-keepalive.js';
import { etcd3 } from './etcd-module.js';
import { EtcdWatchMux } from './etcd-watch.js';
import { BackendError, ElectionError } from './errors.js';

export { toBackendError } from './etcd-errors.js';
export type { EtcdBackendOptions } from './etcd-connection.js';

class EtcdBackend implements Backend {
  readonly kind = 'etcd' as const;
  readonly #client: Etcd3;
  readonly #kv: KVClient;
  readonly #lease: LeaseClient;
  readonly #rpcTimeoutMs: number;
  readonly #hostCount: number;
  readonly #watches: EtcdWatchMux;
  readonly #keepalives: EtcdKeepalives;
  #closed = false;

  constructor(options: EtcdBackendOptions) {
    const connection = connectEtcd(options);
    this.#client = connection.client;
    this.#rpcTimeoutMs = connection.rpcTimeoutMs;
    this.#hostCount = connection.hostCount;
    const { KVClient, LeaseClient, WatchClient } = etcd3();
    this.#kv = new KVClient(connection.pool);
    this.#lease = new LeaseClient(connection.requireLeader);
    this.#keepalives = new EtcdKeepalives(this.#lease);
    this.#watches = new EtcdWatchMux(new WatchClient(connection.requireLeader));
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

  async keepAliveOnce(leaseId: string, options: CallOptions = {}): Promise<number> {
    if (this.#closed) throw new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'etcd backend closed');
    throwIfAborted(options.signal);
    const timeoutMs = Math.max(1, Math.min(options.timeoutMs ?? this.#rpcTimeoutMs, this.#rpcTimeoutMs));
    return await raceSignal(this.#keepalives.once(leaseId, timeoutMs), options.signal);
  }

  watch(key: string, options: WatchOptions): Watch {
    return this.#watches.watch(key, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#watches.close();
    await this.#keepalives.close();
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
