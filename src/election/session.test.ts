import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './clock.js';
import { ElectionError, SessionEndedError } from './errors.js';
import { createMemoryBackend } from './memory-backend.js';
import { Session, resolveSessionOptions } from './session.js';
import { Election } from './election.js';

function reasonOf(session: Session): string {
  const r: unknown = session.signal.reason;
  assert.ok(r instanceof SessionEndedError, `expected SessionEndedError, got ${String(r)}`);
  return r.reason;
}

describe('session timing options', () => {
  test('defaults follow the TTL: keepalive ttl/3, margin max(500, ttl/10)', () => {
    assert.deepEqual({ ...resolveSessionOptions({ ttlMs: 10_000 }), clock: undefined }, {
      ttlMs: 10_000,
      keepaliveIntervalMs: 3_333,
      keepaliveTimeoutMs: 3_333,
      safetyMarginMs: 1_000,
      clock: undefined,
    });
    assert.equal(resolveSessionOptions({ ttlMs: 2_000 }).safetyMarginMs, 500);
  });

  test('out-of-range or inconsistent options are rejected with WARDEN_ERR_SESSION_INVALID_OPTIONS', async () => {
    const bad = [
      { ttlMs: 1_999 },
      { ttlMs: 2_500.5 },
      { ttlMs: 4_000_000 },
      { ttlMs: 9_000, keepaliveIntervalMs: 3_001 },
      { ttlMs: 9_000, keepaliveIntervalMs: 10 },
      { ttlMs: 9_000, safetyMarginMs: 50 },
      { ttlMs: 3_000, keepaliveIntervalMs: 1_000, keepaliveTimeoutMs: 1_500, safetyMarginMs: 500 },
      { ttlMs: Number.NaN },
    ];
    for (const options of bad) {
      assert.throws(() => resolveSessionOptions(options), (e: unknown) => e instanceof ElectionError && e.code === 'WARDEN_ERR_SESSION_INVALID_OPTIONS', JSON.stringify(options));
    }
    await assert.rejects(Session.create(createMemoryBackend(), { ttlMs: 1_000 }), (e: unknown) => e instanceof ElectionError && e.code === 'WARDEN_ERR_SESSION_INVALID_OPTIONS');
  });
});

describe('session deadline (memory backend, manual clock)', () => {
  test('keepalives renew the lease: the session outlives many TTLs', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    for (let i = 0; i < 40; i++) await clock.advance(250);
    assert.equal(session.isLive(), true);
    assert.ok(session.deadline() > clock.now());
    await session.close();
    assert.deepEqual(backend.leases(), []);
  });

  test('onDeadline reports each move of the deadline, until unsubscribed or the session ends', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    const seen: number[] = [];
    const unsubscribe = session.onDeadline((deadline) => {
      assert.equal(deadline, session.deadline(), 'the listener sees the new deadline in place');
      seen.push(deadline);
    });
    session.onDeadline(() => {
      throw new Error('a failing listener');
    });
    for (let i = 0; i < 12; i++) await clock.advance(250);
    assert.ok(seen.length >= 2, `moves seen: ${seen.length}`);
    assert.ok(seen.every((d, i) => i === 0 || d > seen[i - 1]!), 'the deadline only moves forward');
    assert.equal(session.isLive(), true, 'a throwing listener does not hurt the session');
    unsubscribe();
    const count = seen.length;
    for (let i = 0; i < 12; i++) await clock.advance(250);
    assert.equal(seen.length, count);
    await session.close();
  });

  test('with the store unreachable the signal aborts (deadline) strictly before the store expires the lease', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    const lastSend = clock.now();
    backend.setUnreachable(true);
    let abortedAt: number | undefined;
    session.signal.addEventListener('abort', () => (abortedAt = clock.now()));
    while (abortedAt === undefined) await clock.advance(10);
    assert.equal(reasonOf(session), 'deadline');
    assert.ok(abortedAt <= lastSend + 3_000 - session.safetyMarginMs + 10, `aborted at ${abortedAt}`);
    assert.deepEqual(backend.leases(), [session.leaseId], 'the lease still lives on the store when the session gives up');
    await clock.advance(3_000);
    assert.deepEqual(backend.leases(), []);
  });

  test('a pause longer than the margin ends the session with reason paused and check() throws', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    await clock.advance(100);
    clock.jump(session.safetyMarginMs + 200);
    assert.throws(() => session.check(), (e: unknown) => e instanceof SessionEndedError);
    await clock.advance(0);
    assert.equal(session.signal.aborted, true);
    await session.close();
  });

  test('after a pause beyond the deadline, check() fails synchronously before any timer runs', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    const leadership = await new Election(session, 'pause').campaign('me');
    clock.jump(5_000);
    assert.equal(leadership.isHeld(), false);
    assert.ok(['deadline', 'paused'].includes(reasonOf(session)));
    await session.close();
  });

  test('the store expiring the lease (hook) ends the session with reason expired and the leadership with lost or superseded', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    const leadership = await new Election(session, 'expire').campaign('me');
    backend.expireLease(session.leaseId);
    await clock.advance(1_000);
    assert.equal(leadership.signal.aborted, true);
    assert.equal(reasonOf(session), 'expired');
  });

  test('orphan() stops keepalives and leaves the lease to expire on the store', async () => {
    const clock = new ManualClock();
    const backend = createMemoryBackend({ clock });
    const session = await Session.create(backend, { ttlMs: 3_000, clock });
    session.orphan();
    assert.equal(reasonOf(session), 'orphaned');
    assert.deepEqual(backend.leases(), [session.leaseId]);
    await clock.advance(3_000);
    assert.deepEqual(backend.leases(), []);
  });
});

describe('session stall detection (real clock)', () => {
  test('blocking the event loop longer than the margin ends the session with reason paused', async () => {
    const backend = createMemoryBackend();
    const session = await Session.create(backend, { ttlMs: 4_000, safetyMarginMs: 300 });
    await new Promise((r) => setTimeout(r, 50));
    const end = performance.now() + 900;
    while (performance.now() < end) {
      // Busy-wait: a stalled event loop, as a long GC or blocking call would cause.
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(session.signal.aborted, true);
    assert.equal(reasonOf(session), 'paused');
    await session.close();
    await backend.close();
  });
});
