import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { makeTmpDir } from '../testing/index.js';
import { checkHardening, SERVE_ENV, workloads } from './hardening.js';
import { parseYamlDocuments, renderKustomization, type K8sObject } from './kustomize.js';
import { DEPLOY_DIR, OVERLAYS } from './paths.js';
import { typecheckObjects, validateSchemas } from './validate.js';

const overlayDir = (name: string) => join(DEPLOY_DIR, 'kubernetes', 'overlays', name);
const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke into rendered YAML
type Any = any;

function wardenEnv(objects: K8sObject[]): Map<string, string | undefined> {
  const warden = workloads(objects).find((w) => w.object.metadata.name === 'warden')!;
  return new Map((warden.spec.containers[0]!.env ?? []).map((v) => [v.name, v.value]));
}

/** The WARDEN_* variables `warden serve` reads, from its own --help (so the manifests follow the CLI). */
function serveEnv(): Set<string> {
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const help = spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  return new Set([...help.stdout.matchAll(/\[(WARDEN_[A-Z_]+)\]/g)].map((m) => m[1]!));
}

test('warden serve --help lists the variables the manifests set', () => {
  const known = serveEnv();
  for (const name of ['WARDEN_DATA', 'WARDEN_TOKENS', 'WARDEN_ETCD', 'WARDEN_NODE_ID', 'WARDEN_ADVERTISE', 'WARDEN_DRAIN_TIMEOUT']) {
    assert.ok(known.has(name), name);
    assert.ok(SERVE_ENV.has(name), name);
  }
});

for (const overlay of OVERLAYS) {
  describe(`overlay ${overlay}`, () => {
    test('renders, and every object validates against the Kubernetes schemas and types', async () => {
      const objects = await renderKustomization(overlayDir(overlay));
      assert.ok(objects.length > 5);
      assert.deepEqual(await validateSchemas(objects), []);
      assert.deepEqual(typecheckObjects(objects), []);
    });

    test('meets every hardening rule', async () => {
      assert.deepEqual(checkHardening(await renderKustomization(overlayDir(overlay)), { serveEnv: serveEnv() }), []);
    });
  });
}

test('multi-zone: 3 Warden nodes, a 3-member etcd behind a headless Service and a PDB, Azure Files RWX with mfsymlinks', async () => {
  const objects = await renderKustomization(overlayDir('multi-zone'));
  const warden = find(objects, 'StatefulSet', 'warden') as Any;
  assert.equal(warden.spec.replicas, 3);
  const etcd = find(objects, 'StatefulSet', 'etcd') as Any;
  assert.equal(etcd.spec.replicas, 3);
  const headless = find(objects, 'Service', etcd.spec.serviceName) as Any;
  assert.equal(headless.spec.clusterIP, 'None');
  assert.ok(objects.some((o: Any) => o.kind === 'PodDisruptionBudget' && o.spec.selector.matchLabels['app.kubernetes.io/name'] === 'etcd'));
  // Warden lists every member by its stable DNS name under the headless Service.
  const endpoints = wardenEnv(objects).get('WARDEN_ETCD')!.split(',');
  assert.deepEqual(endpoints, [0, 1, 2].map((i) => `http://etcd-${i}.${headless.metadata.name}:2379`));
  const pvc = find(objects, 'PersistentVolumeClaim', 'warden-data') as Any;
  assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);
  const sc = find(objects, 'StorageClass', pvc.spec.storageClassName) as Any;
  assert.equal(sc.provisioner, 'file.csi.azure.com');
  assert.ok(sc.mountOptions.includes('mfsymlinks'));
  assert.ok(sc.mountOptions.includes('uid=10001'), 'CIFS ignores fsGroup: the share must be owned by the pod user');
  assert.equal(find(objects, 'Secret', 'warden-tokens'), undefined, 'production tokens are not in git');
});

