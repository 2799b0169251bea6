/**
 * Lease keepalives of the etcd backend: one shared keepalive stream (with require-leader
 * metadata) for every lease of the backend, each keepalive a single request with its own
 * deadline. The caller times the send itself (the store renews after receiving the request,
 * so `send time + TTL` bounds the server expiry); etcd3's Lease recipe hides that time.
 */
import type { IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse, LeaseClient } from 'etcd3';
import { toBackendError } from './etcd-errors.js';
import { BackendError } from './errors.js';

interface PendingKeepalive {
  resolve(ttlMs: number): void;
  reject(error: Error): void;
}

interface KeepaliveState {
  stream: Promise<IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>>;
  pending: Map<string, PendingKeepalive[]>;
}

/** The shared keepalive stream, reopened after it breaks or a keepalive goes unanswered. */
export class EtcdKeepalives {
  readonly #lease: LeaseClient;
  #state: KeepaliveState | undefined;

  /** @param lease - a LeaseClient whose streams carry require-leader metadata. */
  constructor(lease: LeaseClient) {
    this.#lease = lease;
  }

  /**
   * Sends one keepalive for `leaseId` and resolves with the TTL in ms etcd granted (0 = the
   * lease is gone). Rejects with WARDEN_ERR_BACKEND_TIMEOUT after `timeoutMs` without answer
   * (and drops the stream: it is probably stuck), or with the stream's converted error.
   */
  once(leaseId: string, timeoutMs: number): Promise<number> {
    this.#state ??= this.#open();
    const state = this.#state;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        const queue = state.pending.get(leaseId);
        const i = queue?.indexOf(entry) ?? -1;
        if (i >= 0) queue?.splice(i, 1);
        // A keepalive that got no answer means the stream is stuck (e.g. a black-holed
        // link): drop it so the next keepalive opens a new one, maybe to another member.
        if (this.#state === state) this.#state = undefined;
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
  }

  /** Rejects every pending keepalive with WARDEN_ERR_BACKEND_CLOSED and cancels the stream. */
  async close(): Promise<void> {
    const state = this.#state;
    this.#state = undefined;
    if (state === undefined) return;
    for (const queue of state.pending.values()) for (const p of queue.splice(0)) p.reject(new BackendError('WARDEN_ERR_BACKEND_CLOSED', 'etcd backend closed'));
    await state.stream.then((s) => s.cancel(), () => undefined);
  }

  #open(): KeepaliveState {
    const pending = new Map<string, PendingKeepalive[]>();
    const state: KeepaliveState = {
      pending,
      stream: this.#lease.leaseKeepAlive().then((stream) => {
        const fail = (error: unknown): void => {
          if (this.#state === state) this.#state = undefined;
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
      if (this.#state === state) this.#state = undefined;
    });
    return state;
  }
}
