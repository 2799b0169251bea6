import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { realJobClock, type JobClock } from 'warden/store';
import { waitFor } from '../testing/index.js';
import { LeaderJobs } from './leader-jobs.js';
import { startTestServer } from './server-harness.js';

// A stand-in for partitionOf: the test decides which owner is in which partition.
const partitions: Record<string, number> = { acme: 1, other: 2 };
const partitionOf = (owner: string): number => partitions[owner] ?? 0;

async function put(url: string, token: string, path: string, bytes: string): Promise<number> {
  return (await fetch(`${url}/v1/files/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: bytes })).status;
}

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
}

test('a quarantined version answers 404 and counts as a scrub mismatch; only led partitions are scrubbed', async () => {
  await using srv = await startTestServer();
  assert.equal(await put(srv.url, srv.tokens.writer, 'acme/app/v1', 'precious bytes'), 201);
  assert.equal(await put(srv.url, srv.tokens.other, 'other/app/v1', 'precious bytes'), 201);
  assert.equal((await fetch(`${srv.url}/v1/files/acme/app/v1`)).status, 200, 'cached while good');
  for (const owner of ['acme', 'other']) {
    const path = join(srv.data, owner, 'app', 'versions', 'v1');
    await chmod(path, 0o644);
    await writeFile(path, 'PRECIOUS bytes');
  }
  const jobs = new LeaderJobs({ store: srv.store, partitionOf, log: pino({ level: 'silent' }), registry: srv.app.metrics.registry, startDelayMs: 0, scrubPauseMs: 50 });
  const lost = new AbortController();
  const leading = jobs.lead(1, lost.signal);
  try {
    await waitFor(async () => (await metric(srv.url, /^warden_scrub_mismatches_total\{reason="sha256"\} (\d+)/m)) === 1, { timeoutMs: 10_000, what: 'a scrub mismatch' });
    assert.equal(await metric(srv.url, /^warden_quarantined_total (\d+)/m), 1);
    const res = await fetch(`${srv.url}/v1/files/acme/app/v1`);
    assert.equal(res.status, 404, 'the cache was invalidated too');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'WARDEN_ERR_STORE_NOT_FOUND');
    assert.equal((await fetch(`${srv.url}/v1/files/other/app/v1`)).status, 200, 'partition 2 is not led here: not scrubbed');
    assert.ok((await metric(srv.url, /^warden_scrub_bytes_total (\d+)/m)) >= 14);
  } finally {
    lost.abort();
    await leading;
    await jobs.close();
  }
});

test('retention runs for led partitions and stops when the partition signal aborts', async () => {
  await using srv = await startTestServer();
  for (let i = 1; i <= 4; i++) {
    assert.equal(await put(srv.url, srv.tokens.writer, `acme/app/v${i}`, `acme ${i}`), 201);
    assert.equal(await put(srv.url, srv.tokens.other, `other/app/v${i}`, `other ${i}`), 201);
    await new Promise((r) => setTimeout(r, 3));
  }
  let pauses = 0;
  const clock: JobClock = { now: realJobClock.now, sleep: (ms, signal) => (pauses++, realJobClock.sleep(ms, signal)) };
  const jobs = new LeaderJobs({ store: srv.store, partitionOf, log: pino({ level: 'silent' }), registry: srv.app.metrics.registry, keep: 2, retentionIntervalMs: 20, scrubBytesPerSecond: 0, startDelayMs: 0, clock });
  const p1 = new AbortController();
  const leading = jobs.lead(1, p1.signal);
  assert.deepEqual(jobs.leading, [1]);
  await waitFor(async () => (await srv.store.listVersions('acme', 'app')).length === 2, { timeoutMs: 10_000, what: 'retention of acme' });
  assert.deepEqual((await srv.store.listVersions('acme', 'app')).map((m) => m.version), ['v3', 'v4']);
  assert.equal((await srv.store.listVersions('other', 'app')).length, 4, 'not led: untouched');
  p1.abort();
  await leading;
  assert.deepEqual(jobs.leading, []);
  assert.equal(await put(srv.url, srv.tokens.writer, 'acme/app/v5', 'acme 5'), 201);
  // Still not led: two more passes of the loop go by and nothing is deleted.
  const seen = pauses;
  await waitFor(() => pauses >= seen + 2, { timeoutMs: 10_000, what: 'two more retention passes' });
  assert.equal((await srv.store.listVersions('acme', 'app')).length, 3);
  assert.equal(await metric(srv.url, /^warden_retention_deleted_total (\d+)/m), 2);
  await jobs.close();
  await jobs.close();
  const after = new AbortController();
  await jobs.lead(1, after.signal); // after close: returns at once
});
