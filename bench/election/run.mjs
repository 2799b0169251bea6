#!/usr/bin/env node
// `npm run bench:election`: `warden elect run` side by side with `etcdctl elect`,
// `etcdctl lock --ttl` and the etcd3 npm package's Election, on ONE throwaway etcd, 3
// candidates each, same TTL wherever the peer lets us set it.
//
// Figures: cold-start election (spawn 3 → first LEADER report), graceful handover (SIGTERM
// of the leader → next LEADER report), crash failover (kill -9 of the leader's process → next
// LEADER report), lost-host failover (kill -9 of the leader's whole process tree at once: for
// warden the CLI, its watchdog and the command, so no local helper can release anything; for
// the peers the same as a crash), idle CPU per candidate (/proc/PID/stat, CLI + its watchdog), etcd requests per
// second per candidate (etcd's grpc_server_msg_received_total), RSS per candidate.
//
// Flags: --ttl S (default 2), --trials N (handover and crash trials, default 5), --cold N
// (default 3), --idle S (idle window, default 10), --warm S (wait after the first LEADER
// before the idle window, default 20: in the first 10–20 s a Node process still runs V8's
// memory-reducing collections and optimising compiles, 2–3× its steady idle CPU, for the Node
// peers alike), --settle S (pause before each trial, default 3), --etcdctl-elect-crash (also
// measure one crash failover of `etcdctl elect`, whose TTL is fixed at 60 s: adds a minute).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { startEtcd } = await import(`${root}dist/testing/index.js`);

const { values } = parseArgs({
  options: {
    ttl: { type: 'string', default: '2' },
    trials: { type: 'string', default: '5' },
    cold: { type: 'string', default: '3' },
    idle: { type: 'string', default: '10' },
    warm: { type: 'string', default: '20' },
    settle: { type: 'string', default: '3' },
    'etcdctl-elect-crash': { type: 'boolean', default: false },
  },
});
const TTL = Number(values.ttl);
const TRIALS = Number(values.trials);
const COLD = Number(values.cold);
const IDLE_S = Number(values.idle);
const WARM_S = Number(values.warm);
const SETTLE_MS = Number(values.settle) * 1000;
const CLK_TCK = 100;
const PAGE_KB = 4;

const etcd = await startEtcd();
const url = etcd.endpoints[0];

// Every DELETE in the store, timed where it is seen: splits a handover or failover into the
// store's part (signal → the leader's key deleted: resign, or lease expiry after a crash) and
// the successor's part (deletion seen → successor reports LEADER), the same way for all peers.
const { Etcd3 } = await import('etcd3');
const observer = new Etcd3({ hosts: url });
const deletes = [];
const deleteWatch = await observer.watch().prefix('').create();
deleteWatch.on('delete', (kv) => deletes.push({ at: performance.now(), key: kv.key.toString() }));
const live = new Set();
process.on('exit', () => {
  for (const proc of live) {
    try {
      proc.kill('SIGKILL');
    } catch {
      // gone
    }
  }
});

const hasEtcdctl = spawnSync('etcdctl', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasEtcdctl) process.stderr.write('etcdctl not found (Debian: apt-get install etcd-client): measuring without the etcdctl peers\n');

