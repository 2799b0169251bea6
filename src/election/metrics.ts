/**
 * Observability hooks of `warden/election` (R14), with no dependency on a metrics library:
 * pass an object implementing any subset of {@link ElectionMetrics} as `SessionOptions.metrics`
 * and every Election, Lock and PartitionSet on that session reports through it. A prom-client
 * (or OpenTelemetry) adapter is a few lines; docs/election.md shows one.
 *
 * Hooks run synchronously on the library's path: keep them cheap (increment a counter, set a
 * gauge, observe a histogram). A hook that throws is ignored, never breaks the library.
 */
import type { LeadershipEndReason, SessionEndReason } from './errors.js';

/** What a hold is: an election's leadership or a lock's hold. */
export type HoldKind = 'election' | 'lock';

/** Sent when a candidate became leader (or took a lock). */
export interface ElectedEvent {
  kind: HoldKind;
  /** Election or lock name (a partition's election is named by its number). */
  name: string;
  /** The leader (lock) key. */
  key: string;
  fencingToken: string;
  /** Time from the campaign's start to being elected, ms (queueing behind predecessors included). */
  campaignWaitMs: number;
}

/** Sent once when a leadership (or lock hold) ended. */
export interface LeadershipEndedEvent {
  kind: HoldKind;
  name: string;
  key: string;
  fencingToken: string;
  /** 'resigned' | 'lost' (session ended) | 'superseded' (key deleted or replaced) | 'shutdown'. */
  reason: LeadershipEndReason;
  /** How long it was held, ms. */
  heldMs: number;
}

/** Sent after every acknowledged keepalive. */
export interface KeepaliveEvent {
  leaseId: string;
  /** Round trip of the keepalive, ms (send to answer, monotonic clock). */
  rttMs: number;
  /** Time left before the session's local deadline after this keepalive, ms. */
  deadlineRemainingMs: number;
}

/** Sent when a keepalive failed (timeout, unreachable); the session lives on until its deadline. */
export interface KeepaliveFailedEvent {
  leaseId: string;
  /** The error's code (WARDEN_ERR_BACKEND_*), or 'unknown'. */
  code: string;
  deadlineRemainingMs: number;
}

/** Sent once when a session ended. */
export interface SessionEndedEvent {
  leaseId: string;
  reason: SessionEndReason;
}

/** Sent by a PartitionSet whenever the number of partitions this node leads changed. */
export interface PartitionsOwnedEvent {
  /** The set's key prefix. */
  prefix: string;
  memberId: string;
  /** Partitions this node leads and acts for now. */
  owned: number;
  /** Partition count P of the set. */
  partitions: number;
}

/**
 * Receives the library's events; implement any subset. Suggested Prometheus mapping:
 * `is_leader{election}` gauge (elected → 1, leadershipEnded → 0), `transitions_total`
 * (elected), `lost_total{reason}` (leadershipEnded), `keepalive_rtt_seconds` histogram
 * (keepalive.rttMs), `lease_deadline_remaining_seconds` gauge (keepalive), `campaign_wait_seconds`
 * histogram (elected.campaignWaitMs), `partitions_owned` gauge (partitionsOwned).
 */
export interface ElectionMetrics {
  elected?(event: ElectedEvent): void;
  leadershipEnded?(event: LeadershipEndedEvent): void;
  keepalive?(event: KeepaliveEvent): void;
  keepaliveFailed?(event: KeepaliveFailedEvent): void;
  sessionEnded?(event: SessionEndedEvent): void;
  partitionsOwned?(event: PartitionsOwnedEvent): void;
}

/** Calls one hook if present, swallowing whatever it throws. @internal */
export function emit<K extends keyof ElectionMetrics>(
  metrics: ElectionMetrics | undefined,
  name: K,
  event: Parameters<NonNullable<ElectionMetrics[K]>>[0],
): void {
  const hook = metrics?.[name] as ((e: typeof event) => void) | undefined;
  if (hook === undefined) return;
  try {
    hook.call(metrics, event);
  } catch {
    // Metrics must never break coordination.
  }
}
