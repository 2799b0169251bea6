/**
 * `warden/election`: sessions, elections and locks over etcd v3 (or in memory), with local
 * deadlines that end leadership strictly before the store could expire the lease, and
 * fencing tokens (the leader key's create revision).
 */
export type {
  Backend,
  CallOptions,
  Compare,
  CompareOp,
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
export { systemClock, ManualClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export {
  ERROR_CODES,
  ElectionError,
  SessionOptionsError,
  SessionEndedError,
  LeadershipEndedError,
  BackendError,
  hasCode,
} from './errors.js';
export type { ElectionErrorCode, ElectionErrorOptions, SessionEndReason, LeadershipEndReason } from './errors.js';
export { createMemoryBackend } from './memory-backend.js';
export type { MemoryBackend, MemoryBackendOptions } from './memory-backend.js';
export { createEtcdBackend } from './etcd-backend.js';
export type { EtcdBackendOptions } from './etcd-backend.js';
export { Session, resolveSessionOptions } from './session.js';
export type { SessionOptions, SessionHealth, FailoverAssumptions } from './session.js';
export type {
  ElectionMetrics,
  ElectedEvent,
  LeadershipEndedEvent,
  KeepaliveEvent,
  KeepaliveFailedEvent,
  SessionEndedEvent,
  PartitionsOwnedEvent,
  HoldKind,
} from './metrics.js';
export { Election } from './election.js';
export type { ElectionOptions, LeaderInfo, Leadership } from './election.js';
export type { RunHandlers } from './runner.js';
export type { Guard } from './hold.js';
export { Lock } from './lock.js';
export type { LockHandle, LockOptions } from './lock.js';
export { DEFAULT_PREFIX } from './names.js';

// ---- partitions (PartitionSet: P partitions balanced over the live members) ----
export { PartitionSet } from './partition-set.js';
export type { PartitionSetOptions } from './partition-set.js';
export { partitionOf } from './partition-of.js';
export { assignPartitions, countMoves } from './partition-assignment.js';
export { PartitionTableWatcher } from './partition-table.js';
export type { PartitionLeaderInfo, PartitionMemberInfo, PartitionRow, PartitionTable } from './partition-table.js';
export { PARTITION_ERROR_CODES, PartitionError } from './partition-errors.js';
