import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { etcdSuiteOptions, startEtcd, waitFor, type EtcdCluster } from '../testing/index.js';
import type { Backend } from './backend.js';
import type { Guard } from './hold.js';
import { createEtcdBackend } from './etcd-backend.js';
import { createMemoryBackend, type MemoryBackend } from './memory-backend.js';
import { assignPartitions } from './partition-assignment.js';
import { PartitionSet, type PartitionSetOptions } from './partition-set.js';
import { Session } from './session.js';

const P = 64;
const TTL_MS = 2_000;

/** One acting interval of one node for one partition. */
interface Interval {
  partition: number;
  node: string;
  token: bigint;
  start: number;
  end: number | undefined;
}

interface Node {
  id: string;
  session: Session;
  set: PartitionSet;
  /** Graceful leave: close the set, then the session. */
  leave(): Promise<void>;
  /** Crash: stop keepalives and acting at once, leave the keys to expire with the lease. */
  crash(): void;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Asserts that the acting intervals of every partition never overlap and tokens grow. */
export function assertNoOverlap(intervals: readonly Interval[]): void {
  const byPartition = new Map<number, Interval[]>();
  for (const i of intervals) byPartition.set(i.partition, [...(byPartition.get(i.partition) ?? []), i]);
  for (const [p, list] of byPartition) {
    list.sort((a, b) => a.start - b.start);
    for (let k = 1; k < list.length; k += 1) {
      const prev = list[k - 1] as Interval;
      const next = list[k] as Interval;
      assert.ok(prev.end !== undefined, `partition ${p}: ${prev.node} still acting when ${next.node} started`);
      assert.ok(prev.end <= next.start, `partition ${p}: ${prev.node} acted until ${prev.end}, ${next.node} from ${next.start}`);
      assert.ok(next.token > prev.token, `partition ${p}: token ${next.token} after ${prev.token}`);
    }
  }
}

function counts(sets: readonly PartitionSet[]): number[] {
  return sets.map((s) => s.leading().length).sort((a, b) => a - b);
}

/** Waits until every partition is led by one of `nodes`, balanced, and every node sees the same table. */
async function waitBalanced(nodes: readonly Node[], what: string, timeoutMs = 15_000): Promise<void> {
  const lo = Math.floor(P / nodes.length);
  const hi = Math.ceil(P / nodes.length);
  await waitFor(
    () => {
      const leading = nodes.map((n) => n.set.leading());
      if (leading.some((l) => l.length < lo || l.length > hi)) return false;
      if (leading.reduce((a, l) => a + l.length, 0) !== P) return false;
      // Every node's routing table agrees with who acts.
      for (const n of nodes) {
        for (const [k, other] of nodes.entries()) {
          for (const p of leading[k] ?? []) if (n.set.leaderOf(p)?.id !== other.id) return false;
        }
      }
      return true;
    },
    { timeoutMs, what: `${what}: balanced (${counts(nodes.map((n) => n.set)).join(',')})` },
  );
}

function suite(name: string, makeBackend: () => Promise<{ backend: () => Backend; cleanup(): Promise<void> }>, options: { skip?: string } = {}): void {
  describe(name, options, () => {
    let env: { backend: () => Backend; cleanup(): Promise<void> } | undefined;
    const intervals: Interval[] = [];
    const started: Node[] = [];

    const store = (): Backend => {
      assert.ok(env, 'backend set up');
      return env.backend();
    };

    before(async () => {
      env = await makeBackend();
    });
    after(async () => {
      for (const n of started) await n.leave().catch(() => undefined);
      await env?.cleanup();
    });

    async function startNode(id: string, extra: Partial<PartitionSetOptions> = {}, prefix = '/t/parts/'): Promise<Node> {
      const backend = store();
      const session = await Session.create(backend, { ttlMs: TTL_MS });
      const set = new PartitionSet({
        session,
        partitions: P,
        prefix,
        member: { id, url: `http://${id}.test:1` },
        drainTimeoutMs: 500,
        onPartitionLeader(partition, signal, leadership) {
          const interval: Interval = { partition, node: id, token: BigInt(leadership.fencingToken), start: now(), end: undefined };
          intervals.push(interval);
          signal.addEventListener('abort', () => (interval.end = now()), { once: true });
        },
        onError: (e) => { if (process.env['PART_DEBUG']) console.error(id, e); },
        ...extra,
      });
      await set.start();
      let left: Promise<void> | undefined;
      const node: Node = {
        id,
        session,
        set,
        leave: () =>
          (left ??= (async () => {
            await set.close();
            await session.close();
            if (backend !== store()) await backend.close();
          })()),
        crash() {
          session.orphan();
          left = Promise.resolve();
        },
      };
      started.push(node);
      return node;
    }

    it('balances 64 partitions over 3, then 4 members, moving only what the newcomer takes', async () => {
      const a = await startNode('node-a');
      const b = await startNode('node-b');
      const c = await startNode('node-c');
      await waitBalanced([a, b, c], 'three nodes');
      assert.deepEqual(counts([a.set, b.set, c.set]), [21, 21, 22]);
      const beforeJoin = a.set.table().partitions.map((r) => r.leader);

      const d = await startNode('node-d');
      await waitBalanced([a, b, c, d], 'four nodes');
      assert.deepEqual(counts([a.set, b.set, c.set, d.set]), [16, 16, 16, 16]);
      const afterJoin = a.set.table().partitions.map((r) => r.leader);
      const moved = afterJoin.filter((leader, p) => leader !== beforeJoin[p]);
      assert.equal(moved.length, 16, 'only the 16 partitions node-d leads moved');
      assert.ok(moved.every((leader) => leader === 'node-d'));
      // Every node routes identically, with URLs and tokens.
      const table = d.set.table();
      assert.deepEqual(b.set.table().partitions, table.partitions);
      assert.deepEqual(table.members.map((m) => m.id), ['node-a', 'node-b', 'node-c', 'node-d']);
      const row = table.partitions.find((r) => r.leader === 'node-d');
      assert.equal(row?.url, 'http://node-d.test:1');
      assert.equal(d.set.leadership(row?.partition ?? -1)?.fencingToken, row?.fencingToken);
    });

    it('hands a leaving member’s partitions over without waiting for its lease', async () => {
      const [a, b, c, d] = started as [Node, Node, Node, Node];
      const tLeave = performance.now();
      await d.leave();
      await waitBalanced([a, b, c], 'after node-d left', TTL_MS - 200);
      assert.ok(performance.now() - tLeave < TTL_MS, 'handover did not wait for the lease TTL');
      assert.deepEqual(counts([a.set, b.set, c.set]), [21, 21, 22]);
    });

    it('moves a crashed member’s partitions after its lease expires', async () => {
      const [a, b, c] = started as [Node, Node, Node];
      c.crash();
      assert.equal(c.set.leading().length, 0, 'a crashed node stops acting at once');
      await waitBalanced([a, b], 'after node-c crashed', TTL_MS + 5_000);
      assert.deepEqual(counts([a.set, b.set]), [32, 32]);
    });

    it('stays balanced with no orphaned keys after a member joins and leaves 10 times', async () => {
      const [a, b] = started as [Node, Node];
      for (let i = 0; i < 10; i += 1) {
        const flapper = await startNode('node-flap');
        // Leave at once on even rounds (mid-handover), after it got its share on odd ones.
        if (i % 2 === 1) await waitBalanced([a, b, flapper], `flap ${i}`);
        await flapper.leave();
        started.splice(started.indexOf(flapper), 1);
      }
      await waitBalanced([a, b], 'after flapping');
      const keys = (await store().get('/t/parts/', { prefix: true })).kvs;
      const members = keys.filter((kv) => kv.key.startsWith('/t/parts/members/')).map((kv) => kv.key);
      assert.deepEqual(members.sort(), ['/t/parts/members/node-a', '/t/parts/members/node-b']);
      const candidates = keys.filter((kv) => kv.key.startsWith('/t/parts/election/'));
      assert.equal(candidates.length, P, 'one key per partition: no queued or stale candidate left');
      const leases = new Set([a.session.leaseId, b.session.leaseId]);
      assert.ok(candidates.every((kv) => leases.has(kv.lease)));
    });

    it('never lets two members act for one partition at once, and tokens grow', () => {
      assert.ok(intervals.length > P * 2);
      assertNoOverlap(intervals);
    });

    it('follows the table with changes() and converges on the targets', async () => {
      const [a, b] = started as [Node, Node];
      const seen: string[] = [];
      const controller = new AbortController();
      const iterating = (async () => {
        for await (const table of a.set.changes({ signal: controller.signal })) {
          seen.push(table.members.map((m) => m.id).join(','));
          if (table.members.length === 3 && table.partitions.every((r) => r.leader !== null)) break;
        }
      })();
      const e = await startNode('node-e');
      await iterating;
      assert.equal(seen[0], 'node-a,node-b');
      assert.ok(seen.includes('node-a,node-b,node-e'));
      await waitBalanced([a, b, e], 'after node-e joined');
      assert.deepEqual(a.set.targets(), assignPartitions(['node-a', 'node-b', 'node-e'], P, a.set.table().partitions.map((r) => r.leader)));
      controller.abort(new Error('done'));
      await assert.rejects(async () => {
        for await (const _ of a.set.changes({ signal: controller.signal })) void _;
      }, /done/);
    });

    it('drains a handed-over partition before resigning, bounded by drainTimeoutMs', async () => {
      const drained: number[] = [];
      const x = await startNode('drain-x', {
        drainTimeoutMs: 300,
        async drain(partition, signal) {
          drained.push(partition);
          // Never finishes by itself: the bound must cut it.
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        },
      }, '/t/drain/');
      await waitFor(() => x.set.leading().length === P, { what: 'drain-x leads all' });
      const y = await startNode('drain-y', {}, '/t/drain/');
      await waitFor(() => y.set.leading().length === P / 2 && x.set.leading().length === P / 2, { what: 'split in two' });
      assert.equal(drained.length, P / 2);
      await x.leave();
      await y.leave();
    });

    it('fences a handed-over partition: the old leader’s guarded write fails, released hook runs', async () => {
      const released: number[] = [];
      const x = await startNode('fence-x', { onPartitionReleased: (p) => released.push(p) }, '/t/fence/');
      await waitFor(() => x.set.leading().length === P, { what: 'fence-x leads all' });
      const guards = new Map<number, Guard>();
      for (const p of x.set.leading()) {
        const leadership = x.set.leadership(p);
        assert.ok(leadership);
        guards.set(p, leadership.guard());
      }
      const guarded = (p: number, value: string) => {
        const guard = guards.get(p);
        assert.ok(guard);
        return store().txn({ compare: [guard], success: [{ type: 'put', key: `/t/fence-data/${p}`, value }] });
      };
      assert.ok((await guarded(0, 'x')).succeeded, 'a guarded write of the leader lands');
      const y = await startNode('fence-y', {}, '/t/fence/');
      await waitFor(() => y.set.leading().length === P / 2, { what: 'fence-y took its half' });
      const moved = y.set.leading();
      assert.deepEqual([...released].sort((a, b) => a - b), moved);
      for (const p of moved) {
        assert.equal((await guarded(p, 'stale')).succeeded, false, `partition ${p}: the old leader's guard no longer holds`);
        assert.ok(BigInt(y.set.leaderOf(p)?.fencingToken ?? '0') > (guards.get(p)?.value ?? 0n), `partition ${p}: token grew`);
      }
      await x.leave();
      await y.leave();
    });

    it('rejects bad options and calls after close with coded errors', async () => {
      const session = await Session.create(store(), { ttlMs: TTL_MS });
      try {
        const base = { session, partitions: 8, member: { id: 'ok', url: '' } };
        for (const bad of [{ partitions: 0 }, { partitions: 1.5 }, { member: { id: '../x', url: '' } }, { prefix: 'no-slash' }, { drainTimeoutMs: -1 }]) {
          assert.throws(() => new PartitionSet({ ...base, ...bad }), { code: 'WARDEN_ERR_PARTITION_INVALID_OPTIONS' });
        }
        const set = new PartitionSet({ ...base, prefix: '/t/closed/' });
        await set.start();
        await assert.rejects(set.start(), { code: 'WARDEN_ERR_PARTITION_STARTED' });
        await set.close();
        await set[Symbol.asyncDispose]();
        await assert.rejects(set.start(), { code: 'WARDEN_ERR_PARTITION_CLOSED' });
        assert.ok(set.signal.aborted);
        assert.equal((await store().get('/t/closed/', { prefix: true })).kvs.length, 0, 'close() deregisters and resigns');
      } finally {
        await session.close();
      }
    });
  });
}

suite('PartitionSet on the memory backend', async () => {
  const backend: MemoryBackend = createMemoryBackend();
  return { backend: () => backend, cleanup: () => backend.close() };
});

let etcd: EtcdCluster | undefined;
suite(
  'PartitionSet on etcd',
  async () => {
    etcd = await startEtcd();
    let shared: Backend;
    try {
      shared = createEtcdBackend({ endpoints: etcd.endpoints });
    } catch (error) {
      await etcd.close(); // never leave an etcd behind when set-up fails
      throw error;
    }
    return {
      // Each node gets its own client, as separate processes would.
      backend: () => shared,
      cleanup: async () => {
        await shared.close();
        await etcd?.close();
      },
    };
  },
  etcdSuiteOptions(),
);

describe('PartitionSet registration after a lost session', () => {
  it('joins under the same member id once the previous lease is gone, even when no watch event says so', async () => {
    const inner = createMemoryBackend();
    // Watches on this view of the store go quiet: they neither deliver events nor fail, like a
    // stream left stuck after the process was paused. Everything else is the store itself.
    const quiet = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'watch') return () => ({ close: () => undefined });
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Backend;
    const member = { id: 'rejoiner', url: 'http://127.0.0.1:1' };
    const old = await Session.create(inner, { ttlMs: TTL_MS });
    const first = new PartitionSet({ session: old, partitions: 4, member, settleMs: 0 });
    await first.start();
    // The previous incarnation stops renewing (lost session): its member key stays until the lease expires.
    old.orphan();
    await first.close();
    assert.ok(inner.leases().includes(old.leaseId), 'the old lease still holds the member key');
    const session = await Session.create(quiet, { ttlMs: TTL_MS });
    const second = new PartitionSet({ session, partitions: 4, member, settleMs: 0 });
    try {
      // Without a re-check this waits for a watch event that never comes (the guard only turns a hang into a failure).
      await second.start({ signal: AbortSignal.timeout(30_000) });
      const registered = await inner.get('/warden/partitions/members/rejoiner');
      assert.equal(registered.kvs[0]?.lease, session.leaseId, 'registered under the new lease');
      assert.ok(!inner.leases().includes(old.leaseId), 'only after the old lease was gone');
    } finally {
      await second.close();
      await session.close();
      await inner.close();
    }
  });
});

