import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, makeTmpDir } from '../../testing/index.js';
import { parseDoctorArgs } from './doctor.js';

const cli = fileURLToPath(new URL('../main.js', import.meta.url));

test('parseDoctorArgs: flags win over WARDEN_* env, endpoints split on commas', () => {
  assert.deepEqual(parseDoctorArgs(['--data', '/d', '--etcd', 'http://a:2379, http://b:2379']), {
    help: false,
    options: { dataDir: '/d', etcdEndpoints: ['http://a:2379', 'http://b:2379'] },
  });
  assert.deepEqual(parseDoctorArgs([], { WARDEN_DATA: '/env', WARDEN_ETCD: 'http://e:2379' }), {
    help: false,
    options: { dataDir: '/env', etcdEndpoints: ['http://e:2379'] },
  });
  assert.deepEqual(parseDoctorArgs(['--data', '/flag'], { WARDEN_DATA: '/env' }), {
    help: false,
    options: { dataDir: '/flag', etcdEndpoints: [] },
  });
  assert.deepEqual(parseDoctorArgs(['-h']), { help: true });
  assert.throws(() => parseDoctorArgs(['--bogus']));
});

test('warden doctor prints one line per check and exits 1 when one fails', async () => {
  await using dir = await makeTmpDir();
  const port = await freePort();
  const env = { ...process.env, WARDEN_DATA: '', WARDEN_ETCD: '' };
  const good = spawnSync(process.execPath, [cli, 'doctor', '--data', dir.path], { encoding: 'utf8', env });
  const lines = good.stdout.trim().split('\n');
  const ids = lines.map((line) => line.split(/\s+/)[1]);
  assert.deepEqual(ids, ['service-account-token', 'user', 'clock', 'data-fs', 'data-symlinks', 'data-writable', 'data-clock', 'data-free-space', 'etcd']);
  for (const line of lines) assert.match(line, /^(OK|WARN|FAIL|SKIP)\s/);
  // This machine may or may not have a token mounted or little space; the exit code must agree with the lines.
  assert.equal(good.status, lines.some((line) => line.startsWith('FAIL')) ? 1 : 0);

  const bad = spawnSync(process.execPath, [cli, 'doctor', '--data', dir.path, '--etcd', `http://127.0.0.1:${port}`], { encoding: 'utf8', env });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /^FAIL\s+etcd\s+http:\/\/127\.0\.0\.1:\d+ unreachable/m);

  const usage = spawnSync(process.execPath, [cli, 'doctor', '--nope'], { encoding: 'utf8', env });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /Usage: warden doctor/);
});
