import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTmpDir, waitFor } from '../../testing/index.js';
import { parseServeArgs } from './options.js';
import { startServer } from './start-server.js';

test('serve: --keep, --retention-interval and --scrub-rate (flags and WARDEN_* variables)', () => {
  const defaults = parseServeArgs([], {});
  assert.ok(defaults.kind === 'run');
  assert.equal(defaults.options.keep, undefined);
  assert.equal(defaults.options.retentionIntervalMs, 60_000);
  assert.equal(defaults.options.scrubBytesPerSecond, 8 * 1024 * 1024);
  assert.equal(defaults.options.scrubIntervalMs, 3_600_000);
  const set = parseServeArgs(['--keep', '3', '--scrub-rate', '1MiB'], { WARDEN_RETENTION_INTERVAL: '5', WARDEN_SCRUB_RATE: '0' });
  assert.ok(set.kind === 'run');
  assert.equal(set.options.keep, 3);
  assert.equal(set.options.retentionIntervalMs, 5000);
  assert.equal(set.options.scrubBytesPerSecond, 1024 * 1024, 'the flag wins');
  const off = parseServeArgs([], { WARDEN_SCRUB_RATE: '0' });
  assert.ok(off.kind === 'run' && off.options.scrubBytesPerSecond === 0);
  for (const argv of [['--keep', '0'], ['--scrub-rate', 'fast'], ['--retention-interval', '0']]) assert.equal(parseServeArgs(argv, {}).kind, 'error', argv.join(' '));
});

test('a single node applies --keep and scrubs everything it stores (it leads every partition)', { timeout: 60_000 }, async () => {
  await using tmp = await makeTmpDir();
  const token = 'jobs-test-token';
  const tokens = join(tmp.path, 'tokens.json');
  await writeFile(tokens, JSON.stringify({ tokens: [{ sha256: createHash('sha256').update(token).digest('hex'), owners: ['*'], scopes: ['write'] }] }));
  const parsed = parseServeArgs(['--data', join(tmp.path, 'data'), '--port', '0', '--host', '127.0.0.1', '--keep', '2', '--retention-interval', '1', '--scrub-interval', '1', '--tokens', tokens, '--log-level', 'silent', '--node-id', 'solo'], {});
  assert.ok(parsed.kind === 'run');
  const running = await startServer(parsed.options);
  try {
    const put = async (path: string, body: string): Promise<number> =>
      (await fetch(`${running.url}/v1/files/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body })).status;
    for (let i = 1; i <= 4; i++) {
      assert.equal(await put(`acme/app/v${i}`, `bytes ${i}`), 201);
      await new Promise((r) => setTimeout(r, 3));
    }
    const aliased = await fetch(`${running.url}/v1/files/acme/app/@stable`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ version: 'v1' }) });
    assert.equal(aliased.status, 201);
    const versions = async (): Promise<string[]> => ((await (await fetch(`${running.url}/v1/files/acme/app`)).json()) as { versions: Array<{ version: string }> }).versions.map((v) => v.version);
    await waitFor(async () => (await versions()).length === 3, { timeoutMs: 20_000, what: 'retention to trim acme/app' });
    assert.deepEqual(await versions(), ['v1', 'v3', 'v4'], 'v1 is aliased: kept');
    const path = join(running.store.root, 'acme', 'app', 'versions', 'v4');
    await chmod(path, 0o644);
    await writeFile(path, 'bytes X');
    await waitFor(async () => (await fetch(`${running.url}/v1/files/acme/app/v4`)).status === 404, { timeoutMs: 20_000, what: 'the scrub to quarantine v4' });
    // The version disappears (metadata moved) a moment before the job counts it.
    const metrics = (): Promise<string> => fetch(`${running.url}/metrics`).then((r) => r.text());
    await waitFor(async () => /^warden_quarantined_total 1$/m.test(await metrics()), { timeoutMs: 10_000, what: 'the quarantine counted' });
    const text = await metrics();
    assert.match(text, /^warden_scrub_mismatches_total\{reason="sha256"\} 1$/m);
    assert.match(text, /^warden_retention_deleted_total 1$/m);
  } finally {
    await running.close();
  }
});
