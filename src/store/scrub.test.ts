import assert from 'node:assert/strict';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { makeTmpDir, waitFor } from '../testing/index.js';
import { StoreError } from './errors.js';
import { RateLimiter, type JobClock } from './rate-limiter.js';
import { scrubStore } from './scrub.js';
import { Store } from './store.js';

const body = (bytes: Buffer | string): Readable => Readable.from([Buffer.from(bytes)]);
const code = (e: unknown): string => (e instanceof StoreError ? e.code : String(e));

/** Simulated time: sleeping advances it at once, so rate tests take no wall time. */
class SimClock implements JobClock {
  t = 0;
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.t += ms;
  }
}

async function corrupt(store: Store, owner: string, name: string, version: string, bytes: string): Promise<void> {
  const path = join(store.root, owner, name, 'versions', version);
  await chmod(path, 0o644);
  await writeFile(path, bytes);
}

test('scrub finds flipped and truncated versions, quarantines them (404), leaves aliases in place', async () => {
  await using tmp = await makeTmpDir();
  const store = await Store.open({ root: tmp.path, nodeId: 'n1' });
  const changes: string[] = [];
  store.subscribe((c) => changes.push(`${c.kind}:${c.owner}/${c.name}/${c.key}`));
  await store.publish('acme', 'app', 'v1', body('good bytes one'));
  await store.publish('acme', 'app', 'v2', body('good bytes two'));
  await store.publish('acme', 'app', 'v3', body('good bytes three'));
  await store.publish('zed', 'x', 'v1', body('other owner'));
  await store.setAlias('acme', 'app', 'stable', 'v2');
  await corrupt(store, 'acme', 'app', 'v2', 'good bytes twO');
  await corrupt(store, 'acme', 'app', 'v3', 'short');
  const seen: string[] = [];
  const result = await scrubStore(store, { limiter: new RateLimiter(1e9), onMismatch: (m) => seen.push(`${m.version}:${m.reason}`) });
  assert.equal(result.versions, 4);
  assert.deepEqual(seen, ['v2:sha256', 'v3:size']);
  const [flipped, truncated] = result.mismatches;
  assert.ok(flipped?.quarantinedTo && truncated?.quarantinedTo);
  assert.notEqual(flipped.actualSha256, flipped.expectedSha256);
  // No longer served; the alias stays and answers "not found" until repaired.
  await assert.rejects(store.openVersion('acme', 'app', 'v2'), (e) => code(e) === 'WARDEN_ERR_STORE_NOT_FOUND');
  await assert.rejects(store.openVersion('acme', 'app', 'v3'), (e) => code(e) === 'WARDEN_ERR_STORE_NOT_FOUND');
  assert.equal(await store.resolveAlias('acme', 'app', 'stable'), 'v2');
  assert.deepEqual((await store.listVersions('acme', 'app')).map((m) => m.version), ['v1']);
  assert.ok(changes.includes('version:acme/app/v2'), 'caches hear about it');
  // The evidence is kept, with a report.
  assert.ok(flipped.quarantinedTo.startsWith(join(store.root, '.warden', 'quarantine', 'acme', 'app', 'v2.')));
  assert.deepEqual((await readdir(flipped.quarantinedTo)).sort(), ['report.json', 'v2', 'v2.json']);
  assert.equal(await readFile(join(flipped.quarantinedTo, 'v2'), 'utf8'), 'good bytes twO');
  const report = JSON.parse(await readFile(join(flipped.quarantinedTo, 'report.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(report.reason, 'sha256');
  assert.deepEqual(report.aliases, ['stable']);
  assert.equal(report.node, 'n1');
  // Repair: publishing the original bytes again brings the version (and its alias) back.
  assert.equal((await store.publish('acme', 'app', 'v2', body('good bytes two'))).status, 'created');
  const repaired = await store.openVersion('acme', 'app', await store.resolveAlias('acme', 'app', 'stable'));
  assert.equal((await repaired.handle.readFile()).toString(), 'good bytes two');
  await repaired.handle.close();
  const clean = await scrubStore(store, { limiter: new RateLimiter(1e9) });
  assert.deepEqual(clean.mismatches, []);
});

test('scrub never reads faster than its rate (bytes counted against an injected clock)', async () => {
  await using tmp = await makeTmpDir();
  const store = await Store.open({ root: tmp.path });
  const sizes = [300_000, 5, 70_000, 1, 200_000, 0, 131_072];
  for (const [i, size] of sizes.entries()) await store.publish('o', 'n', `v${i}`, body(Buffer.alloc(size, i)));
  const clock = new SimClock();
  const rate = 64 * 1024;
  const limiter = new RateLimiter(rate, { clock });
  const points: Array<{ t: number; bytes: number }> = [];
  let bytes = 0;
  const result = await scrubStore(store, {
    limiter,
    onVersion: (_o, _n, _v, n) => {
      bytes += n;
      points.push({ t: clock.now(), bytes });
    },
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.equal(result.bytes, total);
  assert.equal(points.length, sizes.length);
  for (const p of points) assert.ok(p.bytes <= (rate * p.t) / 1000 + limiter.burstBytes, `${p.bytes} bytes by ${p.t} ms exceeds the rate`);
  // And the limiter does not dawdle: the pass takes about total/rate (one ms rounding per wait).
  assert.ok(clock.now() <= ((total - limiter.burstBytes) / rate) * 1000 + 2 * sizes.length + 50, `took ${clock.now()} ms of simulated time`);
});

test('scrub stops promptly when its signal aborts mid-file', async () => {
  await using tmp = await makeTmpDir();
  const store = await Store.open({ root: tmp.path });
  await store.publish('o', 'n', 'big', body(Buffer.alloc(4 * 1024 * 1024, 1)));
  const stop = new AbortController();
  const reason = new Error('partition lost');
  // 64 KiB/s real time: the whole file would take a minute.
  const running = scrubStore(store, { limiter: new RateLimiter(64 * 1024, { burstBytes: 16 * 1024 }), signal: stop.signal });
  let settled = false;
  const outcome = running.then(
    () => 'resolved',
    (e: unknown) => (e === reason ? 'aborted' : `other: ${String(e)}`),
  );
  void outcome.then(() => (settled = true));
  setTimeout(() => stop.abort(reason), 100);
  await waitFor(() => settled, { timeoutMs: 2_000, what: 'scrub to stop after abort' });
  assert.equal(await outcome, 'aborted');
  const pre = new AbortController();
  pre.abort(reason);
  await assert.rejects(scrubStore(store, { signal: pre.signal }), (e) => e === reason);
});

test('quarantine is fenced and skips a version that changed since it was checked', async () => {
  await using tmp = await makeTmpDir();
  const lost = new AbortController();
  const store = await Store.open({ root: tmp.path, authority: { acquire: async () => ({ fencingToken: 'f', signal: lost.signal }) } });
  const { meta } = await store.publish('o', 'n', 'v', body('x'));
  assert.equal(await store.quarantineVersion('o', 'n', 'v', { expectSha256: 'f'.repeat(64) }), null);
  assert.equal(await store.quarantineVersion('o', 'n', 'missing', { expectSha256: meta.sha256 }), null);
  lost.abort();
  await assert.rejects(store.quarantineVersion('o', 'n', 'v', { expectSha256: meta.sha256 }), (e) => code(e) === 'WARDEN_ERR_STORE_NOT_WRITER');
  assert.equal((await store.readMeta('o', 'n', 'v')).sha256, meta.sha256, 'nothing moved');
  assert.deepEqual(await readdir(join(store.root, '.warden', 'quarantine', 'o', 'n')), [], 'no half quarantine left');
});
