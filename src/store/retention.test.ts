import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { makeTmpDir } from '../testing/index.js';
import { StoreError } from './errors.js';
import { applyRetention } from './retention.js';
import { Store } from './store.js';
import type { WriteAuthority } from './write-authority.js';

const body = (text: string): Readable => Readable.from([Buffer.from(text)]);

async function publishSeries(store: Store, owner: string, name: string, count: number): Promise<void> {
  // createdAt has ms resolution; distinct times keep the order the test expects.
  for (let i = 1; i <= count; i++) {
    await store.publish(owner, name, `v${i}`, body(`${owner}/${name} content ${i}`));
    await new Promise((r) => setTimeout(r, 3));
  }
}

test('retention keeps the N newest versions per name and never deletes an aliased one', async () => {
  await using tmp = await makeTmpDir();
  const store = await Store.open({ root: tmp.path });
  await publishSeries(store, 'acme', 'app', 6);
  await publishSeries(store, 'acme', 'lib', 2);
  await store.setAlias('acme', 'app', 'stable', 'v1');
  await store.setAlias('acme', 'app', 'latest', 'v6');
  const deleted: string[] = [];
  const result = await applyRetention(store, { keep: 2, onDelete: (o, n, v) => deleted.push(`${o}/${n}/${v}`) });
  assert.deepEqual(result.deleted, ['acme/app/v2', 'acme/app/v3', 'acme/app/v4']);
  assert.deepEqual(deleted, result.deleted);
  assert.equal(result.keptAliased, 1);
  assert.deepEqual((await store.listVersions('acme', 'app')).map((m) => m.version), ['v1', 'v5', 'v6']);
  assert.deepEqual((await store.listVersions('acme', 'lib')).map((m) => m.version), ['v1', 'v2'], 'names under the limit are untouched');
  assert.deepEqual((await readdir(join(store.root, 'acme', 'app', 'versions'))).sort(), ['v1', 'v1.json', 'v5', 'v5.json', 'v6', 'v6.json']);
  const again = await applyRetention(store, { keep: 2 });
  assert.deepEqual(again.deleted, [], 'a second pass has nothing to do');
});

test('retention only touches the selected owners (list or predicate)', async () => {
  await using tmp = await makeTmpDir();
  const store = await Store.open({ root: tmp.path });
  for (const owner of ['a', 'b', 'c']) await publishSeries(store, owner, 'n', 3);
  assert.deepEqual((await applyRetention(store, { keep: 1, owners: ['b'] })).deleted, ['b/n/v1', 'b/n/v2']);
  assert.deepEqual((await applyRetention(store, { keep: 1, owns: (o) => o !== 'c' })).deleted, ['a/n/v1', 'a/n/v2']);
  assert.equal((await store.listVersions('c', 'n')).length, 3);
});

test('retention stops at once when its signal aborts, and a refused write stops it too', async () => {
  await using tmp = await makeTmpDir();
  const lost = new AbortController();
  let writable = true;
  const authority: WriteAuthority = {
    acquire: async () => {
      if (!writable) throw new StoreError('WARDEN_ERR_STORE_NOT_WRITER', 'not leader', { retryable: true });
      return { fencingToken: 't', signal: lost.signal };
    },
  };
  const store = await Store.open({ root: tmp.path, authority });
  await publishSeries(store, 'o', 'n', 6);
  const stop = new AbortController();
  let deletes = 0;
  const reason = new Error('partition lost');
  await assert.rejects(
    applyRetention(store, { keep: 1, signal: stop.signal, onDelete: () => ++deletes === 2 && stop.abort(reason) }),
    (e) => e === reason,
  );
  assert.equal(deletes, 2, 'no delete after the abort');
  assert.equal((await store.listVersions('o', 'n')).length, 4);
  writable = false;
  await assert.rejects(applyRetention(store, { keep: 1 }), (e) => e instanceof StoreError && e.code === 'WARDEN_ERR_STORE_NOT_WRITER');
  assert.equal((await store.listVersions('o', 'n')).length, 4, 'a follower deletes nothing');
  const aborted = new AbortController();
  aborted.abort(reason);
  await assert.rejects(applyRetention(store, { keep: 1, signal: aborted.signal }), (e) => e === reason);
  await assert.rejects(applyRetention(store, { keep: 0 }), RangeError);
});
