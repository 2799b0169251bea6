import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageCommand, lintDockerfile, stages, parseDockerfile } from './dockerfile.js';
import { renderKustomization } from './kustomize.js';
import { workloads } from './hardening.js';
import { DEPLOY_DIR } from './paths.js';

const dockerfile = await readFile(join(DEPLOY_DIR, 'Dockerfile'), 'utf8');

async function manifestExpectations() {
  const objects = await renderKustomization(join(DEPLOY_DIR, 'kubernetes', 'overlays', 'multi-zone'));
  const warden = workloads(objects).find((w) => w.object.metadata.name === 'warden')!;
  const sc = warden.spec.securityContext!;
  return { uid: sc.runAsUser!, gid: sc.runAsGroup!, port: warden.spec.containers[0]!.ports![0]!.containerPort };
}

test('deploy/Dockerfile passes the lint, and agrees with the manifests on uid, gid and port', async () => {
  assert.deepEqual(lintDockerfile(dockerfile, await manifestExpectations()), []);
  assert.deepEqual(
    stages(parseDockerfile(dockerfile)).map((s) => s.name),
    ['build', 'deps', 'runtime'],
  );
  assert.deepEqual(imageCommand(dockerfile), ['/usr/bin/tini', '-g', '--', 'node', '/app/dist/cli/main.js', 'serve']);
});

const BREAKAGES: [string, (text: string) => string, RegExp][] = [
  ['an unpinned base', (t) => t.replace('ARG NODE_IMAGE=node:20.20.2-bookworm-slim\n', 'ARG NODE_IMAGE=node:20-slim\n'), /pin the base image/],
  ['a latest base', (t) => t.replace('ARG NODE_IMAGE=node:20.20.2-bookworm-slim\n', 'ARG NODE_IMAGE=node:latest\n'), /pin the base image/],
  ['running as root', (t) => t.replace('USER 10001:10001', 'USER root'), /numeric/],
  ['a low uid', (t) => t.replace('USER 10001:10001', 'USER 1000:1000'), /above 10000/],
  ['a HEALTHCHECK', (t) => t.replace('EXPOSE 8080', 'EXPOSE 8080\nHEALTHCHECK CMD node -e 1'), /no HEALTHCHECK/],
  ['a shell-form ENTRYPOINT', (t) => t.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT node /app/dist/cli/main.js'), /exec form/],
  ['node as PID 1 without init', (t) => t.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["node", "/app/dist/cli/main.js"]'), /PID 1 must be an init/],
  ['dev dependencies in the image', (t) => t.replace('npm ci --omit=dev', 'npm ci'), /--omit=dev/],
  ['a single stage', (t) => t.slice(t.indexOf('FROM ${NODE_IMAGE} AS runtime')).replace('COPY --from=deps /app/node_modules ./node_modules', '').replace('COPY --from=build /src/dist ./dist', ''), /multi-stage/],
  ['an unpinned apt package', (t) => t.replace('"tini=${TINI_VERSION}"', 'tini'), /pin apt package tini/],
  ['ADD instead of COPY', (t) => t.replace('COPY package.json ./\nCOPY --from', 'ADD package.json ./\nCOPY --from'), /use COPY/],
];

for (const [name, mutate, expected] of BREAKAGES) {
  test(`the lint catches ${name}`, async () => {
    const broken = mutate(dockerfile);
    assert.notEqual(broken, dockerfile, 'the mutation applied');
    const problems = lintDockerfile(broken, await manifestExpectations());
    assert.ok(problems.some((p) => expected.test(p)), `expected ${expected}, got ${JSON.stringify(problems)}`);
  });
}

test('the parser joins continuation lines and skips comments inside them', () => {
  const parsed = parseDockerfile('FROM a:1.2.3 AS x\n# c\nRUN one \\\n  # inner\n  && two\nUSER 1:1\n');
  assert.deepEqual(parsed.map((i) => [i.keyword, i.args, i.line]), [
    ['FROM', 'a:1.2.3 AS x', 1],
    ['RUN', 'one    && two', 3],
    ['USER', '1:1', 6],
  ]);
});
