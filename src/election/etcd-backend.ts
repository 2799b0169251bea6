import type { Backend } from './backend.js';
import { BackendError } from './errors.js';

/** Options of the etcd backend. */
export interface EtcdBackendOptions {
  /** etcd client URLs, e.g. ['http://127.0.0.1:2379']. Required, at least one. */
  endpoints: string[];
  /** Upper bound of every unary request, ms. Default 5_000. Recipes pass shorter ones (the time left on the lease). */
  rpcTimeoutMs?: number;
  /** Time to establish a connection, ms. Default 3_000. */
  dialTimeoutMs?: number;
}

/** Creates the etcd v3 backend (placeholder until the implementation lands). */
export function createEtcdBackend(options: EtcdBackendOptions): Backend {
  throw new BackendError('WARDEN_ERR_BACKEND_FAILED', `etcd backend not implemented yet (${options.endpoints.join(',')})`);
}
