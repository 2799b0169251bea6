import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTmpDir } from '../testing/index.js';
import { applyJsonPatch } from './json-patch.js';
import { renderKustomization } from './kustomize.js';
import { strategicMerge, type Json } from './strategic-merge.js';
import { DeployError } from './errors.js';

const pod: Json = {
  spec: {
    containers: [
      { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], args: ['p', 'q'] },
      { name: 'b', image: 'b:1' },
    ],
    terminationGracePeriodSeconds: 60,
  },
};

const code = (expected: string) => (error: unknown) => error instanceof DeployError && error.code === expected;

test('strategic merge: maps merge, null deletes, containers and env merge by name with patch elements first', () => {
  const merged = strategicMerge(pod, {
    spec: { terminationGracePeriodSeconds: null, containers: [{ name: 'a', env: [{ name: 'Z', value: '3' }, { name: 'X', value: '9' }], args: ['r'] }] },
  });
  assert.deepEqual(merged, {
    spec: {
      containers: [
        { name: 'a', image: 'a:1', env: [{ name: 'Z', value: '3' }, { name: 'X', value: '9' }, { name: 'Y', value: '2' }], args: ['r'] },
        { name: 'b', image: 'b:1' },
      ],
    },
  });
  assert.equal((pod as { spec: { terminationGracePeriodSeconds: number } }).spec.terminationGracePeriodSeconds, 60, 'input untouched');
});

test('strategic merge refuses what it does not implement instead of guessing', () => {
  assert.throws(() => strategicMerge(pod, { spec: { $patch: 'replace' } }), code('WARDEN_ERR_DEPLOY_UNSUPPORTED'));
  assert.throws(() => strategicMerge(pod, { spec: { tolerations: [{ key: 'k' }] } }), code('WARDEN_ERR_DEPLOY_UNSUPPORTED'));
});

test('JSON 6902: add (with -), replace, remove; a missing path throws', () => {
  const patched = applyJsonPatch(pod, [
    { op: 'add', path: '/spec/containers/0/args/-', value: 's' },
    { op: 'replace', path: '/spec/containers/1/image', value: 'b:2' },
    { op: 'remove', path: '/spec/terminationGracePeriodSeconds' },
  ]) as { spec: { containers: { args?: string[]; image: string }[] } };
  assert.deepEqual(patched.spec.containers[0]?.args, ['p', 'q', 's']);
  assert.equal(patched.spec.containers[1]?.image, 'b:2');
  assert.equal('terminationGracePeriodSeconds' in patched.spec, false);
  assert.throws(() => applyJsonPatch(pod, [{ op: 'remove', path: '/spec/nope' }]), code('WARDEN_ERR_DEPLOY_BAD_MANIFEST'));
  assert.throws(() => applyJsonPatch(pod, [{ op: 'move', path: '/spec' }]), code('WARDEN_ERR_DEPLOY_UNSUPPORTED'));
});

test('the renderer rejects unsupported kustomization fields and patches that match nothing', async () => {
  await using dir = await makeTmpDir();
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n';
  await writeFile(join(dir.path, 'cm.yaml'), cm);
  await writeFile(join(dir.path, 'kustomization.yaml'), 'resources: [cm.yaml]\ncommonLabels: {a: b}\n');
  await assert.rejects(renderKustomization(dir.path), code('WARDEN_ERR_DEPLOY_UNSUPPORTED'));
  await writeFile(join(dir.path, 'kustomization.yaml'), 'resources: [cm.yaml]\npatches:\n  - patch: |\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: other}\n');
  await assert.rejects(renderKustomization(dir.path), code('WARDEN_ERR_DEPLOY_BAD_MANIFEST'));
  await mkdir(join(dir.path, 'o'));
  await writeFile(
    join(dir.path, 'o', 'kustomization.yaml'),
    'namespace: n\nresources: [..]\npatches:\n  - target: {kind: ConfigMap, name: c}\n    patch: |\n      - {op: replace, path: /data/k, value: w}\n',
  );
  await writeFile(join(dir.path, 'kustomization.yaml'), 'resources: [cm.yaml]\n');
  assert.deepEqual(await renderKustomization(join(dir.path, 'o')), [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { k: 'w' } },
  ]);
});