/** How to start one candidate of each system, and how it reports leadership. */
const allSystems = [
  {
    name: 'warden elect run',
    ttl: TTL,
    spawn: (election, id) =>
      spawn(process.execPath, [`${root}dist/cli/main.js`, 'elect', 'run', '--etcd', url, '--name', election, '--ttl', String(TTL), '--id', id, '--', 'sleep', '1000000'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    stream: 'stderr',
    isLeader: (line) => line.startsWith('LEADER '),
  },
  {
    name: 'etcd3 Election',
    ttl: TTL,
    spawn: (election, id) => spawn(process.execPath, [`${root}bench/election/etcd3-candidate.mjs`, url, election, String(TTL), id], { stdio: ['ignore', 'pipe', 'ignore'] }),
    stream: 'stdout',
    isLeader: (line) => line === 'LEADER',
  },
  {
    name: 'etcdctl lock --ttl',
    ttl: TTL,
    spawn: (election) => spawn('etcdctl', ['--endpoints', url, 'lock', '--ttl', String(TTL), election], { stdio: ['ignore', 'pipe', 'ignore'] }),
    stream: 'stdout',
    isLeader: () => true, // prints the lock key once acquired
  },
  {
    name: 'etcdctl elect',
    ttl: 60, // not settable in 3.4 (elect_command.go uses the session default)
    spawn: (election, id) => spawn('etcdctl', ['--endpoints', url, 'elect', election, id], { stdio: ['ignore', 'pipe', 'ignore'] }),
    stream: 'stdout',
    isLeader: () => true, // prints the leader key, then the proposal, once elected
  },
];
const systems = allSystems.filter((system) => hasEtcdctl || !system.name.startsWith('etcdctl'));

class Candidate {
  constructor(system, election, id) {
    this.id = id;
    this.proc = system.spawn(election, id);
    live.add(this.proc);
    this.leaderAt = undefined;
    this.waiters = [];
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.once('exit', () => live.delete(this.proc));
    createInterface({ input: this.proc[system.stream] }).on('line', (line) => {
      if (this.leaderAt === undefined && system.isLeader(line)) {
        this.leaderAt = performance.now();
        for (const resolve of this.waiters) resolve(this);
      }
    });
  }
  elected() {
    return this.leaderAt !== undefined ? Promise.resolve(this) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** PIDs of a process and all its descendants (the warden CLI's watchdog and child). */
function tree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function usage(pids) {
  let ticks = 0;
  let rssKb = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
      rssKb += Number(fields[21]) * PAGE_KB;
    } catch {
      // gone
    }
  }
  return { ticks, rssKb };
}

async function grpcMessages() {
  const text = await (await globalThis.fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('grpc_server_msg_received_total{')) total += Number(line.split(' ').at(-1));
  return total;
}

async function firstLeader(candidates, timeoutMs) {
  const timer = sleep(timeoutMs, undefined, { ref: false }).then(() => undefined);
  return Promise.race([...candidates.map((c) => c.elected()), timer]);
}

async function stop(candidates) {
  for (const c of candidates) c.proc.kill('SIGKILL');
  await Promise.all(candidates.map((c) => c.exited));
}

let electionNo = 0;
const results = new Map(systems.map((system) => [system.name, { cold: [], handover: [], handoverDelete: [], handoverAcquire: [], crash: [], crashDelete: [], crashAcquire: [], host: [], hostDelete: [], hostAcquire: [], cpuMsPerS: [], reqPerS: [], rssMb: [] }]));

// Cold start, round-robin over the systems so load on the host hits all of them alike.
// The first group of each system also gives the idle figures, measured with nothing else
// running against this etcd.
async function coldStart(system, withIdle) {
  const r = results.get(system.name);
  const election = `bench-${++electionNo}`;
  const t0 = performance.now();
  const group = ['c1', 'c2', 'c3'].map((id) => new Candidate(system, election, id));
  const leader = await firstLeader(group, 30_000);
  if (leader) r.cold.push(leader.leaderAt - t0);
  if (withIdle) {
    await sleep(WARM_S * 1000);
    const pids = group.flatMap((c) => tree(c.proc.pid));
    const before = usage(pids);
    const m0 = await grpcMessages();
    const s0 = performance.now();
    await sleep(IDLE_S * 1000);
    const seconds = (performance.now() - s0) / 1000;
    const afterUsage = usage(pids);
    const m1 = await grpcMessages();
    r.cpuMsPerS.push(((afterUsage.ticks - before.ticks) * 1000) / CLK_TCK / seconds / group.length);
    r.reqPerS.push((m1 - m0) / seconds / group.length);
    r.rssMb.push(afterUsage.rssKb / 1024 / group.length);
  }
  await stop(group);
}

/** A queue of candidates of one system in one election; each trial ends the leader. */
class Queue {
  constructor(system) {
    this.system = system;
    this.election = `bench-${++electionNo}`;
    this.n = 0;
    this.group = [];
  }
  async fill() {
    for (let i = 0; i < 3; i++) {
      this.group.push(new Candidate(this.system, this.election, `c${++this.n}`));
      await sleep(300); // a stable queue order
    }
    this.leader = await firstLeader(this.group, 30_000);
  }
  add() {
    if (this.leader) this.group.push(new Candidate(this.system, this.election, `c${++this.n}`));
  }
  async trial(kind, signal, wholeTree = false) {
    const leader = this.leader;
    if (!leader) return;
    const others = this.group.filter((c) => c !== leader && c.leaderAt === undefined);
    // etcd expires leases on a 500 ms tick, and a trial that follows another starts right after
    // one: a random offset keeps kill times from lining up with the ticks.
    await sleep(Math.random() * 1_000);
    // Descendants first, so no helper sees its parent die and acts on it.
    const pids = wholeTree ? tree(leader.proc.pid).reverse() : [];
    const t0 = performance.now();
    if (wholeTree) {
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // gone
        }
      }
    }
    else leader.proc.kill(signal);
    const next = await firstLeader(others, this.system.ttl * 1000 + 30_000);
    if (next) {
      const r = results.get(this.system.name);
      r[kind].push(next.leaderAt - t0);
      // The first deletion of one of this election's keys after the signal: the leader's key.
      const deleted = deletes.find((d) => d.at >= t0 && d.key.includes(`${this.election}/`));
      if (deleted) {
        r[`${kind}Delete`].push(deleted.at - t0);
        r[`${kind}Acquire`].push(next.leaderAt - deleted.at);
      }
    }
    this.group.splice(this.group.indexOf(leader), 1);
    await stop([leader]);
    this.leader = next;
  }
}

async function trials(kind, signal, count, systemsInPlay, wholeTree = false) {
  const queues = systemsInPlay.map((system) => new Queue(system));
  await Promise.all(queues.map((q) => q.fill()));
  for (let t = 0; t < count; t++) {
    for (const q of queues) q.add();
    // Newcomers queued and past their start-up (a Node process on a busy host needs a while),
    // so the trial measures the handover, not a neighbour's module loading.
    await sleep(SETTLE_MS);
    // One system at a time: a trial never shares the host with another system's handover.
    for (const q of queues) await q.trial(kind, signal, wholeTree);
  }
  await Promise.all(queues.map((q) => stop(q.group)));
}

function stats(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted.at(-1), n: sorted.length };
}

