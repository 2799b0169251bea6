#!/usr/bin/env node
/* global performance, fetch */
// bench:partitions — N nodes × P partitions on one throwaway etcd. Default: one Node process per
// node (the fixture src/election/fixtures/partition-node.ts; crash = kill -9). `--mode inproc`
// runs every node in this process instead (own etcd client, session and PartitionSet each).
//
// For P = 64 and P = 1024 (N = 10 each): cold start → balanced, crash (keepalives stop) → balanced,
// join → balanced, partitions moved per change vs the ideal, etcd requests per second at
// rest and during rebalances (from etcd's /metrics), resident memory per node.
//
// Usage: npm run bench:partitions [-- --nodes 10 --partitions 64,1024 --rounds 3 --ttl-ms 5000 --mode process|inproc]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEtcd, waitFor } from '../../dist/testing/index.js';
import { createEtcdBackend, PartitionSet, PartitionTableWatcher, Session } from '../../dist/election/index.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '64,1024' },
    rounds: { type: 'string', default: '3' },
    'ttl-ms': { type: 'string', default: '5000' },
    'rest-ms': { type: 'string', default: '5000' },
    'margin-ms': { type: 'string', default: '1500' },
    'settle-ms': { type: 'string', default: '500' },
    'max-pending': { type: 'string', default: '16' },
    mode: { type: 'string', default: 'process' },
  },
});
const N = Number(values.nodes);
const ROUNDS = Number(values.rounds);
const TTL_MS = Number(values['ttl-ms']);
const REST_MS = Number(values['rest-ms']);
// Session safety margin = the longest event-loop stall tolerated: widened for a loaded host.
const MARGIN_MS = Number(values['margin-ms']);
const SETTLE_MS = Number(values['settle-ms']);
const MAX_PENDING = Number(values['max-pending']);
const MODE = values.mode; // 'process': one Node process per node (real kill -9); 'inproc': all in this process
const FIXTURE = fileURLToPath(new URL('../../dist/election/fixtures/partition-node.js', import.meta.url));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function etcdCounters(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  let unary = 0;
  let messages = 0;
  const methods = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('grpc_server_handled_total{')) {
      unary += Number(line.split(' ').pop());
      const method = /grpc_method="(\w+)"/.exec(line)?.[1];
      if (method) methods[method] = (methods[method] ?? 0) + Number(line.split(' ').pop());
    }
    else if (line.startsWith('grpc_server_msg_received_total{')) messages += Number(line.split(' ').pop());
  }
  return { unary, messages, methods, at: performance.now() };
}

function rate(a, b) {
  const s = (b.at - a.at) / 1000;
  if (process.env.BENCH_VERBOSE) {
    const delta = Object.fromEntries(Object.keys(b.methods).map((k) => [k, b.methods[k] - (a.methods[k] ?? 0)]).filter(([, v]) => v));
    process.stderr.write(`  ${s.toFixed(2)} s: ${JSON.stringify(delta)}\n`);
  }
  return { unary: (b.unary - a.unary) / s, messages: (b.messages - a.messages) / s, count: b.unary - a.unary, seconds: s };
}

