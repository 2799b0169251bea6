/**
 * `warden serve` the way the image runs it (deploy/Dockerfile's ENTRYPOINT + CMD) inside a
 * throwaway "container" built from Linux namespaces: a private mount namespace (`unshare -m`)
 * and PID namespace (tini is PID 1), a read-only root, an emptyDir-like tmpfs at /tmp, and —
 * for the refusal tests — a tmpfs over /var/run/secrets/kubernetes.io/serviceaccount holding
 * a fake token, as the kubelet mounts it. Needs root; CI runs as root and must not skip.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../testing/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dockerfile = readFileSync(new URL('../../../deploy/Dockerfile', import.meta.url), 'utf8');

/** Where the checkout is bind-mounted inside the namespace, standing in for the image's /app. */
const APP = '/mnt';

/** The image's command, from the Dockerfile's final ENTRYPOINT and CMD, with /app mapped to {@link APP}. */
function imageArgv(): string[] {
  const pick = (keyword: string) => {
    const lines = dockerfile.split('\n').filter((line) => line.startsWith(`${keyword} `));
    return JSON.parse(lines.at(-1)!.slice(keyword.length + 1)) as string[];
  };
  return [...pick('ENTRYPOINT'), ...pick('CMD')].map((arg) => arg.replace(/^\/app\//, `${APP}/`));
}

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Linux namespaces are needed';
  if (process.getuid?.() !== 0) return 'needs root for unshare -m and mount (CI runs as root)';
  const probe = spawnSync('unshare', ['-m', '-p', '-f', '--mount-proc', 'sh', '-c', 'mount -t tmpfs probe /mnt && test "$$" = 1'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return `unshare -m -p does not work here: ${probe.error?.message ?? probe.stderr.trim()}`;
  if (spawnSync('tini', ['--version']).status !== 0) return 'tini is not installed (apt-get install tini)';
  if (!existsSync(APP)) return `${APP} does not exist to bind the checkout on`;
  return undefined;
}

function suiteOptions(): { skip?: string } {
  const reason = unavailable();
  if (reason === undefined) return {};
  if (process.env['CI'] === 'true') throw new Error(`${reason} (CI=true forbids skipping the service-account refusal tests)`);
  return { skip: reason };
}

// Runs inside the new namespaces, as root, before exec'ing the image command.
const SETUP = `
set -eu
mount --make-rprivate /
# The checkout plays the image's /app; bound first, so a checkout under /tmp survives the tmpfs.
mount --bind "$WARDEN_TEST_REPO" ${APP}
mount -t tmpfs -o size=32m,mode=1777 warden-tmp /tmp
mkdir /tmp/data /tmp/secrets
mount -t tmpfs -o size=32m,mode=0755 warden-data /tmp/data
printf '%s' "$WARDEN_TEST_TOKENS_JSON" > /tmp/secrets/tokens.json
if [ "$WARDEN_TEST_FAKE_SA" = 1 ]; then
  run=$(realpath /var/run)
  mount -t tmpfs -o size=1m,mode=0755 warden-run "$run"
  mkdir -p "$run/secrets/kubernetes.io/serviceaccount"
  mount -t tmpfs -o size=1m,mode=0755 kube-api-access-test /var/run/secrets/kubernetes.io/serviceaccount
  printf 'eyJhbGciOiJSUzI1NiJ9.fake.token' > /var/run/secrets/kubernetes.io/serviceaccount/token
  printf 'fake-ca' > /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
  printf 'warden' > /var/run/secrets/kubernetes.io/serviceaccount/namespace
fi
# readOnlyRootFilesystem: the root and the checkout's file system become read-only.
mount -o remount,bind,ro /
mount -o remount,bind,ro ${APP}
if touch /warden-rw-probe 2>/dev/null || touch ${APP}/warden-rw-probe 2>/dev/null; then
  echo 'the root file system is still writable' >&2; exit 97
fi
unset WARDEN_TEST_TOKENS_JSON WARDEN_TEST_FAKE_SA WARDEN_TEST_REPO
exec "$@"
`;

interface Container {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function startContainer(options: { fakeToken: boolean; extraArgs?: string[]; token: string; argv?: string[] }): Container {
  const tokens = JSON.stringify({ tokens: [{ sha256: createHash('sha256').update(options.token).digest('hex'), owners: ['*'], scopes: ['read', 'write', 'admin'] }] });
  const argv = options.argv ?? [...imageArgv(), '--data', '/tmp/data', '--tokens', '/tmp/secrets/tokens.json', '--port', '0', '--host', '127.0.0.1', ...(options.extraArgs ?? [])];
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    WARDEN_TEST_TOKENS_JSON: tokens,
    WARDEN_TEST_FAKE_SA: options.fakeToken ? '1' : '0',
    WARDEN_TEST_REPO: repo,
  };
  const child = spawn('unshare', ['-m', '-p', '-f', '--mount-proc', 'sh', '-c', SETUP, 'container', ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const container: Container = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (container.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (container.stderr += chunk));
  return container;
}

/** The host PID of the container's PID 1 (tini): the child of `unshare -f`. */
async function pidOne(container: Container): Promise<number> {
  const pid = container.child.pid!;
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return Number(children.trim().split(/\s+/)[0]);
}

async function stop(container: Container): Promise<number | null> {
  if (container.child.exitCode === null) process.kill(await pidOne(container), 'SIGTERM');
  return container.exited;
}

describe('warden serve in a container-like namespace (unshare, tini as PID 1, read-only root)', suiteOptions(), () => {
  const token = randomBytes(16).toString('hex');

  test('refuses to start when a service-account token is mounted, and says how to fix the manifest', async () => {
    const container = startContainer({ fakeToken: true, token });
    const code = await container.exited;
    assert.equal(code, 1, `exit code; stderr: ${container.stderr}`);
    assert.match(container.stderr, /refusing to start: a Kubernetes service-account token is mounted/);
    assert.match(container.stderr, /\/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token/);
    assert.match(container.stderr, /mount \/run\/secrets\/kubernetes\.io\/serviceaccount \(tmpfs kube-api-access-test\)/);
    assert.match(container.stderr, /automountServiceAccountToken: false/);
    assert.match(container.stderr, /--allow-service-account-token/);
    assert.doesNotMatch(container.stdout, /listening/);
  });

  test('warden doctor in the same namespace reports the token as a failure (exit 1)', async () => {
    const doctor = imageArgv().slice(0, -1).concat(['doctor', '--data', '/tmp/data']);
    const container = startContainer({ fakeToken: true, token, argv: doctor });
    assert.equal(await container.exited, 1, container.stderr);
    assert.match(container.stdout, /^FAIL\s+service-account-token\s+a Kubernetes service-account token is mounted .*automountServiceAccountToken: false/m);
    assert.match(container.stdout, /^OK\s+data-writable\s+\/tmp\/data is writable/m);
  });

  test('--allow-service-account-token starts anyway, with a warning in the log', async () => {
    const container = startContainer({ fakeToken: true, token, extraArgs: ['--allow-service-account-token'] });
    try {
      const url = await waitFor(() => /warden listening on (\S+)/.exec(container.stdout)?.[1] ?? (container.child.exitCode !== null ? Promise.reject(new Error(container.stderr)) : undefined), { timeoutMs: 20_000, what: 'serve to listen' });
      const warning = container.stdout.split('\n').find((line) => line.includes('WARDEN_ERR_RUNTIME_SERVICE_ACCOUNT_TOKEN'));
      assert.ok(warning, `a warning line in ${container.stdout}`);
      const entry = JSON.parse(warning) as { level: number; msg: string; evidence: string[] };
      assert.equal(entry.level, 40, 'pino warn');
      assert.match(entry.msg, /starting anyway/);
      assert.ok(entry.evidence.includes('/var/run/secrets/kubernetes.io/serviceaccount/token'));
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
    } finally {
      assert.equal(await stop(container), 0, container.stderr);
    }
  });

  test('runs on a read-only root: publishes to the data volume, and SIGTERM to PID 1 (tini) shuts it down cleanly', async () => {
    const container = startContainer({ fakeToken: false, token });
    let stopped = false;
    try {
      const url = await waitFor(() => /warden listening on (\S+)/.exec(container.stdout)?.[1] ?? (container.child.exitCode !== null ? Promise.reject(new Error(container.stderr)) : undefined), { timeoutMs: 20_000, what: 'serve to listen' });
      assert.doesNotMatch(container.stdout, /service-account/i);
      const put = await fetch(`${url}/v1/files/acme/tool/1.0.0`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: 'hello from a read-only root\n' });
      assert.equal(put.status, 201, await put.text());
      assert.equal(await (await fetch(`${url}/v1/files/acme/tool/1.0.0`)).text(), 'hello from a read-only root\n');
      const code = await stop(container);
      stopped = true;
      assert.equal(code, 0, `tini passes on node's exit code; stderr: ${container.stderr}`);
      assert.match(container.stdout, /"signal":"SIGTERM".*shutdown requested/);
    } finally {
      if (!stopped) await stop(container);
    }
  });
});
