import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'warden/mfsymlink';
import { makeTmpDir } from '../../testing/index.js';
import { parseMfsymlinkArgs, runMfsymlink, UsageError, type Output } from './mfsymlink.js';

const mainJs = join(dirname(fileURLToPath(import.meta.url)), '../main.js');

function capture(): Output & { out: () => string; err: () => string } {
  const out: Buffer[] = [];
  let err = '';
  return {
    stdout: (chunk) => void out.push(Buffer.from(chunk)),
    stderr: (chunk) => void (err += chunk),
    out: () => Buffer.concat(out).toString('utf8'),
    err: () => err,
  };
}

describe('parseMfsymlinkArgs', () => {
  test('maps each subcommand and its flags to an action', () => {
    assert.deepEqual(parseMfsymlinkArgs(['read', 'f']), { action: 'read', file: 'f', strict: false });
    assert.deepEqual(parseMfsymlinkArgs(['read', '--strict', 'f']), { action: 'read', file: 'f', strict: true });
    assert.deepEqual(parseMfsymlinkArgs(['create', 't', 'f']), { action: 'create', target: 't', file: 'f', mode: 'auto', replace: false });
    assert.deepEqual(parseMfsymlinkArgs(['create', 't', 'f', '--mode', 'mf', '--replace']), { action: 'create', target: 't', file: 'f', mode: 'mf', replace: true });
    assert.deepEqual(parseMfsymlinkArgs(['check', 'd']), { action: 'check', dir: 'd', strict: false });
    assert.deepEqual(parseMfsymlinkArgs(['convert', 'd', '--to', 'native', '--dry-run']), { action: 'convert', dir: 'd', to: 'native', dryRun: true });
    assert.deepEqual(parseMfsymlinkArgs(['--help']), { action: 'help' });
    assert.deepEqual(parseMfsymlinkArgs(['read', '-h']), { action: 'help' });
  });

  test('rejects usage mistakes', () => {
    for (const argv of [[], ['nope'], ['read'], ['read', 'a', 'b'], ['create', 't'], ['convert', 'd'], ['convert', 'd', '--to', 'hard'], ['create', 't', 'f', '--mode', 'x'], ['read', 'f', '--to', 'mf']]) {
      assert.throws(() => parseMfsymlinkArgs(argv), UsageError, JSON.stringify(argv));
    }
    assert.throws(() => parseMfsymlinkArgs(['read', 'f', '--bogus']));
  });
});

describe('warden mfsymlink actions', () => {
  test('create then read prints the target; a non-link exits 1 with the reason', async () => {
    await using dir = await makeTmpDir();
    const link = join(dir.path, 'latest');
    const io = capture();
    assert.equal(await runMfsymlink({ action: 'create', target: '../v/1', file: link, mode: 'mf', replace: false }, io), 0);
    assert.deepEqual(new Uint8Array(await readFile(link)), encode('../v/1'));
    assert.equal(await runMfsymlink({ action: 'read', file: link, strict: false }, io), 0);
    assert.match(io.out(), /created mf link .*latest -> \.\.\/v\/1\n\.\.\/v\/1\n$/);
    await writeFile(join(dir.path, 'bad'), encode('x').fill(0x41, 10, 20));
    const bad = capture();
    assert.equal(await runMfsymlink({ action: 'read', file: join(dir.path, 'bad'), strict: false }, bad), 1);
    assert.match(bad.err(), /MD5 mismatch.*WARDEN_ERR_MFSYMLINK_NOT_A_LINK\] \[WARDEN_ERR_MFSYMLINK_BAD_HASH\]/);
    assert.equal(bad.out(), '');
  });

  test('check lists links and malformed candidates and exits 1 when one is malformed', async () => {
    await using dir = await makeTmpDir();
    await symlink('n', join(dir.path, 'native'));
    await writeFile(join(dir.path, 'mf'), encode('m'));
    const good = capture();
    assert.equal(await runMfsymlink({ action: 'check', dir: dir.path, strict: false }, good), 0);
    assert.equal(good.out(), 'mf         mf -> m\nnative     native -> n\n');
    await writeFile(join(dir.path, 'zz'), new Uint8Array(1067));
    const bad = capture();
    assert.equal(await runMfsymlink({ action: 'check', dir: dir.path, strict: false }, bad), 1);
    assert.match(bad.out(), /^malformed {2}zz: no XSym magic/m);
    assert.equal(bad.err(), '2 links, 1 malformed\n');
  });

  test('convert reports what it converted', async () => {
    await using dir = await makeTmpDir();
    await symlink('n', join(dir.path, 'l'));
    const io = capture();
    assert.equal(await runMfsymlink({ action: 'convert', dir: dir.path, to: 'mf', dryRun: false }, io), 0);
    assert.equal(io.out(), 'converted l (native -> mf) -> n\n');
    assert.deepEqual(new Uint8Array(await readFile(join(dir.path, 'l'))), encode('n'));
  });

  test('the real binary prints raw target bytes and uses exit codes 0, 1 and 2', async () => {
    await using dir = await makeTmpDir();
    const target = Buffer.from([0x61, 0xff, 0x62]);
    await writeFile(join(dir.path, 'l'), encode(target));
    const run = (...args: string[]) => spawnSync(process.execPath, [mainJs, 'mfsymlink', ...args], { cwd: dir.path });
    const ok = run('read', 'l');
    assert.equal(ok.status, 0);
    assert.deepEqual(ok.stdout, Buffer.concat([target, Buffer.from('\n')]));
    assert.equal(run('read', 'missing').status, 1);
    assert.equal(run('frobnicate').status, 2);
  });
});
