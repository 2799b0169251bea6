import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createMemoryBackend } from './memory-backend.js';
import { Election, type Leadership } from './election.js';
import { Session } from './session.js';

test('over 100 forced failovers, tokens strictly increase and a deposed leader never writes again (R3)', async () => {
  const backend = createMemoryBackend();
  const data = '/model/data';
  let previous: Leadership | undefined;
  const waiting: Promise<Leadership>[] = [];
  const sessions: Session[] = [];
  const spawn = async (): Promise<void> => {
    const s = await Session.create(backend, { ttlMs: 10_000 });
    sessions.push(s);
    const campaign = new Election(s, 'model').campaign(s.leaseId);
    campaign.catch(() => undefined); // candidates still waiting when the test ends are closed
    waiting.push(campaign);
  };
  for (let i = 0; i < 3; i++) await spawn();
  try {
  for (let round = 0; round < 100; round++) {
    const leader = await Promise.race(waiting.map((p, i) => p.then((l) => ({ l, i }), () => new Promise<never>(() => undefined))));
    waiting.splice(leader.i, 1);
    const l = leader.l;
    if (previous) {
      assert.ok(BigInt(l.fencingToken) > BigInt(previous.fencingToken));
      const stale = await backend.txn({ compare: [previous.guard()], success: [{ type: 'put', key: data, value: `stale ${previous.fencingToken}` }] });
      assert.equal(stale.succeeded, false);
      assert.equal(previous.isHeld(), false);
    }
    const ok = await backend.txn({ compare: [l.guard()], success: [{ type: 'put', key: data, value: l.fencingToken }] });
    assert.equal(ok.succeeded, true);
    // Alternate crash (lease expiry) and graceful resignation.
    const session = sessions.find((s) => BigInt(s.leaseId).toString(16) === l.key.slice(l.key.lastIndexOf('/') + 1))!;
    if (round % 2 === 0) backend.expireLease(session.leaseId);
    else await l.resign();
    previous = l;
    await spawn();
  }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await backend.close();
  }
});

test('model: under any interleaving of campaigns, resignations and lease expiries, at most one candidate holds and tokens only rise', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('campaign', 'resign', 'expire'), fc.nat(3)), { minLength: 5, maxLength: 40 }), async (steps) => {
      const backend = createMemoryBackend();
      const sessions: (Session | undefined)[] = [];
      const holds: (Leadership | undefined)[] = [];
      const pending: (Promise<unknown> | undefined)[] = [];
      let highest = 0n;
      const settle = async (): Promise<void> => {
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      };
      try {
      for (const [op, who] of steps) {
        if (op === 'campaign' && pending[who] === undefined && holds[who] === undefined) {
          const s = sessions[who]?.isLive() === true ? sessions[who]! : await Session.create(backend, { ttlMs: 10_000 });
          sessions[who] = s;
          pending[who] = new Election(s, 'prop').campaign(String(who)).then(
            (l) => {
              holds[who] = l;
              pending[who] = undefined;
            },
            () => (pending[who] = undefined),
          );
        } else if (op === 'resign' && holds[who] !== undefined) {
          await holds[who]!.resign();
          holds[who] = undefined;
        } else if (op === 'expire' && sessions[who] !== undefined) {
          backend.expireLease(sessions[who]!.leaseId);
        }
        await settle();
        const held = holds.filter((h): h is Leadership => h?.isHeld() === true);
        assert.ok(held.length <= 1, `${held.length} candidates hold at once`);
        for (const h of held) {
          assert.ok(BigInt(h.fencingToken) >= highest);
          highest = BigInt(h.fencingToken);
        }
        for (let i = 0; i < holds.length; i++) if (holds[i] !== undefined && !holds[i]!.isHeld()) holds[i] = undefined;
      }
      } finally {
        await Promise.all(sessions.map((s) => s?.close()));
        await settle();
        await backend.close();
      }
    }),
    { numRuns: 60 },
  );
});
