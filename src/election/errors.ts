/**
 * Errors of `warden/election`. Every error the library throws, and every `signal.reason` it
 * aborts with, is an `ElectionError` with a stable `code` (listed in `ERROR_CODES` and in
 * docs/errors.md) and a `retryable` flag. Foreign errors (gRPC, etcd3) are converted once, in
 * the etcd backend.
 */

/** Maps every code of this part to a one-line meaning (kept in sync with docs/errors.md by a test). */
export const ERROR_CODES: Readonly<Record<string, string>> = Object.freeze({
  WARDEN_ERR_SESSION_INVALID_OPTIONS: 'session timing options are out of range or inconsistent (ttl, keepalive, margin, timeouts)',
  WARDEN_ERR_SESSION_CLOSED: 'the session was closed or orphaned; create a new session',
  WARDEN_ERR_SESSION_EXPIRED: 'the server reports the lease is gone (expired or revoked)',
  WARDEN_ERR_SESSION_DEADLINE: 'no keepalive was acknowledged in time: the local deadline passed before the server could expire the lease',
  WARDEN_ERR_SESSION_PAUSED: 'the event loop stalled longer than the safety margin (process paused, GC, blocking code)',
  WARDEN_ERR_ELECTION_INVALID_NAME: 'election name or key prefix is not valid',
  WARDEN_ERR_ELECTION_BUSY: 'this session already campaigns in this election (one candidate key per session and name)',
  WARDEN_ERR_ELECTION_KEY_LOST: 'the candidate key disappeared while waiting to be elected',
  WARDEN_ERR_ELECTION_NOT_LEADER: 'a leader-only operation found that this candidate no longer leads',
  WARDEN_ERR_ELECTION_LEADERSHIP_ENDED: 'leadership ended (resigned, lost with the session, key deleted, or shut down)',
  WARDEN_ERR_ELECTION_HANDOVER_FAILED: 'handoverTo(): the named candidate was not next in line in time (still leading), or left the queue during the handover',
  WARDEN_ERR_LOCK_INVALID_NAME: 'lock name or key prefix is not valid',
  WARDEN_ERR_LOCK_BUSY: 'this session already holds or waits for this lock',
  WARDEN_ERR_LOCK_KEY_LOST: 'the lock key disappeared while waiting to acquire the lock',
  WARDEN_ERR_LOCK_LOST: 'the lock was released or lost (session ended, key deleted)',
  WARDEN_ERR_BACKEND_INVALID_OPTIONS: 'backend options are not valid (endpoints, timeouts)',
  WARDEN_ERR_BACKEND_UNAVAILABLE: 'the coordination store cannot be reached or has no quorum',
  WARDEN_ERR_BACKEND_TIMEOUT: 'a request to the coordination store exceeded its deadline',
  WARDEN_ERR_BACKEND_COMPACTED: 'a watch asked for history that the store has compacted away',
  WARDEN_ERR_BACKEND_LEASE_NOT_FOUND: 'the lease does not exist on the store (expired or revoked)',
  WARDEN_ERR_BACKEND_CLOSED: 'the backend was closed',
  WARDEN_ERR_BACKEND_FAILED: 'the coordination store rejected the request (unexpected error, see cause)',
});

/** Names every code in `ERROR_CODES`. */
export type ElectionErrorCode = keyof typeof ERROR_CODES & string;

/** Options shared by every error constructor. */
export interface ElectionErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

/** Base class of every error of `warden/election`. */
export class ElectionError extends Error {
  override name = 'ElectionError';
  readonly code: string;
  readonly retryable: boolean;

  /** Creates an error with a stable code; `retryable` defaults to false. */
  constructor(code: string, message: string, options: ElectionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Why a session ended. */
export type SessionEndReason = 'closed' | 'orphaned' | 'expired' | 'deadline' | 'paused';

/** Rejects invalid timing options of a session, with the rule that failed in the message. */
export class SessionOptionsError extends ElectionError {
  override name = 'SessionOptionsError';
  /** Creates the error for one broken rule. */
  constructor(message: string) {
    super('WARDEN_ERR_SESSION_INVALID_OPTIONS', message);
  }
}

/** Tells that a session ended; it is the session's `signal.reason`. */
export class SessionEndedError extends ElectionError {
  override name = 'SessionEndedError';
  /** Why the session ended: 'closed' | 'orphaned' | 'expired' | 'deadline' | 'paused'. */
  readonly reason: SessionEndReason;

  /** Creates the error for one end reason. */
  constructor(reason: SessionEndReason, message: string, options: ElectionErrorOptions = {}) {
    const code =
      reason === 'closed' || reason === 'orphaned'
        ? 'WARDEN_ERR_SESSION_CLOSED'
        : reason === 'expired'
          ? 'WARDEN_ERR_SESSION_EXPIRED'
          : reason === 'deadline'
            ? 'WARDEN_ERR_SESSION_DEADLINE'
            : 'WARDEN_ERR_SESSION_PAUSED';
    super(code, message, { retryable: reason !== 'closed' && reason !== 'orphaned', ...options });
    this.reason = reason;
  }
}

/** Why a leadership or a lock hold ended. */
export type LeadershipEndReason = 'resigned' | 'lost' | 'superseded' | 'shutdown';

/**
 * Tells that a leadership (or lock hold) ended; it is `leadership.signal.reason`.
 * `reason`: 'resigned' (resign/release called), 'lost' (the session ended; `cause` says why),
 * 'superseded' (the key was deleted or replaced by someone else), 'shutdown' (the runner stopped).
 */
export class LeadershipEndedError extends ElectionError {
  override name = 'LeadershipEndedError';
  readonly reason: LeadershipEndReason;

  /** Creates the error; `code` is WARDEN_ERR_ELECTION_LEADERSHIP_ENDED or WARDEN_ERR_LOCK_LOST. */
  constructor(code: string, reason: LeadershipEndReason, message: string, options: ElectionErrorOptions = {}) {
    super(code, message, { retryable: reason !== 'resigned' && reason !== 'shutdown', ...options });
    this.reason = reason;
  }
}

/** Tells that a store request failed; `code` is one of the WARDEN_ERR_BACKEND_* codes. */
export class BackendError extends ElectionError {
  override name = 'BackendError';
}

/** Returns true when `error` is an ElectionError with the given code. */
export function hasCode(error: unknown, code: string): boolean {
  return error instanceof ElectionError && error.code === code;
}
