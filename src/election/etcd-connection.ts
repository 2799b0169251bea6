/**
 * The etcd client connection of the etcd backend: options validation, etcd3's connection
 * pool with fault policies that leave retries to the recipes, and a wrapper of the pool that
 * adds require-leader metadata (`hasleader: true`, as Go's WithRequireLeader) to streams, so a
 * member cut off from its cluster's leader fails the stream instead of going quiet.
 */
import type { Etcd3, ICallable, IOptions } from 'etcd3';
import { NOT_SENT } from './etcd-errors.js';
import { etcd3 } from './etcd-module.js';
import { BackendError } from './errors.js';

/** Options of the etcd backend. */
export interface EtcdBackendOptions {
  /** etcd client URLs, e.g. ['http://127.0.0.1:2379'] (http only). Required, at least one. */
  endpoints: string[];
  /** Upper bound of every unary request, ms. Default 5_000. Recipes pass shorter ones (the time left on the lease). */
  rpcTimeoutMs?: number;
  /** Time to establish a connection, ms. Default 3_000. */
  dialTimeoutMs?: number;
}

/** A validated, open connection. */
export interface EtcdConnection {
  client: Etcd3;
  /** etcd3's pool, for unary calls. */
  pool: ICallable<unknown>;
  /** The pool with require-leader metadata on every call (use it for streams). */
  requireLeader: ICallable<unknown>;
  rpcTimeoutMs: number;
  hostCount: number;
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

/**
 * Validates the options and creates the client (connections open lazily, on the first call).
 * Throws WARDEN_ERR_BACKEND_INVALID_OPTIONS on bad endpoints or timeouts.
 */
export function connectEtcd(options: EtcdBackendOptions): EtcdConnection {
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
  const client = new (etcd3().Etcd3)(clientOptions);
  // etcd3 keeps its connection pool private; its RPC clients accept any ICallable, so the
  // pool is wrapped to add require-leader metadata to streams.
  const pool = (client as unknown as { pool?: ICallable<unknown> }).pool;
  if (pool === undefined || typeof pool.withConnection !== 'function') {
    client.close();
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
  return { client, pool, requireLeader, rpcTimeoutMs, hostCount: endpoints.length };
}
