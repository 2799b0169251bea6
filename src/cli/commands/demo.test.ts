import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDemoArgs } from './demo.js';

test('demo argv: defaults, --ttl and --help', () => {
  assert.deepEqual(parseDemoArgs([]), { help: false, ttlMs: 2_000 });
  assert.deepEqual(parseDemoArgs(['--ttl', '3000']), { help: false, ttlMs: 3_000 });
  assert.equal(parseDemoArgs(['--help']).help, true);
  assert.throws(() => parseDemoArgs(['--bogus']));
});

test('warden demo runs a failover and a handover in memory and exits 0', async () => {
  const { spawnSync } = await import('node:child_process');
  const main = new URL('../main.js', import.meta.url);
  const r = spawnSync(process.execPath, [main.pathname, 'demo'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /failover: \w+ took over; token (\d+) -> (\d+)/);
  assert.match(r.stdout, /old token 2 is rejected|is rejected/);
  assert.match(r.stdout, /strictly increasing/);
});
