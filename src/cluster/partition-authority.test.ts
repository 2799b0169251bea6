import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createMemoryBackend, Session, type PartitionSet } from 'warden/election';
import { Store, StoreError } from 'warden/store';
import { makeTmpDir } from '../testing/index.js';
import { partitionAuthority, type LiveMembership } from './partition-authority.js';

async function fixture(guardKey: string, guardRevision: () => bigint) {
  const backend = createMemoryBackend();
  const session = await Session.create(backend, { ttlMs: 5_000 });
  const ended = new AbortController();
  const leadership = { fencingToken: '42', signal: ended.signal, guard: () => ({ key: guardKey, target: 'createRevision' as const, op: '=' as const, value: guardRevision() }) };
  const idles: number[] = [];
  const live: LiveMembership = {
    session,
    set: { partitionOf: () => 3, leadership: () => leadership } as unknown as PartitionSet,
    inflight: new Int32Array(8),
    idle: (p) => idles.push(p),
  };
  const tmp = await makeTmpDir('warden-authority-');
  const authority = partitionAuthority({ current: () => live, genPrefix: '/warden/gen/', nodeId: 'n1' });
  const store = await Store.open({ root: join(tmp.path, 'data'), nodeId: 'n1', authority, sweepOrphans: false });
  return {
    backend,
    store,
    live,
    idles,
    ended,
    tmp,
    async [Symbol.asyncDispose]() {
      await session.close();
      await backend.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

const body = (text: string): Readable => Readable.from([Buffer.from(text)]);

test('a commit is proven against etcd first: the fencing token lands in metadata; changes others may cache bump the owner generation before and after', async () => {
  let revision = 0n;
  await using f = await fixture('/lead', () => revision);
  revision = (await f.backend.txn({ compare: [], success: [{ type: 'put', key: '/lead', value: 'me' }] })).revision;
  const r = await f.store.publish('acme', 'tool', '1.0', body('hello'));
  assert.equal(r.status, 'created');
  assert.equal(r.meta.fencingToken, '42');
  assert.equal((await f.backend.get('/warden/gen/acme')).kvs.length, 0, 'a new version is proven by a read-only transaction, not announced');
  await f.store.setAlias('acme', 'tool', 'latest', '1.0');
  const gen = await f.backend.get('/warden/gen/acme');
  assert.equal(gen.kvs[0]!.version, 2n, 'an alias move bumps the generation to fence the commit and again when it landed');
  assert.deepEqual(JSON.parse(gen.kvs[0]!.value), { node: 'n1', partition: 3, token: '42', phase: 'landed', kind: 'alias', name: 'tool', key: 'latest' });
  assert.equal(f.live.inflight[3], 0);
  assert.deepEqual(f.idles, [3, 3]);
});

test('a failed fencing transaction abandons the commit: retryable NOT_WRITER, no version, no temp file', async () => {
  await using f = await fixture('/not-the-leader-key', () => 7n);
  await assert.rejects(f.store.publish('acme', 'tool', '1.0', body('hello')), (e: unknown) => e instanceof StoreError && e.code === 'WARDEN_ERR_STORE_NOT_WRITER' && e.retryable);
  await assert.rejects(f.store.readMeta('acme', 'tool', '1.0'), (e: unknown) => e instanceof StoreError && e.code === 'WARDEN_ERR_STORE_NOT_FOUND');
  assert.deepEqual(await readdir(join(f.store.root, 'acme', 'tool', 'versions')), []);
  assert.deepEqual(await readdir(join(f.store.root, '.warden', 'tmp', 'n1')), []);
  await assert.rejects(f.store.setAlias('acme', 'tool', 'latest', '1.0'), (e: unknown) => e instanceof StoreError && e.code !== undefined);
  assert.equal(f.live.inflight[3], 0, 'every guard released');
});

test('a leadership that ended refuses before touching etcd; no leadership at all refuses at acquire', async () => {
  await using f = await fixture('/lead', () => 1n);
  f.ended.abort(new Error('lost'));
  await assert.rejects(f.store.publish('acme', 'tool', '2.0', body('x')), (e: unknown) => e instanceof StoreError && e.code === 'WARDEN_ERR_STORE_NOT_WRITER');
  assert.equal((await f.backend.get('/warden/gen/acme')).kvs.length, 0, 'no fencing transaction was sent');
  const none = partitionAuthority({ current: () => undefined, genPrefix: '/g/', nodeId: 'n1' });
  await assert.rejects(none.acquire('acme'), (e: unknown) => e instanceof StoreError && e.code === 'WARDEN_ERR_STORE_NOT_WRITER' && e.retryable);
});