const fmt = (v, digits) => (v === undefined ? 'n/a' : v.toFixed(digits));

try {
  process.stderr.write(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; `);
  process.stderr.write(`etcd ${url}; TTL ${TTL} s; ${COLD} cold starts, ${TRIALS} handover and crash trials, ${IDLE_S} s idle window after ${WARM_S} s\n`);
  for (let i = 0; i < COLD; i++) {
    for (const system of systems) {
      process.stderr.write(`cold start ${i + 1}/${COLD}: ${system.name}\n`);
      await coldStart(system, i === 0);
    }
  }
  process.stderr.write('graceful handover trials\n');
  await trials('handover', 'SIGTERM', TRIALS, systems);
  process.stderr.write('crash failover trials\n');
  await trials('crash', 'SIGKILL', TRIALS, systems.filter((system) => system.ttl === TTL));
  process.stderr.write('lost-host failover trials\n');
  await trials('host', 'SIGKILL', TRIALS, systems.filter((system) => system.ttl === TTL), true);
  if (values['etcdctl-elect-crash']) await trials('crash', 'SIGKILL', 1, systems.filter((system) => system.ttl !== TTL));
  const metrics = [
    ['cold-start election (ms)', 'cold', 0],
    ['graceful handover (ms)', 'handover', 1],
    ['  SIGTERM → key deleted (ms)', 'handoverDelete', 1],
    ['  key deleted → next LEADER (ms)', 'handoverAcquire', 1],
    ['crash failover (ms)', 'crash', 0],
    ['  kill → key deleted (lease expiry) (ms)', 'crashDelete', 0],
    ['  key deleted → next LEADER (ms)', 'crashAcquire', 1],
    ['lost-host failover (ms)', 'host', 0],
    ['  kill → key deleted (lease expiry) (ms)', 'hostDelete', 0],
    ['  key deleted → next LEADER (ms)', 'hostAcquire', 1],
    ['idle CPU per candidate (ms/s)', 'cpuMsPerS', 2],
    ['etcd requests/s per candidate', 'reqPerS', 2],
    ['RSS per candidate (MB)', 'rssMb', 0],
  ];
  const header = ['metric', 'system', 'TTL s', 'n', 'min', 'median', 'max', 'warden ÷ this'];
  const rows = [];
  const warden = results.get('warden elect run');
  for (const [label, key, digits] of metrics) {
    const ours = stats(warden[key]);
    for (const system of systems) {
      const s = stats(results.get(system.name)[key]);
      const ratio = s && ours && system.name !== 'warden elect run' && s.median !== 0 ? `${(ours.median / s.median).toFixed(2)}×` : '';
      rows.push([label, system.name, String(system.ttl), String(s?.n ?? 0), fmt(s?.min, digits), fmt(s?.median, digits), fmt(s?.max, digits), ratio]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log(
    `\nNotes: crash failover is comparable only at the same TTL (${TTL} s): warden, etcd3 and etcdctl lock --ttl.` +
      ' On a crash of the warden CLI its watchdog (a separate process) kills the command, then revokes the lease: no TTL wait.' +
      ' Lost-host failover kills every process of the candidate at once, so the lease must expire on etcd for every system.' +
      ' `etcdctl elect` cannot set its TTL (60 s in 3.4), so its crash failover is only measured with --etcdctl-elect-crash,' +
      ' and its idle figures reflect a 60 s lease (keepalive every 20 s). Idle CPU of warden counts the CLI, its watchdog and its child.' +
      ` Host: ${cpus().length} CPUs, load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
  );
} finally {
  for (const proc of live) proc.kill('SIGKILL');
  await deleteWatch.cancel().catch(() => undefined);
  observer.close();
  await etcd.close();
}
process.exit(0);
