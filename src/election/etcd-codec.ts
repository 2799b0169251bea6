/**
 * Conversions between the backend's types (strings, bigint revisions, decimal lease ids)
 * and etcd3's protobuf shapes. Pure functions, no I/O.
 */
import type { ICompare, IKeyValue, IRangeRequest, IRequestOp } from 'etcd3';
import type { Compare, GetOptions, KeyValue, TxnOp } from './backend.js';

/** Returns the etcd range end that covers every key starting with `prefix`. */
export function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** Converts an etcd key-value into the backend's KeyValue (strings, bigint revisions). */
export function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: BigInt(kv.create_revision),
    modRevision: BigInt(kv.mod_revision),
    version: BigInt(kv.version),
    lease: String(kv.lease),
  };
}

const RESULT = { '=': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;

/** Converts a backend Compare into an etcd comparison. */
export function toCompare(c: Compare): ICompare {
  const base = { key: Buffer.from(c.key), result: RESULT[c.op] };
  switch (c.target) {
    case 'createRevision':
      return { ...base, target: 'Create', create_revision: c.value.toString() };
    case 'modRevision':
      return { ...base, target: 'Mod', mod_revision: c.value.toString() };
    case 'version':
      return { ...base, target: 'Version', version: c.value.toString() };
    case 'value':
      return { ...base, target: 'Value', value: Buffer.from(c.value) };
    case 'lease':
      return { ...base, target: 'Lease', lease: c.value };
  }
}

/** Builds an etcd range request (linearizable: `serializable` is never set). */
export function toRange(key: string, options: { prefix?: boolean; limit?: number; sort?: GetOptions['sort']; maxCreateRevision?: bigint }): IRangeRequest {
  const k = Buffer.from(key);
  return {
    key: k,
    ...(options.prefix === true ? { range_end: rangeEnd(k) } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
    ...(options.sort ? { sort_target: 'Create' as const, sort_order: options.sort === 'createAscending' ? ('Ascend' as const) : ('Descend' as const) } : {}),
    ...(options.maxCreateRevision !== undefined ? { max_create_revision: options.maxCreateRevision.toString() } : {}),
  };
}

/** Converts a backend transaction operation into an etcd request op. */
export function toOp(op: TxnOp): IRequestOp {
  const key = Buffer.from(op.key);
  switch (op.type) {
    case 'put':
      return { request_put: { key, value: Buffer.from(op.value), ...(op.lease && op.lease !== '0' ? { lease: op.lease } : {}) } };
    case 'delete':
      return { request_delete_range: { key, ...(op.prefix === true ? { range_end: rangeEnd(key) } : {}) } };
    case 'get':
      return { request_range: toRange(op.key, op) };
  }
}
