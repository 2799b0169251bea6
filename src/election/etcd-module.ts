/**
 * The etcd3 client (gRPC and its protobufs: ~27 MB of memory once loaded), loaded on first
 * use rather than on import, so a program that imports `warden/election` but never talks to
 * etcd — the memory backend, a single-node `warden serve` — does not pay for it.
 */
import { createRequire } from 'node:module';
import type * as Etcd3Module from 'etcd3';

const require = createRequire(import.meta.url);
let loaded: typeof Etcd3Module | undefined;

/** Returns the etcd3 module, loading it the first time. */
export function etcd3(): typeof Etcd3Module {
  loaded ??= require('etcd3') as typeof Etcd3Module;
  return loaded;
}
