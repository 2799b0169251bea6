import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTmpDir } from '../testing/index.js';
import {
  clearNativeSymlinkCache,
  createSymlink,
  encode,
  inspectLink,
  linkKind,
  MfSymlinkError,
  probeNativeSymlinks,
  readSymlink,
} from './index.js';

function hasCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof MfSymlinkError, `not an MfSymlinkError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('probeNativeSymlinks', () => {
  test('says yes on a local file system and leaves nothing behind', async () => {
    await using dir = await makeTmpDir();
    clearNativeSymlinkCache();
    assert.equal(await probeNativeSymlinks(dir.path), true);
    assert.deepEqual(await entries(dir.path), []);
  });

  test('caches the answer per directory: a second call does not probe again', async () => {
    await using dir = await makeTmpDir();
    clearNativeSymlinkCache(dir.path);
    assert.equal(await probeNativeSymlinks(dir.path), true);
    // With the directory gone a fresh probe would fail; the cached answer does not.
    await dir.remove();
    assert.equal(await probeNativeSymlinks(`${dir.path}/`), true);
    clearNativeSymlinkCache(dir.path);
    await assert.rejects(probeNativeSymlinks(dir.path), hasCode('WARDEN_ERR_MFSYMLINK_NOT_FOUND'));
  });

  test('rejects with the reason of an already-aborted signal', async () => {
    await using dir = await makeTmpDir();
    const reason = new Error('stop');
    await assert.rejects(probeNativeSymlinks(dir.path, { signal: AbortSignal.abort(reason) }), (error) => error === reason);
  });
});

describe('createSymlink on a file system with native symlinks', () => {
  test('auto makes a native link; mf makes the exact 1067 kernel bytes; no temp entry is left', async () => {
    await using dir = await makeTmpDir();
    assert.deepEqual(await createSymlink('../versions/1.0', join(dir.path, 'auto')), { kind: 'native' });
    assert.equal(await readlink(join(dir.path, 'auto'), 'utf8'), '../versions/1.0');
    assert.deepEqual(await createSymlink('../versions/1.0', join(dir.path, 'mf'), { mode: 'mf' }), { kind: 'mf' });
    assert.deepEqual(new Uint8Array(await readFile(join(dir.path, 'mf'))), encode('../versions/1.0'));
    assert.equal((await lstat(join(dir.path, 'mf'))).mode & 0o777, 0o644 & ~process.umask());
    assert.deepEqual(await createSymlink('x', join(dir.path, 'native'), { mode: 'native' }), { kind: 'native' });
    assert.deepEqual(await entries(dir.path), ['auto', 'mf', 'native']);
  });

  for (const mode of ['native', 'mf'] as const) {
    test(`${mode}: refuses to replace an existing entry unless replace is set, then swaps it`, async () => {
      await using dir = await makeTmpDir();
      const path = join(dir.path, 'latest');
      await createSymlink('v1', path, { mode });
      await assert.rejects(createSymlink('v2', path, { mode }), hasCode('WARDEN_ERR_MFSYMLINK_EXISTS'));
      assert.equal(await readSymlink(path), 'v1');
      await createSymlink('v2', path, { mode, replace: true });
      assert.equal(await readSymlink(path), 'v2');
      await writeFile(join(dir.path, 'plain'), 'data');
      await assert.rejects(createSymlink('v3', join(dir.path, 'plain'), { mode }), hasCode('WARDEN_ERR_MFSYMLINK_EXISTS'));
      assert.equal(await readFile(join(dir.path, 'plain'), 'utf8'), 'data');
      assert.deepEqual(await entries(dir.path), ['latest', 'plain']);
    });
  }

  test('refuses empty, NUL and (for mf) over-long targets, creating nothing', async () => {
    await using dir = await makeTmpDir();
    const path = join(dir.path, 'l');
    await assert.rejects(createSymlink('', path), hasCode('WARDEN_ERR_MFSYMLINK_TARGET_EMPTY'));
    await assert.rejects(createSymlink(new Uint8Array(0), path, { mode: 'mf' }), hasCode('WARDEN_ERR_MFSYMLINK_TARGET_EMPTY'));
    await assert.rejects(createSymlink('a\0b', path), hasCode('WARDEN_ERR_MFSYMLINK_TARGET_NUL'));
    await assert.rejects(createSymlink('a'.repeat(1025), path, { mode: 'mf' }), hasCode('WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG'));
    await assert.rejects(createSymlink('a'.repeat(5000), path, { mode: 'native' }), hasCode('WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG'));
    await assert.rejects(createSymlink('x', path, { mode: 'hard' as 'mf' }), hasCode('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT'));
    assert.deepEqual(await entries(dir.path), []);
  });

  test('a native 1025-byte target is fine (only Minshall+French files stop at 1024)', async () => {
    await using dir = await makeTmpDir();
    await createSymlink('a'.repeat(1025), join(dir.path, 'l'), { mode: 'native' });
    assert.equal((await readSymlink(join(dir.path, 'l'))).length, 1025);
  });

  test('non-UTF-8 target bytes round-trip through both kinds', async () => {
    await using dir = await makeTmpDir();
    const target = Uint8Array.of(0xff, 0xfe, 0x2f, 0x80, 0x61);
    for (const mode of ['native', 'mf'] as const) {
      const path = join(dir.path, mode);
      await createSymlink(target, path, { mode });
      assert.deepEqual(new Uint8Array(await readSymlink(path, { encoding: 'buffer' })), target);
    }
  });

  test('fails with NOT_FOUND when the directory does not exist', async () => {
    await using dir = await makeTmpDir();
    await assert.rejects(createSymlink('x', join(dir.path, 'no/such/l'), { mode: 'mf' }), hasCode('WARDEN_ERR_MFSYMLINK_NOT_FOUND'));
  });

  test('an already-aborted signal rejects with its reason and creates nothing', async () => {
    await using dir = await makeTmpDir();
    const reason = new Error('cancelled');
    await assert.rejects(createSymlink('x', join(dir.path, 'l'), { mode: 'mf', signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.deepEqual(await entries(dir.path), []);
  });

  test('readers never see a half-written link while it is swapped again and again', async () => {
    await using dir = await makeTmpDir();
    const path = join(dir.path, 'latest');
    await createSymlink('../versions/a', path, { mode: 'mf' });
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) seen.add(await readSymlink(path));
    })();
    for (let i = 0; i < 150; i += 1) {
      await createSymlink(i % 2 === 0 ? '../versions/b' : '../versions/a', path, { mode: i % 3 === 0 ? 'native' : 'mf', replace: true, fsync: false });
    }
    writing = false;
    await reader;
    assert.deepEqual([...seen].sort(), ['../versions/a', '../versions/b']);
    assert.deepEqual(await entries(dir.path), ['latest']);
  });
});

describe('readSymlink, linkKind and inspectLink', () => {
  test('tell native links, Minshall+French files, plain files, malformed candidates, directories and missing paths apart', async () => {
    await using dir = await makeTmpDir();
    const p = (name: string): string => join(dir.path, name);
    await symlink('native-target', p('native'));
    await writeFile(p('mf'), encode('mf-target'));
    await writeFile(p('plain'), 'hello');
    const bad = encode('mf-target');
    bad[10] = 0x5a;
    await writeFile(p('malformed'), bad);
    await mkdir(p('dir'));
    const quirky = encode('mf-target');
    quirky[4] = 0x20;
    await writeFile(p('quirky'), quirky);

    assert.equal(await readSymlink(p('native')), 'native-target');
    assert.equal(await readSymlink(p('mf')), 'mf-target');
    assert.equal(await readSymlink(p('quirky')), 'mf-target');
    assert.deepEqual(await readSymlink(p('mf'), { encoding: 'buffer' }), Buffer.from('mf-target'));
    await assert.rejects(readSymlink(p('quirky'), { strict: true }), hasCode('WARDEN_ERR_MFSYMLINK_NOT_A_LINK'));
    await assert.rejects(readSymlink(p('plain')), hasCode('WARDEN_ERR_MFSYMLINK_NOT_A_LINK'));
    await assert.rejects(readSymlink(p('dir')), hasCode('WARDEN_ERR_MFSYMLINK_NOT_A_LINK'));
    await assert.rejects(readSymlink(p('missing')), hasCode('WARDEN_ERR_MFSYMLINK_NOT_FOUND'));
    await assert.rejects(readSymlink(p('malformed')), (error: unknown) => {
      hasCode('WARDEN_ERR_MFSYMLINK_NOT_A_LINK')(error);
      assert.equal(((error as MfSymlinkError).cause as MfSymlinkError).code, 'WARDEN_ERR_MFSYMLINK_BAD_HASH');
      return true;
    });

    const kinds = Object.fromEntries(
      await Promise.all(['native', 'mf', 'quirky', 'plain', 'malformed', 'dir', 'missing'].map(async (n) => [n, await linkKind(p(n))])),
    );
    assert.deepEqual(kinds, { native: 'native', mf: 'mf', quirky: 'mf', plain: 'none', malformed: 'none', dir: 'none', missing: 'none' });
    const malformed = await inspectLink(p('malformed'));
    assert.equal(malformed.kind === 'none' && malformed.what, 'malformed');
    const quirk = await inspectLink(p('quirky'));
    assert.equal(quirk.kind === 'mf' && quirk.info.canonical, false);
  });

  test('a 1067-byte file is decoded, a 1066- or 1068-byte one never is', async () => {
    await using dir = await makeTmpDir();
    const bytes = encode('t');
    await writeFile(join(dir.path, 'short'), bytes.subarray(0, 1066));
    await writeFile(join(dir.path, 'long'), Buffer.concat([bytes, Buffer.from(' ')]));
    assert.equal(await linkKind(join(dir.path, 'short')), 'none');
    assert.equal(await linkKind(join(dir.path, 'long')), 'none');
  });

  test('rejects an unknown encoding and an aborted signal', async () => {
    await using dir = await makeTmpDir();
    await assert.rejects(readSymlink(dir.path, { encoding: 'hex' as 'utf8' }), hasCode('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT'));
    const reason = new Error('stop');
    await assert.rejects(linkKind(dir.path, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });
});