describe('PartitionSet after a stall inside its own loop', etcdSuiteOptions(), () => {
  it('closes at once when the session ends, however long the last reconcile was stretched (a SIGSTOP in the middle of it)', async () => {
    await using etcdServer = await startEtcd();
    const backend = createEtcdBackend({ endpoints: etcdServer.endpoints });
    const STALL_MS = 1_500;
    let stall = true;
    const join = async (id: string, stalls: boolean): Promise<{ session: Session; set: PartitionSet }> => {
      const session = await Session.create(backend, { ttlMs: TTL_MS });
      const set = new PartitionSet({
        session,
        partitions: 4,
        member: { id, url: 'http://127.0.0.1:1' },
        settleMs: 0,
        onError: () => undefined,
        onPartitionLeader: (_p, signal) =>
          new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => {
              // A handover aborts this signal inside the reconcile run: stall there once, as if stopped.
              if (stalls && stall) {
                stall = false;
                const until = performance.now() + STALL_MS;
                while (performance.now() < until);
              }
              resolve();
            }),
          ),
      });
      await set.start();
      return { session, set };
    };
    const a = await join('stalls', true);
    let b: { session: Session; set: PartitionSet } | undefined;
    try {
      await waitFor(() => a.set.leading().length === 4, { what: 'first member leads all' });
      b = await join('newcomer', false);
      // The stall outlasts the session's margin: the session ends ('paused') and the set with it;
      // close at once, as a cluster node tearing down a lost incarnation does.
      await new Promise<void>((resolve) => (a.set.signal.aborted ? resolve() : a.set.signal.addEventListener('abort', () => resolve(), { once: true })));
      // Before the fix the close waited for the next reconcile, spaced 3× the stretched run.
      const closed = await Promise.race([a.set.close().then(() => 'closed'), new Promise((r) => setTimeout(r, STALL_MS, 'still closing'))]);
      assert.equal(closed, 'closed');
    } finally {
      await a.set.close();
      await a.session.close();
      await b?.set.close();
      await b?.session.close();
      await backend.close();
    }
  });
});
