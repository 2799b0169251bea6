import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { makeTmpDir } from '../testing/index.js';
import { StoreError } from './errors.js';
import { isValidName } from './names.js';
import { aliasTargetVersion } from './metadata.js';
import { Store } from './store.js';
import type { WriteAuthority } from './write-authority.js';

const code = (error: unknown): string => (error instanceof StoreError ? error.code : String(error));

test('names: the DESIGN.md pattern, no "..", versions not ending in .json', () => {
  for (const ok of ['a', 'A0', '1.0.0', 'my_app-2', 'x'.repeat(128), 'a.b']) assert.ok(isValidName(ok, 'version'), ok);
  for (const bad of ['', '.a', '-a', '_a', 'a..b', '..', 'a/b', 'a\\b', 'a b', 'a\0', 'x'.repeat(129), 'é', 'a%2e', '\uff0e\uff0e', 'a@b']) {
    assert.ok(!isValidName(bad, 'name'), JSON.stringify(bad));
  }
  assert.ok(!isValidName('v1.json', 'version'));
  assert.ok(isValidName('v1.json', 'name'));
});

test('alias targets: only ../versions/<valid version> is accepted', () => {
  assert.equal(aliasTargetVersion('../versions/1.0'), '1.0');
  for (const bad of ['../versions/', '../versions/../x', '/etc/passwd', '../versions/a/b', 'versions/1', '../versions/1.json', '../versions/.x', ' ../versions/1', '../versions/1\n']) {
    assert.equal(aliasTargetVersion(bad), undefined, JSON.stringify(bad));
  }
});

test('open empties this node\'s temp folder and sweeps content without metadata', async () => {
  await using tmp = await makeTmpDir();
  const root = join(tmp.path, 'data');
  const tmpDir = join(root, '.warden', 'tmp', 'n1');
  await mkdir(tmpDir, { recursive: true });
  await writeFile(join(tmpDir, 'leftover.data'), 'partial');
  await mkdir(join(root, '.warden', 'tmp', 'n2'), { recursive: true });
  await writeFile(join(root, '.warden', 'tmp', 'n2', 'other-node'), 'x');
  const versions = join(root, 'o', 'n', 'versions');
  await mkdir(versions, { recursive: true });
  await writeFile(join(versions, 'orphan'), 'uncommitted');
  const store = await Store.open({ root, nodeId: 'n1' });
  assert.deepEqual(await readdir(tmpDir), []);
  assert.deepEqual(await readdir(join(root, '.warden', 'tmp', 'n2')), ['other-node'], 'other nodes\' temp folders are theirs');
  assert.deepEqual(await readdir(versions), []);
  await store.close();
  await assert.rejects(store.publish('o', 'n', 'v', Readable.from([Buffer.from('x')])), (e) => code(e) === 'WARDEN_ERR_STORE_CLOSED');
});

test('open: a bad option is a coded error and creates nothing', async () => {
  await using tmp = await makeTmpDir();
  const root = join(tmp.path, 'never-created');
  for (const hashThreads of [-1, 2.5, 65]) {
    await assert.rejects(Store.open({ root, hashThreads }), (error: unknown) => code(error) === 'WARDEN_ERR_STORE_INVALID_OPTIONS');
  }
  assert.deepEqual(await readdir(tmp.path), []);
});

test('publish: a failing stream, a too-large stream and a bad name all leave nothing', async () => {
  await using tmp = await makeTmpDir();
  const store = await Store.open({ root: tmp.path, nodeId: 'n', maxUploadBytes: 10 });
  async function* failing(): AsyncGenerator<Buffer> {
    yield Buffer.from('abc');
    throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
  }
  await assert.rejects(store.publish('o', 'n', 'v', failing()), (e) => code(e) === 'WARDEN_ERR_STORE_UPLOAD_ABORTED');
  await assert.rejects(store.publish('o', 'n', 'v', Readable.from([Buffer.alloc(6), Buffer.alloc(6)])), (e) => code(e) === 'WARDEN_ERR_STORE_TOO_LARGE');
  await assert.rejects(store.publish('o', '..', 'v', Readable.from([])), (e) => code(e) === 'WARDEN_ERR_STORE_BAD_NAME');
  assert.deepEqual(await readdir(join(tmp.path, '.warden', 'tmp', 'n')), []);
  await assert.rejects(readdir(join(tmp.path, 'o', 'n', 'versions')));
  const ok = await store.publish('o', 'n', 'v', Readable.from([Buffer.from('0123456789')]));
  assert.equal(ok.status, 'created');
  const meta = JSON.parse(await readFile(join(tmp.path, 'o', 'n', 'versions', 'v.json'), 'utf8')) as { size: number; fencingToken: string };
  assert.equal(meta.size, 10);
  assert.equal(meta.fencingToken, 'local-1');
});