async function runConfig(P) {
  const etcd = await startEtcd();
  const url = etcd.endpoints[0];
  const prefix = '/bench/parts/';
  const observerBackend = createEtcdBackend({ endpoints: etcd.endpoints });
  const table = new PartitionTableWatcher(observerBackend, prefix, P);
  await table.start();
  const nodes = new Map();
  let losses = 0;
  let seq = 0;

  // One node = its own etcd client, session (lease) and PartitionSet, as in a separate process.
  const startNode = async () => {
    const id = `n${String(seq++).padStart(2, '0')}`;
    const backend = createEtcdBackend({ endpoints: etcd.endpoints });
    const session = await Session.create(backend, { ttlMs: TTL_MS, safetyMarginMs: MARGIN_MS });
    const set = new PartitionSet({ session, partitions: P, prefix, member: { id, url: `http://${id}.invalid/` },
      settleMs: SETTLE_MS, maxPendingCampaigns: MAX_PENDING, onError: () => undefined });
    const node = { id, backend, session, set };
    nodes.set(id, node);
    set.signal.addEventListener('abort', () => {
      if (!node.stopping) {
        losses += 1;
        if (process.env.BENCH_VERBOSE) process.stderr.write(`${id}: ${String(set.signal.reason)}\n`);
      }
    });
    await set.start();
    return node;
  };
  // Crash: keepalives stop and the node stops acting at once; its keys stay until the lease expires.
  const crash = async (node) => {
    node.stopping = true;
    node.session.orphan();
    nodes.delete(node.id);
  };
  const stop = async (node) => {
    node.stopping = true;
    await node.set.close();
    await node.session.close();
    await node.backend.close();
  };
  const afterCrash = (node) => node.backend.close();

  // Process mode: the fixture program, one Node process per node; crash = SIGKILL.
  const spawnNode = async () => {
    const id = `n${String(seq++).padStart(2, '0')}`;
    const args = [FIXTURE, '--etcd', url, '--id', id, '--partitions', String(P), '--ttl-ms', String(TTL_MS), '--margin-ms', String(MARGIN_MS), '--prefix', prefix];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const node = { id, child, exited: new Promise((r) => child.once('exit', r)) };
    nodes.set(id, node);
    await new Promise((resolve, reject) => {
      child.once('exit', () => reject(new Error(`${id} exited before ready`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const ev = JSON.parse(line);
        if (ev.ev === 'ready') resolve();
        else if (ev.ev === 'rejoin') {
          losses += 1;
          if (process.env.BENCH_VERBOSE) process.stderr.write(`${id}: ${ev.reason}\n`);
        }
      });
    });
    return node;
  };
  const kill = async (node) => {
    node.child.kill('SIGKILL');
    await node.exited;
    nodes.delete(node.id);
  };
  const term = async (node) => {
    node.child.kill('SIGTERM');
    await node.exited;
  };
  const ops = MODE === 'process'
    ? { start: spawnNode, crash: kill, stop: term, afterCrash: async () => undefined }
    : { start: startNode, crash, stop, afterCrash };
  const rss = (node) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${node.child.pid}/status`, 'utf8'))?.[1]) / 1024;

  /** Balanced: every partition led by a live member, each with ⌊P/N⌋ or ⌈P/N⌉. */
  const balanced = () => {
    const live = [...nodes.keys()];
    const members = table.memberIds();
    if (members.length !== live.length || !live.every((id) => members.includes(id))) return false;
    const count = new Map(live.map((id) => [id, 0]));
    for (const leader of table.leaders()) {
      if (leader === null || !count.has(leader)) return false;
      count.set(leader, count.get(leader) + 1);
    }
    const lo = Math.floor(P / live.length);
    const hi = Math.ceil(P / live.length);
    return [...count.values()].every((c) => c === lo || c === hi);
  };
  const waitBalanced = (what, timeoutMs = 60_000) => waitFor(balanced, { timeoutMs, intervalMs: 5, what });
  const moved = (before, after) => after.filter((l, p) => l !== before[p]).length;

  const out = { P, coldRegistered: [], cold: [], crash: [], crashAfterExpiry: [], join: [], movedCrash: [], movedJoin: [], rest: [], rebalance: [], rss: [], heap: [] };
  try {
    globalThis.gc?.();
    const mem0 = process.memoryUsage();
    // Cold start: all N at once.
    const t0 = performance.now();
    await Promise.all(Array.from({ length: N }, ops.start));
    const tRegistered = performance.now();
    await waitBalanced('cold start');
    out.cold.push((performance.now() - t0) / 1000);
    out.coldRegistered.push((performance.now() - tRegistered) / 1000);

    const measureRest = async () => {
      await sleep(1000);
      const a = await etcdCounters(url);
      await sleep(REST_MS);
      out.rest.push(rate(a, await etcdCounters(url)));
    };
    await measureRest();
    globalThis.gc?.();
    const mem1 = process.memoryUsage();
    if (MODE === 'process') for (const node of nodes.values()) out.rss.push(rss(node));
    else {
      out.rss.push((mem1.rss - mem0.rss) / N / 2 ** 20);
      out.heap.push((mem1.heapUsed - mem0.heapUsed) / N / 2 ** 20);
    }

    for (let round = 0; round < ROUNDS; round += 1) {
      // Crash one node.
      let before = table.leaders();
      const victim = [...nodes.values()][round % nodes.size];
      const ideal = before.filter((l) => l === victim.id).length;
      const tKill = performance.now();
      await ops.crash(victim);
      await waitFor(() => !table.memberIds().includes(victim.id), { timeoutMs: TTL_MS * 3, intervalMs: 5, what: 'lease expiry' });
      const tExpired = performance.now();
      const a = await etcdCounters(url);
      await waitBalanced('after crash');
      const b = await etcdCounters(url);
      const tCrash = performance.now();
      const movedByCrash = moved(before, table.leaders());
      out.rebalance.push({ ...rate(a, b), moved: movedByCrash });
      out.crash.push((tCrash - tKill) / 1000);
      out.crashAfterExpiry.push((tCrash - tExpired) / 1000);
      out.movedCrash.push(movedByCrash / ideal);
      await ops.afterCrash(victim);

      // Join a new node.
      before = table.leaders();
      const tJoin = performance.now();
      const c = await etcdCounters(url);
      const joiner = await ops.start();
      await waitBalanced('after join');
      const d = await etcdCounters(url);
      out.join.push((performance.now() - tJoin) / 1000);
      const after = table.leaders();
      out.rebalance.push({ ...rate(c, d), moved: moved(before, after) });
      out.movedJoin.push(moved(before, after) / after.filter((l) => l === joiner.id).length);
    }
    await measureRest();
  } finally {
    await Promise.all([...nodes.values()].map(ops.stop));
    table.close();
    await observerBackend.close();
    await etcd.close();
  }
  out.losses = losses;
  return out;
}

const configs = values.partitions.split(',').map(Number);
const results = [];
for (const P of configs) {
  process.stderr.write(`[bench:partitions] N=${N} P=${P} rounds=${ROUNDS} ttl=${TTL_MS}ms …\n`);
  results.push(await runConfig(P));
}

const rows = [
  ['cold start → balanced, from start (s)', (r) => r.cold],
  ['cold start → balanced, from all registered (s)', (r) => r.coldRegistered],
  ['crash → balanced (s, includes lease expiry)', (r) => r.crash],
  ['lease expiry → balanced (s)', (r) => r.crashAfterExpiry],
  ['join → balanced (s)', (r) => r.join],
  ['moved per crash / ideal', (r) => r.movedCrash],
  ['moved per join / ideal', (r) => r.movedJoin],
  ['etcd unary RPC/s at rest', (r) => r.rest.map((x) => x.unary)],
  ['etcd gRPC msgs/s at rest', (r) => r.rest.map((x) => x.messages)],
  ['etcd unary RPCs per rebalance (crash or join)', (r) => r.rebalance.map((x) => x.count)],
  ['etcd unary RPCs per moved partition', (r) => r.rebalance.map((x) => x.count / x.moved)],
  ['etcd unary RPC/s during rebalance', (r) => r.rebalance.map((x) => x.unary)],
  [MODE === 'process' ? 'RSS per node process (MB)' : 'RSS per node (MB, process delta / N)', (r) => r.rss],
  ...(MODE === 'process' ? [] : [['heap per node (MB, delta / N)', (r) => r.heap]]),
];
const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
const head = ['metric', ...results.flatMap((r) => [`P=${r.P} min`, 'median', 'max'])];
if (results.length > 1) head.push(`median P=${results.at(-1).P} / P=${results[0].P}`);
const lines = [head];
for (const [name, pick] of rows) {
  const line = [name];
  for (const r of results) {
    const xs = pick(r);
    line.push(fmt(Math.min(...xs)), fmt(median(xs)), fmt(Math.max(...xs)));
  }
  if (results.length > 1) line.push(`${(median(pick(results.at(-1))) / median(pick(results[0]))).toFixed(2)}×`);
  lines.push(line);
}
lines.push(['unplanned session losses', ...results.flatMap((r) => [String(r.losses), '', ''])]);
console.log(`\nPartitionSet: N=${N} nodes ${MODE === 'process' ? 'as separate processes (crash = kill -9)' : 'in one process (one etcd client + session each; crash = keepalives stop)'}, one etcd 3.4 on loopback, TTL ${TTL_MS} ms (margin ${MARGIN_MS} ms), settleMs ${SETTLE_MS}, maxPendingCampaigns ${MAX_PENDING}, ${ROUNDS} crash+join rounds\n`);
console.log(`| ${lines[0].join(' | ')} |`);
console.log(`|${lines[0].map(() => ' --- ').join('|')}|`);
for (const line of lines.slice(1)) console.log(`| ${line.join(' | ')} |`);
