/**
 * Fault tests against real etcd with candidate processes (fixtures/candidate.ts). Every
 * acting interval (candidate id, fencing token, first act, last act) of every election is
 * recorded, and the last test asserts that no two intervals of one election overlap.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { etcdSuiteOptions, startEtcd, startEtcdCluster, startTcpProxy, waitFor, type EtcdCluster, type EtcdMember } from '../testing/index.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/candidate.js', import.meta.url));
const TTL_MS = 2_000;

interface Event {
  event: string;
  id: string;
  token?: string;
  reason?: string;
  t: number;
}

const running = new Set<Candidate>();
/** election → events of every candidate in it. */
const history = new Map<string, Event[]>();

class Candidate {
  readonly events: Event[] = [];
  readonly child: ChildProcess;
  exited = false;

  constructor(
    readonly election: string,
    readonly id: string,
    endpoints: string[],
    readonly ttlMs = TTL_MS,
  ) {
    this.child = spawn(process.execPath, [FIXTURE, endpoints.join(','), election, id, String(ttlMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(this);
    let buffer = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const e = JSON.parse(line) as Event;
        this.events.push(e);
        const list = history.get(election) ?? [];
        list.push(e);
        history.set(election, list);
      }
    });
    this.child.on('exit', () => {
      this.exited = true;
      running.delete(this);
    });
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async waitEvent(pred: (e: Event) => boolean, what: string, timeoutMs = 15_000): Promise<Event> {
    return await waitFor(() => this.events.find(pred), { timeoutMs, what: `${this.id}: ${what}` });
  }

  leaderTokens(): string[] {
    return this.events.filter((e) => e.event === 'leader').map((e) => e.token!);
  }

  async exit(): Promise<void> {
    if (this.exited) return;
    await waitFor(() => this.exited, { timeoutMs: 10_000, what: `${this.id} exit` });
  }
}

/** Waits until `c` acted `n` times with `token` (so its interval is on record). */
async function waitActs(c: Candidate, token: string, n = 3): Promise<void> {
  await waitFor(() => c.events.filter((e) => e.event === 'act' && e.token === token).length >= n, { what: `${c.id} acts as #${token}` });
}

async function killAll(): Promise<void> {
  for (const c of running) {
    c.signal('SIGCONT');
    c.signal('SIGKILL');
  }
  await Promise.all([...running].map((c) => c.exit()));
}

function leaderEvent(candidates: Candidate[], after: number): { c: Candidate; e: Event } | undefined {
  for (const c of candidates) {
    const e = c.events.find((x) => x.event === 'leader' && x.t >= after);
    if (e) return { c, e };
  }
  return undefined;
}

async function currentLeader(candidates: Candidate[]): Promise<{ c: Candidate; token: string }> {
  return await waitFor(
    () => {
      for (const c of candidates) {
        const last = c.events.filter((e) => e.event === 'leader' || e.event === 'lost').at(-1);
        if (last?.event === 'leader' && c.events.at(-1)?.event === 'act') return { c, token: last.token! };
      }
      return undefined;
    },
    { what: 'a leader acting' },
  );
}

/** Returns the member that holds an open LeaseKeepAlive stream (from etcd's own metrics). */
async function memberWithKeepalive(members: readonly EtcdMember[]): Promise<EtcdMember | undefined> {
  for (const m of members) {
    const text = await (await fetch(`${m.clientUrl}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    const count = (metric: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(metric) && l.includes('grpc_method="LeaseKeepAlive"'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    if (count('grpc_server_started_total') - count('grpc_server_handled_total') > 0) return m;
  }
  return undefined;
}

describe('election under faults (candidate processes, real etcd)', etcdSuiteOptions(), () => {
  let etcd: EtcdCluster | undefined;
  after(async () => {
    await killAll();
    await etcd?.close();
  });

  test('kill -9 of the leader: another candidate leads within TTL (+ etcd notice), with a higher token', async (t) => {
    etcd = await startEtcd();
    const cs = ['a', 'b', 'c'].map((id) => new Candidate('kill9', id, etcd!.endpoints));
    const first = await currentLeader(cs);
    const killedAt = Date.now();
    first.c.signal('SIGKILL');
    const next = await waitFor(() => leaderEvent(cs.filter((c) => c !== first.c), killedAt), { what: 'failover', timeoutMs: 10_000 });
    assert.ok(BigInt(next.e.token!) > BigInt(first.token));
    // etcd checks expiry every 500 ms; 1 s of slack covers that and the watch round trip.
    t.diagnostic(`crash failover at TTL ${TTL_MS} ms: ${next.e.t - killedAt} ms`);
    assert.ok(next.e.t - killedAt <= TTL_MS + 1_000, `failover took ${next.e.t - killedAt} ms`);
    await waitActs(next.c, next.e.token!);
    await killAll();
  });

  test('SIGTERM of the leader: it resigns and the next candidate leads without waiting for the TTL', async (t) => {
    const cs = ['a', 'b', 'c'].map((id) => new Candidate('sigterm', id, etcd!.endpoints));
    const first = await currentLeader(cs);
    const stoppedAt = Date.now();
    first.c.signal('SIGTERM');
    const next = await waitFor(() => leaderEvent(cs.filter((c) => c !== first.c), stoppedAt), { what: 'handover' });
    await first.c.exit();
    assert.equal(first.c.child.exitCode, 0);
    t.diagnostic(`graceful handover (SIGTERM to next LEADER event): ${next.e.t - stoppedAt} ms`);
    assert.ok(next.e.t - stoppedAt < TTL_MS - 500, `handover took ${next.e.t - stoppedAt} ms: not a resignation`);
    await waitActs(next.c, next.e.token!);
    await killAll();
  });

  test('SIGSTOP of the leader past its TTL: after SIGCONT it never acts again in that term; the new leader has a higher token', async () => {
    const cs = ['a', 'b'].map((id) => new Candidate('sigstop', id, etcd!.endpoints));
    const first = await currentLeader(cs);
    const other = cs.find((c) => c !== first.c)!;
    const stoppedAt = Date.now();
    first.c.signal('SIGSTOP');
    const next = await other.waitEvent((e) => e.event === 'leader' && e.t >= stoppedAt, 'takes over', 10_000);
    assert.ok(BigInt(next.token!) > BigInt(first.token));
    await waitFor(() => Date.now() - stoppedAt > TTL_MS + 500, { what: 'pause longer than TTL' });
    const resumedAt = Date.now();
    first.c.signal('SIGCONT');
    await first.c.waitEvent((e) => e.event === 'lost' && e.token === first.token, 'notices the loss');
    // Give it time to misbehave: wait until the new leader acted a few more times.
    const acts = other.events.length;
    await waitFor(() => other.events.length > acts + 10, { what: 'new leader keeps acting' });
    const late = first.c.events.filter((e) => e.event === 'act' && e.token === first.token && e.t >= resumedAt);
    assert.deepEqual(late, [], 'the paused leader acted after resuming');
    await killAll();
  });

  test('black-holed link to etcd: the leader steps down before the other candidate is elected', async (t) => {
    const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: etcd!.members[0]!.clientPort } });
    try {
      const a = new Candidate('blackhole', 'a', [proxy.url]);
      const first = await currentLeader([a]);
      const b = new Candidate('blackhole', 'b', etcd!.endpoints);
      await b.waitEvent((e) => e.event === 'ready', 'ready');
      const cutAt = Date.now();
      proxy.blackhole();
      const lost = await a.waitEvent((e) => e.event === 'lost' && e.token === first.token, 'steps down', 10_000);
      const next = await b.waitEvent((e) => e.event === 'leader', 'elected', 10_000);
      t.diagnostic(`black hole: old leader stepped down at +${lost.t - cutAt} ms, new leader elected at +${next.t - cutAt} ms`);
      assert.ok(lost.t < next.t, `old leader stepped down at +${lost.t - cutAt} ms, new one elected at +${next.t - cutAt} ms`);
      assert.ok(lost.t - cutAt <= TTL_MS, `stepped down ${lost.t - cutAt} ms after the cut`);
      await waitActs(b, next.token!);
      proxy.restore();
    } finally {
      await killAll();
      await proxy.close();
    }
    await etcd?.close();
    etcd = undefined;
  });

  test('3-member cluster: losing the member the client talks to keeps leadership; losing quorum steps down by the deadline; recovery elects again', async (t) => {
    await using cluster = await startEtcdCluster(3);
    // The killed member may be etcd's raft leader: keepalives then fail until the other two
    // elect a new one (≈ 1–2 election timeouts of 1 s). A 5 s TTL rides that out; 2 s cannot.
    const ttlMs = 5_000;
    const a = new Candidate('cluster', 'a', cluster.endpoints, ttlMs);
    const first = await currentLeader([a]);
    const member = await waitFor(() => memberWithKeepalive(cluster.members), { what: 'member with the keepalive stream' });
    await member.kill();
    const actsBefore = a.events.length;
    const killedAt = Date.now();
    await waitFor(() => Date.now() - killedAt > 1.5 * ttlMs && a.events.length > actsBefore + 20, { what: 'a TTL and a half of acting', timeoutMs: 20_000 });
    assert.deepEqual(a.events.filter((e) => e.event === 'lost' || e.event === 'session-lost'), [], 'leadership survived the loss of one member');
    const second = cluster.members.find((m) => m !== member)!;
    const quorumLostAt = Date.now();
    await second.kill();
    const lost = await a.waitEvent((e) => e.event === 'lost' && e.token === first.token, 'steps down without quorum', 15_000);
    // The surviving member may still answer keepalives until it notices the lost quorum
    // (renewals bypass raft; up to about two election timeouts of 1 s), and each answer
    // legitimately moves the deadline: the bound is TTL after the last renewal it granted.
    t.diagnostic(`quorum lost: stepped down after ${lost.t - quorumLostAt} ms`);
    assert.ok(lost.t - quorumLostAt <= ttlMs + 2_000, `stepped down ${lost.t - quorumLostAt} ms after quorum loss`);
    await member.restart();
    await second.restart();
    const again = await a.waitEvent((e) => e.event === 'leader' && e.t > lost.t, 'leads again after recovery', 30_000);
    assert.ok(BigInt(again.token!) > BigInt(first.token));
    await waitActs(a, again.token!);
    await killAll();
  });

  test('no two acting intervals of one election ever overlapped (all tests above)', (t) => {
    let checked = 0;
    for (const [election, events] of history) {
      const intervals = new Map<string, { id: string; token: string; from: number; until: number }>();
      for (const e of events) {
        if (e.event !== 'act') continue;
        const k = `${e.id}/${e.token}`;
        const i = intervals.get(k);
        if (i) i.until = Math.max(i.until, e.t);
        else intervals.set(k, { id: e.id, token: e.token!, from: e.t, until: e.t });
      }
      const sorted = [...intervals.values()].sort((x, y) => x.from - y.from);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1]!;
        const cur = sorted[i]!;
        assert.ok(prev.until < cur.from, `${election}: ${prev.id}#${prev.token} acted until ${prev.until}, ${cur.id}#${cur.token} from ${cur.from}`);
        assert.ok(BigInt(cur.token) > BigInt(prev.token), `${election}: tokens must increase`);
        checked++;
      }
    }
    t.diagnostic(`${checked} handovers checked for overlap`);
    assert.ok(checked >= 5, `only ${checked} handovers recorded`);
  });
});
