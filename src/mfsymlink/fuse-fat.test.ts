// A real file system without symlinks: a FAT image mounted with fusefat, where symlink()
// fails with ENOSYS — what Warden meets on an SMB share mounted without mfsymlinks.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseFatSuiteOptions, makeTmpDir, mountFat, type FatMount } from '../testing/index.js';
import {
  clearNativeSymlinkCache,
  convertTree,
  createSymlink,
  encode,
  linkKind,
  MfSymlinkError,
  probeNativeSymlinks,
  readSymlink,
  scanTree,
} from './index.js';

const mainJs = join(dirname(fileURLToPath(import.meta.url)), '../cli/main.js');

const TREE: Record<string, string> = {
  'owner/tool/aliases/latest': '../versions/1.2.0',
  'owner/tool/aliases/stable': '../versions/1.1.0',
  'owner/lib/aliases/latest': '../versions/0.9.0-rc.1',
  'top': 'owner/tool',
  'deep/a/b/c/link': '../../../../top',
};

/** Copies regular files and directories (fs.cp uses copy_file_range, which fusefat lacks). */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isDirectory()) await copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile()) await writeFile(join(to, entry.name), await readFile(join(from, entry.name)));
    else throw new Error(`unexpected entry ${entry.name}`);
  }
}

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof MfSymlinkError && error.code === code;
}

describe('on a FUSE FAT file system (no symlink support)', fuseFatSuiteOptions(), () => {
  let fat: FatMount;
  before(async () => {
    fat = await mountFat();
    clearNativeSymlinkCache();
  });
  after(async () => {
    await fat?.close();
  });

  test('the probe says no: symlink() fails there', async () => {
    assert.equal(await probeNativeSymlinks(fat.path), false);
    await assert.rejects(symlink('x', join(fat.path, 'direct')), (e: NodeJS.ErrnoException) => ['ENOSYS', 'EPERM', 'EOPNOTSUPP'].includes(e.code ?? ''));
    assert.deepEqual((await readdir(fat.path)).filter((n) => n.startsWith('.warden')), []);
  });

  test('auto writes Minshall+French links, reads them back, and swaps them atomically', async () => {
    const dir = join(fat.path, 'auto');
    await mkdir(dir);
    const path = join(dir, 'latest');
    assert.deepEqual(await createSymlink('../versions/1.0.0', path), { kind: 'mf' });
    assert.deepEqual(new Uint8Array(await readFile(path)), encode('../versions/1.0.0'));
    assert.equal(await readSymlink(path), '../versions/1.0.0');
    assert.equal(await linkKind(path), 'mf');
    // No hard links on FAT either: the no-replace path falls back to check-then-rename.
    await assert.rejects(createSymlink('../versions/2.0.0', path), hasCode('WARDEN_ERR_MFSYMLINK_EXISTS'));
    assert.deepEqual(await createSymlink('../versions/2.0.0', path, { replace: true }), { kind: 'mf' });
    assert.equal(await readSymlink(path), '../versions/2.0.0');
    await assert.rejects(createSymlink('x', join(dir, 'n'), { mode: 'native' }), hasCode('WARDEN_ERR_MFSYMLINK_NOT_SUPPORTED'));
    const bytes = Uint8Array.of(0xff, 0x2f, 0xe9, 0x80);
    await createSymlink(bytes, join(dir, 'bytes'));
    assert.deepEqual(new Uint8Array(await readSymlink(join(dir, 'bytes'), { encoding: 'buffer' })), bytes);
    assert.deepEqual((await readdir(dir)).sort(), ['bytes', 'latest']);
  });

  test('the CLI creates and reads links there', async () => {
    const file = join(fat.path, 'cli-link');
    const create = spawnSync(process.execPath, [mainJs, 'mfsymlink', 'create', '../versions/3', file], { encoding: 'utf8' });
    assert.equal(create.status, 0, create.stderr);
    assert.match(create.stdout, /^created mf link /);
    const read = spawnSync(process.execPath, [mainJs, 'mfsymlink', 'read', file], { encoding: 'utf8' });
    assert.equal(read.stdout, '../versions/3\n');
  });

  test('a tree converts back and forth between the FAT mount and a normal directory', async () => {
    await using local = await makeTmpDir();
    await using back = await makeTmpDir();
    const source = join(local.path, 'tree');
    for (const [path, target] of Object.entries(TREE)) {
      await mkdir(dirname(join(source, path)), { recursive: true });
      await symlink(target, join(source, path));
    }
    await writeFile(join(source, 'owner/readme.txt'), 'plain');

    // Native → Minshall+French locally, then onto the FAT mount as plain files.
    const toMf = await convertTree(source, { to: 'mf' });
    assert.equal(toMf.converted.length, Object.keys(TREE).length);
    const onFat = join(fat.path, 'tree');
    await copyTree(source, onFat);
    const scanned = await scanTree(onFat);
    assert.deepEqual(
      Object.fromEntries(scanned.filter((e) => e.inspection.kind === 'mf').map((e) => [e.path, e.inspection.kind === 'mf' ? e.inspection.target.toString() : ''])),
      TREE,
    );
    const again = await convertTree(onFat, { to: 'mf' });
    assert.equal(again.unchanged, Object.keys(TREE).length);
    await assert.rejects(convertTree(onFat, { to: 'native' }), hasCode('WARDEN_ERR_MFSYMLINK_NOT_SUPPORTED'));

    // A link made on the mount itself (auto → mf) travels too.
    await createSymlink('../versions/2.0.0', join(onFat, 'owner/tool/aliases/next'));

    // Back: copy off the mount and convert to native links.
    const returned = join(back.path, 'tree');
    await copyTree(onFat, returned);
    const toNative = await convertTree(returned, { to: 'native' });
    assert.equal(toNative.converted.length, Object.keys(TREE).length + 1);
    assert.deepEqual(toNative.skipped, []);
    for (const [path, target] of Object.entries({ ...TREE, 'owner/tool/aliases/next': '../versions/2.0.0' })) {
      assert.equal(await readlink(join(returned, path), 'utf8'), target, path);
    }
    assert.equal(await readFile(join(returned, 'owner/readme.txt'), 'utf8'), 'plain');
  });

  test('check reports a malformed candidate on the mount', async () => {
    const dir = join(fat.path, 'check');
    await mkdir(dir);
    await createSymlink('ok', join(dir, 'good'));
    const bad = encode('ok');
    bad[12] = bad[12]! ^ 1;
    await writeFile(join(dir, 'bad'), bad);
    const result = spawnSync(process.execPath, [mainJs, 'mfsymlink', 'check', dir], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^malformed {2}bad: MD5 mismatch/m);
    assert.match(result.stdout, /^mf {9}good -> ok$/m);
  });
});