test('dev: one node, no etcd (in-process election), a dev tokens Secret in the documented format', async () => {
  const objects = await renderKustomization(overlayDir('dev'));
  assert.equal((find(objects, 'StatefulSet', 'warden') as Any).spec.replicas, 1);
  assert.equal(find(objects, 'StatefulSet', 'etcd'), undefined);
  assert.equal(wardenEnv(objects).has('WARDEN_ETCD'), false);
  const secret = find(objects, 'Secret', 'warden-tokens') as Any;
  const tokens = JSON.parse(secret.stringData['tokens.json']);
  assert.match(tokens.tokens[0].sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(tokens.tokens[0].scopes, ['read', 'write', 'admin']);
});

test('external-etcd: no in-cluster etcd; egress to etcd only through a bounded address range', async () => {
  const objects = await renderKustomization(overlayDir('external-etcd'));
  assert.equal(find(objects, 'StatefulSet', 'etcd'), undefined);
  assert.ok(wardenEnv(objects).get('WARDEN_ETCD')!.startsWith('http://'));
  const policy = find(objects, 'NetworkPolicy', 'warden-to-etcd') as Any;
  assert.ok(policy.spec.egress[0].to[0].ipBlock.cidr);
});

/** Each breaks one rule on a copy of the multi-zone rendering; the checks must notice. */
const BREAKAGES: { name: string; expect: RegExp; mutate: (objects: Any[]) => void }[] = [
  { name: 'pod spec mounts the token', expect: /automountServiceAccountToken/, mutate: (o) => (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.automountServiceAccountToken = true },
  { name: 'ServiceAccount mounts the token', expect: /ServiceAccount\/warden: must set automount/, mutate: (o) => delete (find(o, 'ServiceAccount', 'warden') as Any).automountServiceAccountToken },
  {
    name: 'a Role and RoleBinding',
    expect: /Role\/reader: no RBAC/,
    mutate: (o) =>
      o.push(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'warden' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader', namespace: 'warden' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'warden' }] },
      ),
  },
  { name: 'writable root file system', expect: /readOnlyRootFilesystem/, mutate: (o) => delete (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem },
  { name: 'privilege escalation', expect: /allowPrivilegeEscalation/, mutate: (o) => ((find(o, 'StatefulSet', 'etcd') as Any).spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true) },
  { name: 'an added capability', expect: /add no capabilities/, mutate: (o) => ((find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].securityContext.capabilities.add = ['NET_ADMIN']) },
  { name: 'a low uid', expect: /runAsUser must be set above 10000/, mutate: (o) => ((find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].securityContext.runAsUser = 1000) },
  { name: 'seccomp unconfined', expect: /seccompProfile/, mutate: (o) => { const s = (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec; s.securityContext.seccompProfile.type = 'Unconfined'; s.containers[0].securityContext.seccompProfile.type = 'Unconfined'; } },
  { name: 'no liveness probe', expect: /liveness/, mutate: (o) => delete (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].livenessProbe },
  { name: 'readiness on the wrong path', expect: /readiness probe must GET \/readyz/, mutate: (o) => ((find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].readinessProbe.httpGet.path = '/healthz') },
  { name: 'no zone spread', expect: /topology\.kubernetes\.io\/zone/, mutate: (o) => ((find(o, 'StatefulSet', 'etcd') as Any).spec.template.spec.topologySpreadConstraints = []) },
  { name: 'egress to the API server', expect: /egress to port 443/, mutate: (o) => (find(o, 'NetworkPolicy', 'warden') as Any).spec.egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }) },
  { name: 'egress anywhere', expect: /every egress rule must name/, mutate: (o) => (find(o, 'NetworkPolicy', 'warden-to-etcd') as Any).spec.egress.push({}) },
  { name: 'ingress on another port', expect: /ingress must be limited/, mutate: (o) => (find(o, 'NetworkPolicy', 'warden') as Any).spec.ingress.push({ ports: [{ port: 9229 }] }) },
  { name: 'no network policy', expect: /needs NetworkPolicies/, mutate: (o) => o.splice(o.indexOf(find(o, 'NetworkPolicy', 'etcd')), 1) },
  { name: 'an inline Azure Files volume', expect: /inline azureFile/, mutate: (o) => ((find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.volumes[0] = { name: 'data', azureFile: { secretName: 's', shareName: 'warden' } }) },
  { name: 'a projected token', expect: /projects a service-account token/, mutate: (o) => (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.volumes.push({ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }) },
  { name: 'an unpinned image', expect: /must be pinned/, mutate: (o) => ((find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].image = 'registry.example.com/warden:latest') },
  { name: 'the escape hatch set', expect: /must not set WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN/, mutate: (o) => (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].env.push({ name: 'WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN', value: '1' }) },
  { name: 'an env var used before it is defined', expect: /uses \$\(POD_NAME\) before/, mutate: (o) => (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].env.unshift({ name: 'WARDEN_NODE_ID', value: '$(POD_NAME)' }) },
  { name: 'a PDB allowing two down', expect: /maxUnavailable must be 1/, mutate: (o) => ((find(o, 'PodDisruptionBudget', 'warden') as Any).spec.maxUnavailable = 2) },
  { name: 'no memory limit', expect: /memory limit/, mutate: (o) => delete (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].resources.limits },
  { name: 'an object outside the namespace', expect: /Service\/warden: has no namespace/, mutate: (o) => delete (find(o, 'Service', 'warden') as Any).metadata.namespace },
  { name: 'a short grace period', expect: /terminationGracePeriodSeconds/, mutate: (o) => ((find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.terminationGracePeriodSeconds = 40) },
  { name: 'an unknown WARDEN_ variable', expect: /WARDEN_ETCD_ENDPOINTS is not a serve flag/, mutate: (o) => (find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].env.push({ name: 'WARDEN_ETCD_ENDPOINTS', value: 'x' }) },
  { name: 'a misspelt field', expect: /readOnlyRootFilesytem/, mutate: (o) => ((find(o, 'StatefulSet', 'warden') as Any).spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem = true) },
  { name: 'a wrongly typed field', expect: /replicas must be integer|not assignable to type 'number'/, mutate: (o) => ((find(o, 'StatefulSet', 'etcd') as Any).spec.replicas = '3') },
];

describe('a deliberately broken copy fails the checks', () => {
  let pristine: K8sObject[];
  test('the pristine rendering passes', async () => {
    pristine = await renderKustomization(overlayDir('multi-zone'));
    assert.deepEqual(checkHardening(pristine), []);
  });
  for (const breakage of BREAKAGES) {
    test(breakage.name, async () => {
      const objects = structuredClone(pristine) as Any[];
      breakage.mutate(objects);
      // Cheapest check first: the TypeScript pass costs about half a second.
      const problems = checkHardening(objects);
      if (!problems.some((p) => breakage.expect.test(p))) problems.push(...(await validateSchemas(objects)));
      if (!problems.some((p) => breakage.expect.test(p))) problems.push(...typecheckObjects(objects));
      assert.ok(problems.some((p) => breakage.expect.test(p)), `expected a problem matching ${breakage.expect}, got ${JSON.stringify(problems)}`);
    });
  }
});

test('a broken copy of the manifest files on disk fails too', async () => {
  await using dir = await makeTmpDir();
  await cp(join(DEPLOY_DIR, 'kubernetes'), dir.path, { recursive: true });
  const sa = join(dir.path, 'base', 'serviceaccount.yaml');
  await writeFile(sa, (await readFile(sa, 'utf8')).replace('automountServiceAccountToken: false', 'automountServiceAccountToken: true'));
  const sts = join(dir.path, 'base', 'statefulset.yaml');
  await writeFile(sts, (await readFile(sts, 'utf8')).replace('readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false'));
  const problems = checkHardening(await renderKustomization(join(dir.path, 'overlays', 'multi-zone')));
  assert.ok(problems.some((p) => /ServiceAccount\/warden: must set automountServiceAccountToken: false/.test(p)));
  assert.ok(problems.some((p) => /container warden: readOnlyRootFilesystem must be true/.test(p)));
});

function findKustomize(): { command: string; args: string[] } | undefined {
  for (const candidate of [{ command: 'kustomize', args: ['build'] }, { command: 'kubectl', args: ['kustomize'] }]) {
    const probe = spawnSync(candidate.command, [...candidate.args, '--help'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

const kustomize = findKustomize();
describe('the built-in renderer agrees with kustomize', { skip: kustomize === undefined ? 'neither kustomize nor kubectl is installed (the built-in renderer is then the only one)' : false }, () => {
  for (const overlay of OVERLAYS) {
    test(overlay, async () => {
      const result = spawnSync(kustomize!.command, [...kustomize!.args, overlayDir(overlay)], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      const theirs = new Map((parseYamlDocuments(result.stdout, overlay) as unknown as K8sObject[]).map((o) => [key(o), o]));
      const ours = new Map((await renderKustomization(overlayDir(overlay))).map((o) => [key(o), o]));
      assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
      for (const [id, object] of ours) assert.ok(isDeepStrictEqual(object, theirs.get(id)), `${id} differs from kustomize's`);
    });
  }
});
