#!/usr/bin/env node
// `npm test`: make sure etcd is there (installing it with apt on Debian/Ubuntu as root),
// build, lint, then run every compiled *.test.js with node's test runner.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function hasEtcd() {
  if (process.env.WARDEN_ETCD_BIN) return true;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']) {
    try {
      accessSync(join(dir, 'etcd'), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

function isDebianLike() {
  if (!existsSync('/etc/os-release')) return false;
  const text = readFileSync('/etc/os-release', 'utf8');
  return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(text);
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (!hasEtcd()) {
  if (process.getuid?.() === 0 && isDebianLike()) {
    console.error('[warden test] etcd missing: installing etcd-server with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (run('apt-get', ['install', '-y', '-qq', 'etcd-server'], { env }) !== 0) {
      run('apt-get', ['update', '-qq'], { env });
      run('apt-get', ['install', '-y', '-qq', 'etcd-server'], { env });
    }
  }
  if (!hasEtcd()) {
    console.error(
      '[warden test] etcd is not installed, so the etcd suites will be SKIPPED.\n' +
        '  Install it: Debian/Ubuntu `sudo apt-get install -y etcd-server`, macOS `brew install etcd`,\n' +
        '  or point WARDEN_ETCD_BIN at an etcd 3.4+ binary.',
    );
  }
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (run(npm, ['run', '--silent', 'build']) !== 0) process.exit(1);
if (run(npm, ['run', '--silent', 'lint']) !== 0) process.exit(1);

// Files run in parallel: most etcd suites spend their time waiting on leases, not CPU.
const concurrency = process.env.WARDEN_TEST_CONCURRENCY ?? '4';
const extra = process.argv.slice(2);
const targets = extra.length > 0 ? extra : ['dist/'];
// A hung test must fail with its name, not eat CI's time: every test gets a timeout
// (tests that need longer set their own), and the whole run a hard limit.
const testTimeoutMs = process.env.WARDEN_TEST_TIMEOUT_MS ?? '300000';
const runLimitMs = Number(process.env.WARDEN_TEST_RUN_LIMIT_MS ?? 30 * 60_000);
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, `--test-timeout=${testTimeoutMs}`, ...targets],
  { stdio: 'inherit', timeout: runLimitMs, killSignal: 'SIGKILL' },
);
if (result.error?.code === 'ETIMEDOUT') {
  console.error(`[warden test] the test run passed its ${runLimitMs} ms limit and was killed`);
  process.exit(1);
}
process.exit(result.status ?? 1);
