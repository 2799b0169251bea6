/**
 * The one place where etcd3/gRPC errors become coded BackendErrors.
 */
import { BackendError, ElectionError } from './errors.js';
import { etcd3 } from './etcd-module.js';

/** Messages of errors raised before a request reached any etcd member (safe to retry elsewhere). */
export const NOT_SENT = /No connection established|ECONNREFUSED|connect ECONN/i;

/** Converts any error from etcd3/gRPC into a BackendError (once, at the edge). */
export function toBackendError(error: unknown, what: string): ElectionError {
  if (error instanceof ElectionError) return error;
  const { ClientClosedError, EtcdLeaseInvalidError, GRPCDeadlineExceededError, isRecoverableError } = etcd3();
  const message = error instanceof Error ? error.message : String(error);
  const make = (code: string, retryable: boolean): BackendError =>
    new BackendError(code, `etcd ${what}: ${message}`, { cause: error, retryable });
  if (error instanceof EtcdLeaseInvalidError || message.includes('requested lease not found')) return make('WARDEN_ERR_BACKEND_LEASE_NOT_FOUND', false);
  if (error instanceof ClientClosedError) return make('WARDEN_ERR_BACKEND_CLOSED', false);
  if (message.includes('compacted')) return make('WARDEN_ERR_BACKEND_COMPACTED', true);
  if (error instanceof GRPCDeadlineExceededError || /deadline exceeded|request timed out|timed out/i.test(message)) return make('WARDEN_ERR_BACKEND_TIMEOUT', true);
  if (
    (error instanceof Error && isRecoverableError(error)) ||
    /no leader|unavailable|ECONNREFUSED|ECONNRESET|connect|circuit|no hosts|cancelled|not capable|leader changed|stopped/i.test(message)
  ) {
    return make('WARDEN_ERR_BACKEND_UNAVAILABLE', true);
  }
  return make('WARDEN_ERR_BACKEND_FAILED', false);
}
