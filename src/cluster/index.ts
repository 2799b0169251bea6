/**
 * `warden/cluster`: the glue of cluster mode — partition leaders own the writes (fenced at
 * commit), every node serves reads, caches are invalidated across nodes through etcd.
 */
export { ClusterNode } from './cluster-node.js';
export type { ClusterNodeOptions, PartitionJobs, PartitionJobContext } from './cluster-node.js';
export { partitionAuthority } from './partition-authority.js';
export type { LiveMembership, PartitionAuthorityOptions } from './partition-authority.js';
export { GenerationFeed } from './generation-feed.js';
export type { GenerationChange, GenerationFeedOptions } from './generation-feed.js';
export { ClusterError, ERROR_CODES } from './errors.js';
export type { ClusterErrorCode } from './errors.js';
