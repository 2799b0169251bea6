import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { makeTmpDir } from '../../testing/index.js';
import { parseServeArgs } from './options.js';
import { runStartupChecks, StartupError } from './start-server.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

function options(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseServeArgs(['--tokens', '/dev/null', ...argv], env);
  assert.equal(parsed.kind, 'run');
  return (parsed as Extract<typeof parsed, { kind: 'run' }>).options;
}

test('start-up refuses a mounted service-account token (injected secret root), unless allowed by flag or env', async () => {
  await using dir = await makeTmpDir();
  const root = join(dir.path, 'serviceaccount');
  await mkdir(root);
  await writeFile(join(root, 'token'), 'fake');
  const detect = { secretRoots: [root], mountinfoPath: join(dir.path, 'no-mountinfo') };

  const refused = capture();
  await assert.rejects(runStartupChecks(options([]), refused.log, detect), (error: unknown) => {
    assert.ok(error instanceof StartupError);
    assert.match(error.message, /refusing to start/);
    assert.match(error.message, /automountServiceAccountToken: false/);
    return true;
  });

  for (const allowed of [options(['--allow-service-account-token']), options([], { WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN: '1' })]) {
    const { log, lines } = capture();
    await runStartupChecks(allowed, log, detect);
    const warning = lines.find((line) => line['code'] === 'WARDEN_ERR_RUNTIME_SERVICE_ACCOUNT_TOKEN');
    assert.equal(warning?.['level'], 40);
    assert.deepEqual(warning?.['evidence'], [join(root, 'token')]);
  }
});

test('start-up is silent about service accounts when none is mounted', async () => {
  await using dir = await makeTmpDir();
  const { log, lines } = capture();
  await runStartupChecks(options([]), log, { secretRoots: [join(dir.path, 'none')], mountinfoPath: join(dir.path, 'none') });
  assert.equal(lines.some((line) => 'evidence' in line), false);
});
