import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fuseFatSuiteOptions, makeTmpDir, mountFat } from '../testing/index.js';
import { checkDataFileSystem, checkDataSymlinks, checkDataWritable, checkFreeSpace } from './data-dir.js';

async function fakeMountinfo(dir: string, line: (mountPoint: string) => string): Promise<string> {
  const real = await realpath(dir);
  const path = join(dir, 'mountinfo');
  await writeFile(path, `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n${line(real)}\n`);
  return path;
}

test('warns about a CIFS data dir without mfsymlinks, saying Warden writes M+F links and how to remount', async () => {
  await using dir = await makeTmpDir();
  const mountinfoPath = await fakeMountinfo(dir.path, (mp) => `90 27 0:60 / ${mp} rw,relatime - cifs //acct.file.core.windows.net/warden rw,vers=3.1.1,uid=10001`);
  const result = await checkDataFileSystem(dir.path, { mountinfoPath });
  assert.equal(result.status, 'warn');
  assert.match(result.message, /without mfsymlinks/);
  assert.match(result.message, /Minshall\+French/);
  assert.match(result.message, /remount with -o \.\.\.,mfsymlinks/);
});

test('accepts a CIFS data dir with mfsymlinks and a local file system', async () => {
  await using dir = await makeTmpDir();
  const cifs = await fakeMountinfo(dir.path, (mp) => `90 27 0:60 / ${mp} rw - smb3 //acct/warden rw,vers=3.1.1,mfsymlinks`);
  assert.equal((await checkDataFileSystem(dir.path, { mountinfoPath: cifs })).status, 'ok');
  const local = await fakeMountinfo(dir.path, () => '');
  const result = await checkDataFileSystem(dir.path, { mountinfoPath: local });
  assert.equal(result.status, 'ok');
  assert.match(result.message, /on ext4/);
});

test('fails on a data dir that does not exist', async () => {
  await using dir = await makeTmpDir();
  const result = await checkDataFileSystem(join(dir.path, 'missing'));
  assert.equal(result.status, 'fail');
});

test('writes, syncs and removes a probe file, and flags a file server with a wrong clock', async () => {
  await using dir = await makeTmpDir();
  const ok = await checkDataWritable(dir.path);
  assert.deepEqual(ok.map((r) => r.status), ['ok', 'ok']);
  // A clock two hours ahead of the file times stands in for a skewed SMB server.
  const skewed = await checkDataWritable(dir.path, { now: () => Date.now() + 2 * 3600_000 });
  assert.equal(skewed[1]?.status, 'warn');
  assert.match(skewed[1]!.message, /-720\d s off/);
  const notADir = join(dir.path, 'file');
  await writeFile(notADir, 'x');
  assert.equal((await checkDataWritable(notADir))[0]?.status, 'fail');
});

test('free space: fails below the minimum, warns below the warning level', async () => {
  await using dir = await makeTmpDir();
  assert.equal((await checkFreeSpace(dir.path, { minFreeBytes: 0, warnFreeBytes: 0 })).status, 'ok');
  assert.equal((await checkFreeSpace(dir.path, { minFreeBytes: 0, warnFreeBytes: Number.MAX_SAFE_INTEGER })).status, 'warn');
  const fail = await checkFreeSpace(dir.path, { minFreeBytes: Number.MAX_SAFE_INTEGER });
  assert.equal(fail.status, 'fail');
  assert.match(fail.message, /free of .*\(need at least/);
});

test('symlink probe: native symlinks work in a local directory', async () => {
  await using dir = await makeTmpDir();
  const result = await checkDataSymlinks(dir.path);
  assert.equal(result.status, 'ok');
  assert.equal((await readdir(dir.path)).length, 0, 'the probe leaves nothing behind');
});

describe('symlink probe on a file system without symlinks (FUSE FAT)', fuseFatSuiteOptions(), () => {
  test('warns (not fails) that aliases become Minshall+French files', async () => {
    await using fat = await mountFat();
    const result = await checkDataSymlinks(fat.path);
    assert.equal(result.status, 'warn');
    assert.match(result.message, /Minshall\+French/);
  });
});
