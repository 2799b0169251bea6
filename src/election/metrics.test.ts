import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdSuiteOptions, startEtcd, waitFor } from '../testing/index.js';
import { ManualClock } from './clock.js';
import { Election } from './election.js';
import { createEtcdBackend } from './etcd-backend.js';
import { Lock } from './lock.js';
import { createMemoryBackend } from './memory-backend.js';
import type { ElectionMetrics } from './metrics.js';
import { PartitionSet } from './partition-set.js';
import { Session } from './session.js';

/** A prom-client-like recorder: gauges, counters and observations keyed by name and labels. */
function recorder(): { metrics: ElectionMetrics; gauges: Map<string, number>; counters: Map<string, number>; observed: Map<string, number[]>; log: string[] } {
  const gauges = new Map<string, number>();
  const counters = new Map<string, number>();
  const observed = new Map<string, number[]>();
  const log: string[] = [];
  const inc = (k: string): void => void counters.set(k, (counters.get(k) ?? 0) + 1);
  const observe = (k: string, v: number): void => void observed.set(k, [...(observed.get(k) ?? []), v]);
  const metrics: ElectionMetrics = {
    elected(e) {
      gauges.set(`is_leader{${e.kind}=${e.name}}`, 1);
      inc('transitions_total');
      observe('campaign_wait_ms', e.campaignWaitMs);
      log.push(`elected ${e.kind} ${e.name} ${e.fencingToken}`);
    },
    leadershipEnded(e) {
      gauges.set(`is_leader{${e.kind}=${e.name}}`, 0);
      inc(`lost_total{${e.reason}}`);
      log.push(`ended ${e.kind} ${e.name} ${e.reason}`);
    },
    keepalive(e) {
      observe('keepalive_rtt_ms', e.rttMs);
      gauges.set('lease_deadline_remaining_ms', e.deadlineRemainingMs);
    },
    keepaliveFailed(e) {
      inc(`keepalive_failed_total{${e.code}}`);
    },
    sessionEnded(e) {
      log.push(`session ${e.reason}`);
    },
    partitionsOwned(e) {
      gauges.set(`partitions_owned{${e.memberId}}`, e.owned);
    },
  };
  return { metrics, gauges, counters, observed, log };
}

