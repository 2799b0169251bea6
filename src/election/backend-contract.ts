/**
 * The contract every Backend keeps, as node:test cases. `registerBackendContract` is called
 * by memory-backend.test.ts and etcd-backend.test.ts, so both backends run the same suite.
 * (Test-only module: not exported from index.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Backend, WatchEvent } from './backend.js';
import { Election, type LeaderInfo } from './election.js';
import { ElectionError, LeadershipEndedError } from './errors.js';
import { Lock } from './lock.js';
import { Session, type SessionOptions } from './session.js';

/** Provides the backend under test; called once per test. */
export type BackendFactory = () => Backend;

function unique(stem: string): string {
  return `${stem}-${randomUUID().slice(0, 8)}`;
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function assertCode(code: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ElectionError, `expected ElectionError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  };
}

/** Registers the contract tests for one backend. `sessionOptions` should use a short TTL (2–3 s). */
export function registerBackendContract(backend: BackendFactory, sessionOptions: SessionOptions = { ttlMs: 3_000 }): void {
  const sessions: Session[] = [];
  async function session(): Promise<Session> {
    const s = await Session.create(backend(), sessionOptions);
    sessions.push(s);
    return s;
  }
  async function closeAll(): Promise<void> {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
  }

  test('put/get keep create revision stable and bump mod revision and version', async () => {
    const b = backend();
    const key = `/contract/${unique('kv')}`;
    const r1 = await b.put(key, 'a');
    const r2 = await b.put(key, 'b');
    assert.ok(r2 > r1);
    const got = await b.get(key);
    assert.equal(got.kvs.length, 1);
    assert.deepEqual({ ...got.kvs[0], lease: undefined }, { key, value: 'b', createRevision: r1, modRevision: r2, version: 2n, lease: undefined });
    assert.ok(got.revision >= r2);
    const d = await b.delete(key);
    assert.equal(d.deleted, 1);
    assert.equal((await b.get(key)).kvs.length, 0);
  });

  test('get with prefix sorts by create revision, limits and filters by max create revision', async () => {
    const b = backend();
    const dir = `/contract/${unique('dir')}/`;
    const revs: bigint[] = [];
    for (const name of ['c', 'a', 'b']) revs.push(await b.put(dir + name, name));
    const asc = await b.get(dir, { prefix: true, sort: 'createAscending' });
    assert.deepEqual(asc.kvs.map((kv) => kv.value), ['c', 'a', 'b']);
    const desc = await b.get(dir, { prefix: true, sort: 'createDescending', limit: 1 });
    assert.deepEqual(desc.kvs.map((kv) => kv.value), ['b']);
    const older = await b.get(dir, { prefix: true, sort: 'createDescending', limit: 1, maxCreateRevision: revs[2]! - 1n });
    assert.deepEqual(older.kvs.map((kv) => kv.value), ['a']);
    const byKey = await b.get(dir, { prefix: true });
    assert.deepEqual(byKey.kvs.map((kv) => kv.value), ['a', 'b', 'c']);
    await b.delete(dir, { prefix: true });
  });

  test('txn applies success only when every comparison holds, failure otherwise', async () => {
    const b = backend();
    const key = `/contract/${unique('txn')}`;
    const create = { compare: [{ key, target: 'createRevision' as const, op: '=' as const, value: 0n }], success: [{ type: 'put' as const, key, value: 'one' }], failure: [{ type: 'get' as const, key }] };
    const first = await b.txn(create);
    assert.equal(first.succeeded, true);
    const second = await b.txn(create);
    assert.equal(second.succeeded, false);
    const got = second.results[0];
    assert.ok(got?.type === 'get');
    assert.equal(got.kvs[0]?.value, 'one');
    assert.equal(got.kvs[0]?.createRevision, first.revision);
    const stale = await b.txn({ compare: [{ key, target: 'value', op: '=', value: 'two' }], success: [{ type: 'delete', key }] });
    assert.equal(stale.succeeded, false);
    const missing = await b.txn({ compare: [{ key: key + '-missing', target: 'value', op: '=', value: '' }], success: [] });
    assert.equal(missing.succeeded, false, 'a value comparison on a missing key is false');
    await b.delete(key);
  });

  test('leases: keys die with the lease; keepalive on a gone lease answers 0; put on a gone lease is a coded error', async () => {
    const b = backend();
    const key = `/contract/${unique('lease')}`;
    const lease = await b.grantLease(2_000);
    assert.ok(lease.ttlMs >= 2_000);
    await b.put(key, 'x', { lease: lease.id });
    assert.equal((await b.get(key)).kvs[0]?.lease, lease.id);
    assert.ok((await b.keepAliveOnce(lease.id)) >= 2_000);
    await b.revokeLease(lease.id);
    assert.equal((await b.get(key)).kvs.length, 0);
    assert.equal(await b.keepAliveOnce(lease.id), 0);
    await b.revokeLease(lease.id);
    await assert.rejects(b.put(key, 'y', { lease: lease.id }), assertCode('WARDEN_ERR_BACKEND_LEASE_NOT_FOUND'));
  });

  test('a prefix watch from a past revision replays history in order, then live changes', async () => {
    const b = backend();
    const dir = `/contract/${unique('watch')}/`;
    const r1 = await b.put(dir + 'a', '1');
    await b.put(dir + 'b', '2');
    await b.delete(dir + 'a');
    const seen: WatchEvent[] = [];
    const w = b.watch(dir, { prefix: true, fromRevision: r1, onEvents: (e) => seen.push(...e), onError: (e) => assert.fail(e) });
    try {
      await waitUntil(() => seen.length >= 3, 'history');
      await b.put(dir + 'c', '3');
      await waitUntil(() => seen.length >= 4, 'live event');
      assert.deepEqual(seen.map((e) => `${e.type} ${e.kv.key.slice(dir.length)}`), ['put a', 'put b', 'delete a', 'put c']);
      const revs = seen.map((e) => e.kv.modRevision);
      assert.deepEqual(revs, [...revs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    } finally {
      w.close();
      await b.delete(dir, { prefix: true });
    }
  });

  test('many concurrent watches each see only their own key; a watch closed at once never fires; closing one leaves the others working', async () => {
    const b = backend();
    const dir = `/contract/${unique('many-watches')}/`;
    const n = 50;
    const seen = Array.from({ length: n }, () => [] as string[]);
    const watches = seen.map((events, i) =>
      b.watch(`${dir}${i}`, { onEvents: (e) => events.push(...e.map((x) => `${x.type} ${x.kv.value}`)), onError: (e) => assert.fail(e) }),
    );
    let firedAfterClose = false;
    b.watch(`${dir}0`, { onEvents: () => (firedAfterClose = true), onError: () => (firedAfterClose = true) }).close();
    try {
      // A write per key until each watch saw one: the watches are live by then.
      await waitUntil(async () => {
        await Promise.all(seen.map((events, i) => (events.length === 0 ? b.put(`${dir}${i}`, `warm ${i}`) : undefined)));
        return seen.every((events) => events.length > 0);
      }, 'every watch to be live');
      for (let i = 0; i < n; i += 2) watches[i]?.close();
      const before = seen.map((events) => events.length);
      await Promise.all(seen.map((_, i) => b.put(`${dir}${i}`, `v${i}`)));
      await waitUntil(() => seen.every((events, i) => i % 2 === 0 || events.length > (before[i] as number)), 'the open watches to see the writes');
      seen.forEach((events, i) => {
        for (const e of events) assert.ok(e.endsWith(` ${i}`) || e === `put v${i}`, `watch ${i} saw ${e}`);
        if (i % 2 === 0) assert.equal(events.length, before[i], `closed watch ${i} fired`);
      });
      assert.equal(firedAfterClose, false);
    } finally {
      for (const w of watches) w?.close();
      await b.delete(dir, { prefix: true });
    }
  });

  test('session: close revokes the lease and aborts the signal with reason closed', async () => {
    const s = await Session.create(backend(), sessionOptions);
    const key = `/contract/${unique('session')}`;
    await s.backend.put(key, 'v', { lease: s.leaseId });
    assert.ok(s.deadline() > performance.now() || s.clock !== undefined);
    await s.close();
    assert.equal(s.signal.aborted, true);
    assert.equal((s.signal.reason as { reason: string }).reason, 'closed');
    assert.equal((await s.backend.get(key)).kvs.length, 0);
    assert.throws(() => s.check(), assertCode('WARDEN_ERR_SESSION_CLOSED'));
    await s.close();
  });

  test('session: a lease revoked behind its back ends the session with reason expired', async (t) => {
    t.after(closeAll);
    const s = await session();
    await s.backend.revokeLease(s.leaseId);
    await waitUntil(() => s.signal.aborted, 'session end', s.ttlMs + 2_000);
    assert.equal((s.signal.reason as { reason: string }).reason, 'expired');
  });

  test('election: candidates are elected first come first served; tokens strictly increase; resign hands over', async (t) => {
    t.after(closeAll);
    const name = unique('fifo');
    const [a, b, c] = [await session(), await session(), await session()];
    const ea = new Election(a, name);
    const la = await ea.campaign('A');
    const pb = new Election(b, name).campaign('B');
    await waitUntil(async () => (await b.backend.get(ea.dir, { prefix: true })).kvs.length === 2, 'B queued');
    const pc = new Election(c, name).campaign('C');
    const leader = await ea.leader();
    assert.equal(leader?.value, 'A');
    assert.equal(leader?.fencingToken, la.fencingToken);
    assert.equal(leader?.id, BigInt(a.leaseId).toString(16));
    await la.resign();
    assert.equal(la.signal.aborted, true);
    assert.equal((la.signal.reason as LeadershipEndedError).reason, 'resigned');
    const lb = await pb;
    assert.ok(BigInt(lb.fencingToken) > BigInt(la.fencingToken));
    await lb.resign();
    const lc = await pc;
    assert.ok(BigInt(lc.fencingToken) > BigInt(lb.fencingToken));
    assert.equal((await ea.leader())?.value, 'C');
    await lc.resign();
    assert.equal(await ea.leader(), null);
  });

  test('election: handoverTo(B) makes B leader and never C, even with C queued before B', async (t) => {
    t.after(closeAll);
    const name = unique('handover');
    const [a, b, c] = [await session(), await session(), await session()];
    const ea = new Election(a, name);
    const la = await ea.campaign('A');
    const seen: string[] = [];
    const observing = new AbortController();
    const watching = (async () => {
      for await (const leader of ea.observe({ signal: observing.signal })) seen.push(leader?.value ?? 'none');
    })();
    const stopC = new AbortController();
    const pc = new Election(c, name).campaign('C', { signal: stopC.signal });
    pc.catch(() => undefined);
    await waitUntil(async () => (await a.backend.get(ea.dir, { prefix: true })).kvs.length === 2, 'C queued');
    const eb = new Election(b, name);
    const pb = eb.campaign('B');
    await waitUntil(async () => (await a.backend.get(ea.dir, { prefix: true })).kvs.length === 3, 'B queued');
    const idB = eb.key.slice(eb.dir.length);

    // C is next in line: the handover waits, A keeps leading, and it gives up at its timeout.
    await assert.rejects(la.handoverTo(idB, { timeoutMs: 300 }), assertCode('WARDEN_ERR_ELECTION_HANDOVER_FAILED'));
    assert.equal(la.isHeld(), true);
    assert.equal((await ea.leader())?.value, 'A');
    await assert.rejects(la.handoverTo(eb.key.slice(0, -1) + 'x/y'), assertCode('WARDEN_ERR_ELECTION_HANDOVER_FAILED'));

    // Once C leaves the queue, B is next: the waiting handover resigns to B.
    const handing = la.handoverTo(idB, { timeoutMs: 10_000 });
    assert.equal(la.isHeld(), true, 'still leading while C is next in line');
    stopC.abort(new Error('C leaves'));
    await handing;
    assert.equal(la.signal.aborted, true);
    assert.equal((la.signal.reason as LeadershipEndedError).reason, 'resigned');
    const lb = await pb;
    assert.ok(BigInt(lb.fencingToken) > BigInt(la.fencingToken));
    assert.equal((await ea.leader())?.value, 'B');
    await assert.rejects(pc);
    await waitUntil(() => seen.at(-1) === 'B', 'observer sees B');
    observing.abort();
    await watching;
    assert.ok(!seen.includes('C'), `C never led: ${seen.join(' → ')}`);
    // A plain resign after a handover is a no-op; handing over a lost leadership is NOT_LEADER.
    await la.resign();
    await assert.rejects(la.handoverTo(idB), (e: unknown) => e instanceof ElectionError);
    await lb.resign();
  });

  test('election: proclaim is guarded; a guarded write by a deposed leader fails', async (t) => {
    t.after(closeAll);
    const name = unique('guard');
    const [a, b] = [await session(), await session()];
    const ea = new Election(a, name);
    const la = await ea.campaign('A1');
    await la.proclaim('A2');
    assert.equal((await ea.leader())?.value, 'A2');
    const data = `/contract/${unique('data')}`;
    const ok = await a.backend.txn({ compare: [la.guard()], success: [{ type: 'put', key: data, value: 'by A' }] });
    assert.equal(ok.succeeded, true);
    const pb = new Election(b, name).campaign('B');
    await a.backend.revokeLease(a.leaseId);
    const lb = await pb;
    await waitUntil(() => la.signal.aborted, 'A notices');
    const stale = await b.backend.txn({ compare: [la.guard()], success: [{ type: 'put', key: data, value: 'stale A' }] });
    assert.equal(stale.succeeded, false);
    const fresh = await b.backend.txn({ compare: [lb.guard()], success: [{ type: 'put', key: data, value: 'by B' }] });
    assert.equal(fresh.succeeded, true);
    await assert.rejects(la.proclaim('A3'), (e: unknown) => e instanceof ElectionError);
    await lb.resign();
    await b.backend.delete(data);
  });

  test('election: a waiter whose key vanishes rejects at once with KEY_LOST, not when the leader leaves', async (t) => {
    t.after(closeAll);
    const name = unique('keylost');
    const [a, b] = [await session(), await session()];
    const la = await new Election(a, name).campaign('A');
    const eb = new Election(b, name);
    const pb = eb.campaign('B');
    await waitUntil(async () => (await b.backend.get(eb.dir, { prefix: true })).kvs.length === 2, 'B queued');
    await b.backend.delete(eb.key);
    await assert.rejects(pb, assertCode('WARDEN_ERR_ELECTION_KEY_LOST'));
    assert.equal(la.signal.aborted, false, 'the leader is untouched');
    assert.equal((await eb.leader())?.value, 'A');
    await la.resign();
  });

  test('election: a cancelled campaign removes its key and rejects with the signal reason', async (t) => {
    t.after(closeAll);
    const name = unique('cancel');
    const [a, b] = [await session(), await session()];
    const la = await new Election(a, name).campaign('A');
    const eb = new Election(b, name);
    const controller = new AbortController();
    const pb = eb.campaign('B', { signal: controller.signal });
    await waitUntil(async () => (await b.backend.get(eb.dir, { prefix: true })).kvs.length === 2, 'B queued');
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await assert.rejects(pb, (e) => e === reason);
    await waitUntil(async () => (await b.backend.get(eb.key)).kvs.length === 0, 'B key deleted');
    await assert.rejects(eb.campaign('B', { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    await la.resign();
  });

  test('election: a second campaign on the same session and name is rejected as BUSY; bad names are coded errors', async (t) => {
    t.after(closeAll);
    const a = await session();
    const name = unique('busy');
    const la = await new Election(a, name).campaign('A');
    await assert.rejects(new Election(a, name).campaign('again'), assertCode('WARDEN_ERR_ELECTION_BUSY'));
    for (const bad of ['', '../x', 'a/b', '.hidden', 'x'.repeat(200)]) {
      assert.throws(() => new Election(a, bad), assertCode('WARDEN_ERR_ELECTION_INVALID_NAME'));
    }
    assert.throws(() => new Election(a, 'ok', { prefix: 'no-slash' }), assertCode('WARDEN_ERR_ELECTION_INVALID_NAME'));
    await la.resign();
  });

  test('election: campaigning again right after resign() works (the old delete cannot hit the new key)', async (t) => {
    t.after(closeAll);
    const a = await session();
    const election = new Election(a, unique('again'));
    const first = await election.campaign('one');
    const resigning = first.resign();
    const second = await election.campaign('two');
    await resigning;
    assert.ok(BigInt(second.fencingToken) > BigInt(first.fencingToken));
    assert.equal(second.isHeld(), true);
    assert.equal((await election.leader())?.value, 'two');
    await second.resign();
  });

  test('election: observe reports the leader, null when nobody leads, and never goes backwards', async (t) => {
    t.after(closeAll);
    const name = unique('observe');
    const [a, b, o] = [await session(), await session(), await session()];
    const observer = new Election(o, name);
    const controller = new AbortController();
    const seen: (LeaderInfo | null)[] = [];
    const done = (async () => {
      for await (const info of observer.observe({ signal: controller.signal })) seen.push(info);
    })();
    await waitUntil(() => seen.length === 1, 'initial state');
    assert.equal(seen[0], null);
    const la = await new Election(a, name).campaign('A');
    const pb = new Election(b, name).campaign('B');
    await waitUntil(() => seen.at(-1)?.value === 'A', 'A observed');
    await la.proclaim('A+');
    await waitUntil(() => seen.at(-1)?.value === 'A+', 'proclamation observed');
    await la.resign();
    const lb = await pb;
    await waitUntil(() => seen.at(-1)?.value === 'B', 'B observed');
    await lb.resign();
    await waitUntil(() => seen.at(-1) === null, 'no leader observed');
    controller.abort();
    await done;
    const tokens = seen.filter((s): s is LeaderInfo => s !== null).map((s) => BigInt(s.fencingToken));
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! >= tokens[i - 1]!, 'tokens never go backwards');
    assert.deepEqual(seen.map((s) => s?.value ?? null), [null, 'A', 'A+', 'B', null]);
  });

  test('election: run() never overlaps terms, reports handler errors and keeps participating', async (t) => {
    t.after(closeAll);
    const name = unique('run');
    const [a, b] = [await session(), await session()];
    // Per runner: one runner never starts a term while its previous handler still runs.
    // (Across processes the old handler is told at once through its signal; fencing covers the rest.)
    const acting = new Map<string, number>();
    let maxActing = 0;
    const terms: string[] = [];
    const errors: unknown[] = [];
    const stop = new AbortController();
    const handler = (id: string, failFirst: boolean) => {
      let failed = !failFirst;
      return {
        value: id,
        retryDelayMs: 10,
        onError: (e: unknown) => errors.push(e),
        async onLeader(signal: AbortSignal) {
          acting.set(id, (acting.get(id) ?? 0) + 1);
          maxActing = Math.max(maxActing, acting.get(id)!);
          terms.push(id);
          try {
            if (!failed) {
              failed = true;
              throw new Error(`${id} fails its first term`);
            }
            // Ignore the signal for a while: the next term must still wait for us.
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => setTimeout(resolve, 30), { once: true }));
          } finally {
            acting.set(id, acting.get(id)! - 1);
          }
        },
      };
    };
    const ra = new Election(a, name).run(handler('A', true), { signal: stop.signal });
    await waitUntil(() => errors.length === 1, 'A fails its first term');
    const rb = new Election(b, name).run(handler('B', false), { signal: stop.signal });
    await waitUntil(() => terms.length >= 2, 'two terms');
    const current = await new Election(a, name).leader();
    assert.ok(current);
    // Take leadership away from whoever leads: its handler must finish before the next term.
    await (current.id === BigInt(a.leaseId).toString(16) ? a : b).backend.delete(current.key);
    await waitUntil(() => terms.length >= 3, 'third term');
    const again = await new Election(a, name).leader();
    assert.ok(again);
    await (again.id === BigInt(a.leaseId).toString(16) ? a : b).backend.delete(again.key);
    await waitUntil(() => terms.length >= 4, 'fourth term');
    stop.abort();
    await Promise.all([ra, rb]);
    assert.equal(maxActing, 1);
    assert.equal(errors.length, 1, errors.map(String).join("; "));
    assert.match(String(errors[0]), /A fails its first term/);
    assert.equal(await new Election(a, name).leader(), null, 'stopping resigns');
  });

  test('election: run() ends the term with reason lost and rejects with the session reason when the session is lost', async (t) => {
    t.after(closeAll);
    const a = await session();
    let endReason: unknown;
    let leading = false;
    const running = new Election(a, unique('runlost')).run({
      value: 'A',
      async onLeader(signal) {
        leading = true;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        endReason = signal.reason;
      },
    });
    await waitUntil(() => leading, 'A leads');
    await a.backend.revokeLease(a.leaseId);
    await assert.rejects(running, (e: unknown) => e instanceof ElectionError && (e.code === 'WARDEN_ERR_SESSION_EXPIRED' || e.code === 'WARDEN_ERR_SESSION_DEADLINE'));
    assert.ok(endReason instanceof LeadershipEndedError);
    assert.ok(['lost', 'superseded'].includes(endReason.reason));
  });

  test('lock: FIFO acquire, tryAcquire while held, release hands over, guard fails after release', async (t) => {
    t.after(closeAll);
    const name = unique('lock');
    const [a, b, c] = [await session(), await session(), await session()];
    const ha = await new Lock(a).acquire(name);
    assert.equal(await new Lock(c).tryAcquire(name), null);
    const pb = new Lock(b).acquire(name);
    const dir = ha.key.slice(0, ha.key.lastIndexOf('/') + 1);
    await waitUntil(async () => (await b.backend.get(dir, { prefix: true })).kvs.length === 2, 'B queued');
    assert.equal(await new Lock(c).tryAcquire(name), null);
    assert.equal((await c.backend.get(dir, { prefix: true })).kvs.length, 2, 'a failed tryAcquire leaves no key');
    await ha.release();
    assert.equal((ha.signal.reason as ElectionError).code, 'WARDEN_ERR_LOCK_LOST');
    const hb = await pb;
    assert.ok(BigInt(hb.fencingToken) > BigInt(ha.fencingToken));
    const stale = await a.backend.txn({ compare: [ha.guard()], success: [] });
    assert.equal(stale.succeeded, false);
    await hb.release();
    {
      await using hc = await new Lock(c).tryAcquire(name);
      assert.ok(hc);
      assert.equal(hc.isHeld(), true);
    }
    assert.equal((await c.backend.get(dir, { prefix: true })).kvs.length, 0, 'await using released the lock');
    await assert.rejects(new Lock(a).acquire('../etc'), assertCode('WARDEN_ERR_LOCK_INVALID_NAME'));
  });

  test('lock: losing the session aborts the hold signal', async (t) => {
    t.after(closeAll);
    const a = await session();
    const h = await new Lock(a).acquire(unique('lost'));
    await a.backend.revokeLease(a.leaseId);
    await waitUntil(() => h.signal.aborted, 'hold lost', a.ttlMs + 2_000);
    assert.ok(['lost', 'superseded'].includes((h.signal.reason as LeadershipEndedError).reason));
    assert.throws(() => h.check(), assertCode('WARDEN_ERR_LOCK_LOST'));
  });
}