test('writes are fenced: a guard aborted before the commit lands keeps nothing', async () => {
  await using tmp = await makeTmpDir();
  const lost = new AbortController();
  const authority: WriteAuthority = { acquire: async () => ({ fencingToken: 'f-7', signal: lost.signal }) };
  const store = await Store.open({ root: tmp.path, authority });
  async function* slow(): AsyncGenerator<Buffer> {
    yield Buffer.from('abc');
    lost.abort();
    yield Buffer.from('def');
  }
  await assert.rejects(store.publish('o', 'n', 'v', slow()), (e) => code(e) === 'WARDEN_ERR_STORE_NOT_WRITER');
  await assert.rejects(store.readMeta('o', 'n', 'v'), (e) => code(e) === 'WARDEN_ERR_STORE_NOT_FOUND');
  const refusing: WriteAuthority = { acquire: async () => Promise.reject(new StoreError('WARDEN_ERR_STORE_NOT_WRITER', 'not leader')) };
  const follower = await Store.open({ root: tmp.path, authority: refusing });
  await assert.rejects(follower.publish('o', 'n', 'w', Readable.from([Buffer.from('x')])), (e) => code(e) === 'WARDEN_ERR_STORE_NOT_WRITER');
});

test('reads refuse planted symlinks at every level and corrupt metadata', async () => {
  await using tmp = await makeTmpDir();
  const store = await Store.open({ root: join(tmp.path, 'data') });
  await store.publish('o', 'n', 'v', Readable.from([Buffer.from('hello')]));
  await writeFile(join(tmp.path, 'outside'), 'secret');
  const versions = join(store.root, 'o', 'n', 'versions');
  await symlink(join(tmp.path, 'outside'), join(versions, 'link'));
  await writeFile(join(versions, 'link.json'), JSON.stringify({ version: 'link', sha256: 'a'.repeat(64), size: 6, contentType: 'x/y', createdAt: new Date().toISOString(), fencingToken: 'x' }));
  await assert.rejects(store.openVersion('o', 'n', 'link'), (e) => code(e) === 'WARDEN_ERR_STORE_UNSAFE_PATH');
  await symlink(join(store.root, 'o'), join(store.root, 'p'));
  await assert.rejects(store.openVersion('p', 'n', 'v'), (e) => code(e) === 'WARDEN_ERR_STORE_UNSAFE_PATH');
  await writeFile(join(versions, 'bad'), 'x');
  await writeFile(join(versions, 'bad.json'), '{"version": "bad"}');
  await assert.rejects(store.openVersion('o', 'n', 'bad'), (e) => code(e) === 'WARDEN_ERR_STORE_CORRUPT_METADATA');
  await writeFile(join(versions, 'hdr'), 'x');
  await writeFile(join(versions, 'hdr.json'), JSON.stringify({ version: 'hdr', sha256: 'a'.repeat(64), size: 1, contentType: 'text/plain\r\nSet-Cookie: a=b', createdAt: new Date().toISOString(), fencingToken: 'x' }));
  await assert.rejects(store.openVersion('o', 'n', 'hdr'), (e) => code(e) === 'WARDEN_ERR_STORE_CORRUPT_METADATA', 'header injection through metadata is corruption');
  const opened = await store.openVersion('o', 'n', 'v');
  assert.equal((await opened.handle.readFile()).toString(), 'hello');
  await opened.handle.close();
  assert.deepEqual((await store.listVersions('o', 'n')).map((m) => m.version), ['v']);
});

test('sweepOrphans removes content without metadata once old enough, and never a committed version', async () => {
  await using tmp = await makeTmpDir('warden-store-orphans-');
  const store = await Store.open({ root: tmp.path, nodeId: 'n1', sweepOrphans: false });
  await store.publish('acme', 'tool', '1.0', Readable.from([Buffer.from('kept')]));
  await writeFile(join(store.root, 'acme', 'tool', 'versions', '2.0'), 'cut between the renames');
  assert.equal(await store.sweepOrphans('acme', { olderThanMs: 60_000 }), 0, 'too recent: could be a commit in progress');
  assert.equal(await store.sweepOrphans('acme'), 1);
  assert.deepEqual((await readdir(join(store.root, 'acme', 'tool', 'versions'))).sort(), ['1.0', '1.0.json']);
  assert.equal((await readFile(join(store.root, 'acme', 'tool', 'versions', '1.0'))).toString(), 'kept');
});