describe('metrics hooks and health (memory backend, manual clock)', () => {
  test('elect, wait, resign, black-hole, deadline: the expected events and values', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const a = recorder();
    const b = recorder();
    const sa = await Session.create(backend, { ttlMs: 3_000, clock, metrics: a.metrics });
    const sb = await Session.create(backend, { ttlMs: 3_000, clock, metrics: b.metrics });
    assert.equal(sa.healthCheck().healthy, true);
    assert.equal(sa.healthCheck().lastRttMs, undefined);

    const la = await new Election(sa, 'm').campaign('a');
    const waiting = new Election(sb, 'm').campaign('b');
    await clock.advance(1_500); // keepalives flow, B queues behind A
    assert.equal(a.gauges.get('is_leader{election=m}'), 1);
    assert.ok((a.observed.get('keepalive_rtt_ms') ?? []).length >= 1);
    assert.ok((a.gauges.get('lease_deadline_remaining_ms') ?? 0) > 0);
    assert.equal(sa.healthCheck().status, 'ok');
    assert.equal(typeof sa.healthCheck().lastRttMs, 'number');

    await la.resign();
    const lb = await waiting;
    assert.equal(a.gauges.get('is_leader{election=m}'), 0);
    assert.equal(a.counters.get('lost_total{resigned}'), 1);
    assert.equal(b.gauges.get('is_leader{election=m}'), 1);
    const waited = b.observed.get('campaign_wait_ms') ?? [];
    assert.equal(waited.length, 1);
    assert.ok((waited[0] as number) >= 1_500, `B waited ${String(waited[0])} ms behind A`);

    await sa.close();
    assert.equal(sa.healthCheck().status, 'ended');
    assert.deepEqual(a.log, ['elected election m ' + la.fencingToken, 'ended election m resigned', 'session closed']);

    // Black hole: keepalives fail, health degrades before the deadline ends the session.
    backend.setUnreachable(true);
    let stalledSeen = false;
    while (!sb.signal.aborted) {
      await clock.advance(50);
      const h = sb.healthCheck();
      if (h.status === 'keepalive-stalled') {
        stalledSeen = true;
        assert.equal(h.healthy, false);
        assert.ok(h.remainingMs > 0);
      }
    }
    assert.equal(stalledSeen, true, 'keepalive-stalled reported before the deadline');
    assert.equal(lb.signal.aborted, true);
    assert.deepEqual(sb.healthCheck().status, 'deadline');
    assert.equal(sb.healthCheck().healthy, false);
    assert.equal(b.counters.get('lost_total{lost}'), 1);
    assert.equal(b.gauges.get('is_leader{election=m}'), 0);
    assert.ok([...b.counters.keys()].some((k) => k.startsWith('keepalive_failed_total{')));
    assert.deepEqual(b.log.slice(-2), ['ended election m lost', 'session deadline']);
    backend.setUnreachable(false);
  });

  test('locks report kind lock; a throwing hook never breaks the library', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const r = recorder();
    const throwing: ElectionMetrics = {
      elected(e) {
        r.metrics.elected?.(e);
        throw new Error('hook bug');
      },
      leadershipEnded(e) {
        r.metrics.leadershipEnded?.(e);
        throw new Error('hook bug');
      },
      keepalive() {
        throw new Error('hook bug');
      },
    };
    const session = await Session.create(backend, { ttlMs: 3_000, clock, metrics: throwing });
    const lock = new Lock(session);
    const held = await lock.acquire('res');
    await clock.advance(2_000);
    assert.equal(session.isLive(), true);
    await held.release();
    const tried = await lock.tryAcquire('res');
    assert.ok(tried);
    await tried.release();
    assert.deepEqual(r.log, ['elected lock res ' + held.fencingToken, 'ended lock res resigned', 'elected lock res ' + tried.fencingToken, 'ended lock res resigned']);
    await session.close();
  });

  test('a PartitionSet reports how many partitions it owns', async () => {
    const backend = createMemoryBackend();
    const r = recorder();
    const session = await Session.create(backend, { ttlMs: 3_000, metrics: r.metrics });
    const set = new PartitionSet({ session, partitions: 8, prefix: '/t/metrics/', member: { id: 'solo', url: 'http://solo.test' }, settleMs: 0 });
    await set.start();
    await waitFor(() => r.gauges.get('partitions_owned{solo}') === 8, { what: '8 partitions owned', timeoutMs: 10_000 });
    await set.close();
    assert.equal(r.gauges.get('partitions_owned{solo}'), 0);
    await session.close();
  });

  test('worstCaseFailoverMs = granted TTL + election timeout + campaign latency; bad assumptions are rejected', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    assert.equal(session.grantedTtlMs, 3_000);
    assert.equal(session.worstCaseFailoverMs({ electionTimeoutMs: 1_000, campaignLatencyMs: 200 }), 4_200);
    assert.ok(session.worstCaseFailoverMs() >= 3_000 + 1_000 + 100);
    assert.throws(() => session.worstCaseFailoverMs({ electionTimeoutMs: -1 }), { code: 'WARDEN_ERR_SESSION_INVALID_OPTIONS' });
    await session.close();
  });
});

describe('worstCaseFailoverMs against real etcd', etcdSuiteOptions(), () => {
  test('a crashed leader (keepalives stop) is replaced within worstCaseFailoverMs()', async () => {
    await using etcd = await startEtcd();
    const backend = createEtcdBackend({ endpoints: etcd.endpoints });
    try {
      const leaderSession = await Session.create(backend, { ttlMs: 2_000 });
      const follower = await Session.create(backend, { ttlMs: 2_000 });
      await new Election(leaderSession, 'wcf').campaign('leader');
      const next = new Election(follower, 'wcf').campaign('next');
      await waitFor(async () => (await backend.get('/warden/election/wcf/', { prefix: true })).kvs.length === 2, { what: 'follower queued' });
      await waitFor(() => leaderSession.healthCheck().lastRttMs !== undefined, { what: 'a keepalive', timeoutMs: 5_000 });
      const bound = leaderSession.worstCaseFailoverMs();
      const crashedAt = performance.now();
      leaderSession.orphan(); // keepalives stop; the lease expires on etcd
      const leadership = await next;
      const took = performance.now() - crashedAt;
      assert.ok(took <= bound, `failover took ${Math.round(took)} ms, bound ${bound} ms`);
      await leadership.resign();
      await follower.close();
    } finally {
      await backend.close();
    }
  });
});
