import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTmpDir } from '../testing/index.js';
import { convertTree, encode, linkKind, MfSymlinkError, readSymlink } from './index.js';

async function buildTree(root: string): Promise<void> {
  await mkdir(join(root, 'a/b/c'), { recursive: true });
  await symlink('../versions/1.0', join(root, 'latest'));
  await symlink('../../x', join(root, 'a/up'));
  await symlink('c', join(root, 'a/b/to-dir')); // a link to a directory: converted, never followed
  await symlink(Buffer.from([0xff, 0x2f, 0x80]), join(root, 'a/b/c/bytes'));
  await symlink('l'.repeat(1025), join(root, 'a/too-long'));
  await writeFile(join(root, 'a/plain.txt'), 'not a link');
  const malformed = encode('x');
  malformed[0] = 0x78;
  await writeFile(join(root, 'a/b/malformed'), malformed);
}

describe('convertTree', () => {
  test('converts native links to Minshall+French and back, reporting what it skipped', async () => {
    await using dir = await makeTmpDir();
    await buildTree(dir.path);

    const toMf = await convertTree(dir.path, { to: 'mf' });
    assert.equal(toMf.scanned, 7);
    assert.equal(toMf.unchanged, 0);
    assert.deepEqual(toMf.converted.map((c) => [c.path, c.from]), [
      ['a/b/c/bytes', 'native'],
      ['a/b/to-dir', 'native'],
      ['a/up', 'native'],
      ['latest', 'native'],
    ]);
    assert.deepEqual(toMf.skipped.map((s) => [s.path, s.code, s.malformed]), [
      ['a/b/malformed', 'WARDEN_ERR_MFSYMLINK_NOT_A_LINK', true],
      ['a/too-long', 'WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG', false],
    ]);
    assert.deepEqual(new Uint8Array(await readFile(join(dir.path, 'latest'))), encode('../versions/1.0'));
    assert.equal(await linkKind(join(dir.path, 'a/b/to-dir')), 'mf');
    assert.equal(await readFile(join(dir.path, 'a/plain.txt'), 'utf8'), 'not a link');

    const again = await convertTree(dir.path, { to: 'mf' });
    assert.equal(again.converted.length, 0);
    assert.equal(again.unchanged, 4);

    const back = await convertTree(dir.path, { to: 'native' });
    assert.equal(back.converted.length, 4);
    assert.ok(back.converted.every((c) => c.from === 'mf'));
    assert.equal(back.unchanged, 1); // the too-long native link stayed native
    assert.equal(await readlink(join(dir.path, 'latest'), 'utf8'), '../versions/1.0');
    assert.equal(await readlink(join(dir.path, 'a/b/to-dir'), 'utf8'), 'c');
    assert.deepEqual(await readlink(join(dir.path, 'a/b/c/bytes'), 'buffer'), Buffer.from([0xff, 0x2f, 0x80]));
    assert.deepEqual(back.skipped.map((s) => s.path), ['a/b/malformed']);
  });

  test('a dry run reports the same conversions and changes nothing', async () => {
    await using dir = await makeTmpDir();
    await buildTree(dir.path);
    const dry = await convertTree(dir.path, { to: 'mf', dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.converted.length, 4);
    assert.equal(await linkKind(join(dir.path, 'latest')), 'native');
    const real = await convertTree(dir.path, { to: 'mf' });
    assert.deepEqual(real.converted, dry.converted);
  });

  test('an empty Minshall+French target is reported, not converted to native', async () => {
    await using dir = await makeTmpDir();
    await writeFile(join(dir.path, 'empty'), encode(''));
    const report = await convertTree(dir.path, { to: 'native' });
    assert.deepEqual(report.skipped.map((s) => s.code), ['WARDEN_ERR_MFSYMLINK_TARGET_EMPTY']);
    assert.equal(await readSymlink(join(dir.path, 'empty')), '');
  });

  test('stops with the signal reason; converted links stay valid links', async () => {
    await using dir = await makeTmpDir();
    for (let i = 0; i < 50; i += 1) await symlink(`t${i}`, join(dir.path, `l${i}`));
    const controller = new AbortController();
    const reason = new Error('enough');
    let seen = 0;
    const watcher = setInterval(() => {
      seen += 1;
      controller.abort(reason);
    }, 0);
    await assert.rejects(convertTree(dir.path, { to: 'mf', concurrency: 1, fsync: false, signal: controller.signal }), (e) => e === reason);
    clearInterval(watcher);
    assert.ok(seen > 0);
    for (let i = 0; i < 50; i += 1) assert.equal(await readSymlink(join(dir.path, `l${i}`)), `t${i}`);
    await assert.rejects(convertTree(dir.path, { to: 'mf', signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });

  test('refuses an unknown kind and a missing directory with coded errors', async () => {
    await using dir = await makeTmpDir();
    await assert.rejects(convertTree(dir.path, { to: 'hard' as 'mf' }), (e) => e instanceof MfSymlinkError && e.code === 'WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT');
    await assert.rejects(convertTree(join(dir.path, 'nope'), { to: 'mf' }), (e) => e instanceof MfSymlinkError && e.code === 'WARDEN_ERR_MFSYMLINK_NOT_FOUND');
  });
});
