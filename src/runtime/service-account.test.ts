import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTmpDir } from '../testing/index.js';
import { assertNoServiceAccountToken, detectServiceAccountToken } from './service-account.js';
import { ServiceAccountTokenError } from './errors.js';

const ROOT_ONLY = '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n';
const PROJECTED =
  '1220 1200 0:70 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=4194304k\n';
const KUBE_API_ACCESS =
  '1221 1200 8:1 /var/lib/kubelet/pods/0b2c/volumes/kubernetes.io~projected/kube-api-access-8xk2p /mnt/creds ro,relatime - ext4 /dev/sda1 rw\n';

async function setUp(dir: string, mountinfo: string) {
  const roots = [join(dir, 'var-run-sa'), join(dir, 'run-sa')];
  const mountinfoPath = join(dir, 'mountinfo');
  await writeFile(mountinfoPath, mountinfo);
  return { secretRoots: roots, mountinfoPath };
}

test('finds nothing in a clean container, even with KUBERNETES_SERVICE_HOST set', async () => {
  await using dir = await makeTmpDir();
  const options = await setUp(dir.path, ROOT_ONLY);
  const saved = process.env.KUBERNETES_SERVICE_HOST;
  process.env.KUBERNETES_SERVICE_HOST = '10.0.0.1';
  try {
    assert.deepEqual(await detectServiceAccountToken(options), { found: false, evidence: [] });
  } finally {
    if (saved === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
    else process.env.KUBERNETES_SERVICE_HOST = saved;
  }
});

for (const file of ['token', 'ca.crt', 'namespace']) {
  test(`finds a mounted ${file} file under either secret root`, async () => {
    await using dir = await makeTmpDir();
    const options = await setUp(dir.path, ROOT_ONLY);
    const root = options.secretRoots[1]!;
    await mkdir(root, { recursive: true });
    await writeFile(join(root, file), 'x');
    const detection = await detectServiceAccountToken(options);
    assert.equal(detection.found, true);
    assert.deepEqual(detection.evidence, [join(root, file)]);
  });
}

test('finds serviceaccount and kube-api-access entries in mountinfo, without any file', async () => {
  await using dir = await makeTmpDir();
  const options = await setUp(dir.path, ROOT_ONLY + PROJECTED + KUBE_API_ACCESS);
  const detection = await detectServiceAccountToken(options);
  assert.equal(detection.found, true);
  assert.equal(detection.evidence.length, 2);
  assert.match(detection.evidence[0]!, /mount \/var\/run\/secrets\/kubernetes\.io\/serviceaccount \(tmpfs/);
  assert.match(detection.evidence[1]!, /kube-api-access-8xk2p/);
});

test('a missing mountinfo file is not a finding', async () => {
  await using dir = await makeTmpDir();
  const detection = await detectServiceAccountToken({ secretRoots: [join(dir.path, 'none')], mountinfoPath: join(dir.path, 'absent') });
  assert.equal(detection.found, false);
});

test('assertNoServiceAccountToken refuses with the manifest fix, unless allowed', async () => {
  await using dir = await makeTmpDir();
  const options = await setUp(dir.path, ROOT_ONLY + PROJECTED);
  await assert.rejects(assertNoServiceAccountToken(options), (error: unknown) => {
    assert.ok(error instanceof ServiceAccountTokenError);
    assert.equal(error.code, 'WARDEN_ERR_RUNTIME_SERVICE_ACCOUNT_TOKEN');
    assert.match(error.message, /automountServiceAccountToken: false/);
    assert.match(error.message, /--allow-service-account-token/);
    return true;
  });
  const allowed = await assertNoServiceAccountToken({ ...options, allow: true });
  assert.equal(allowed.found, true);
});

test('an already-aborted signal rejects with its reason', async () => {
  const reason = new Error('stop');
  await assert.rejects(detectServiceAccountToken({ signal: AbortSignal.abort(reason) }), (error) => error === reason);
});

test('a malformed mountinfo line still counts when it names a service-account mount', async () => {
  await using dir = await makeTmpDir();
  const options = await setUp(dir.path, ROOT_ONLY + 'garbage /var/run/secrets/kubernetes.io/serviceaccount\nmore garbage\n');
  const detection = await detectServiceAccountToken(options);
  assert.deepEqual(detection.evidence, ['mountinfo line "garbage /var/run/secrets/kubernetes.io/serviceaccount"']);
});
