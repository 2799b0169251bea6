#!/usr/bin/env node
// bench/cluster: cluster mode vs a single node, on loopback, real processes.
//  1. publish throughput (4 KiB files, C concurrent clients): single node vs a cluster node that
//     leads the owners' partitions vs one that forwards them to the leader;
//  2. read throughput (1 KiB files, hot, C clients): 1 node vs spread over 3 nodes;
//  3. write-unavailability window per partition (publishes to every partition the victim
//     leads, through a survivor): after kill -9 of the leader, and after a graceful restart
//     (SIGTERM; the client retries 503 like `warden publish`). p50/p99 over the trials.
// Usage: npm run bench:cluster [-- --trials 20] [--seconds 4] [--runs 3] [--ttl 5] [--partitions 12] [--concurrency 8]
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist');
const { startLocalEtcd } = await import(join(dist, 'cli/cluster-demo/local-etcd.js'));
const { startLocalNode } = await import(join(dist, 'cli/cluster-demo/local-node.js'));
const { partitionOf } = await import(join(dist, 'election/index.js'));

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '3' }, seconds: { type: 'string', default: '4' }, runs: { type: 'string', default: '3' },
    ttl: { type: 'string', default: '5' }, partitions: { type: 'string', default: '12' }, concurrency: { type: 'string', default: '8' },
    only: { type: 'string', default: 'throughput,reads,windows' },
  },
});
const TRIALS = Number(values.trials);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const TTL = Number(values.ttl);
const P = Number(values.partitions);
const C = Number(values.concurrency);
const ONLY = values.only.split(',');
const TOKEN = 'bench-cluster-token';

const top = mkdtempSync(join(tmpdir(), 'warden-bench-cluster-'));
const tokens = join(top, 'tokens.json');
writeFileSync(tokens, JSON.stringify({ tokens: [{ sha256: createHash('sha256').update(TOKEN).digest('hex'), owners: ['*'], scopes: ['admin'] }] }));
const children = [];
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(top, { recursive: true, force: true });
});
for (const s of ['SIGINT', 'SIGTERM']) process.once(s, () => process.exit(130));

const agent = new Agent({ keepAlive: true, maxSockets: 512 });
const log = (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const pct = (xs, p) => (xs.length ? sorted(xs)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);
const stats = (xs) => ({ min: Math.min(...xs), median: pct(xs, 50), max: Math.max(...xs) });
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');

function http(url, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve) => {
    const h = { authorization: `Bearer ${TOKEN}`, ...headers };
    if (body !== undefined) h['content-length'] = body.length;
    const req = request(url, { method, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve({ status: 0, headers: {}, body: Buffer.alloc(0) }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, headers: {}, body: Buffer.alloc(0) }));
    req.end(body);
  });
}

async function node(id, data, etcd, extra = {}) {
  const n = await startLocalNode({ id, data, tokens, etcd, partitions: P, ttlS: TTL, extraArgs: ['--log-level', 'warn', '--scrub-rate', '0'], logFile: join(top, `${id}.log`), ...extra });
  children.push(n.child);
  return n;
}

async function cluster(url) {
  const r = await http(`${url}/v1/cluster`);
  return r.status === 200 ? JSON.parse(r.body.toString()) : undefined;
}

/** Waits until every partition is led and every expected member leads its fair share. */
async function balanced(url, ids, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await cluster(url).catch(() => undefined);
    if (c) {
      const counts = new Map(ids.map((i) => [i, 0]));
      let ok = c.partitions.every((p) => p.leader !== null);
      for (const p of c.partitions) if (p.leader) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
      for (const [, n] of counts) if (n < Math.floor(P / ids.length) || n > Math.ceil(P / ids.length)) ok = false;
      if (ok && counts.size === ids.length) return c;
    }
    if (Date.now() > deadline) throw new Error(`cluster not balanced over ${ids.join(',')} in time`);
    await sleep(100);
  }
}

/** Owners that fall in each partition (first few found). */
const ownersByPartition = new Map();
for (let i = 0; [...ownersByPartition.values()].filter((l) => l.length >= 4).length < P; i++) {
  const o = `own${i}`;
  const p = partitionOf(o, P);
  const list = ownersByPartition.get(p) ?? [];
  if (list.length < 4) list.push(o);
  ownersByPartition.set(p, list);
}

/** C clients publish 4 KiB versions to `target(owner)` for SECONDS; returns publishes/s. */
async function publishLoad(owners, targetOf, tag) {
  const body = randomBytes(4096);
  let done = 0;
  let failed = 0;
  let seq = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: C }, async (_, w) => {
    while (performance.now() < end) {
      const owner = owners[(seq++ + w) % owners.length];
      const r = await http(`${targetOf(owner)}/v1/files/${owner}/bench/${tag}-${w}-${seq}`, { method: 'PUT', body });
      if (r.status === 201) done++;
      else failed++;
    }
  }));
  if (failed) log(`  ${tag}: ${failed} publishes failed`);
  return done / SECONDS;
}

/** C clients GET random hot 1 KiB files from the URLs in turn for SECONDS; returns req/s. */
async function readLoad(urls, paths) {
  let done = 0;
  let bad = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: C * 4 }, async (_, w) => {
    let i = w;
    while (performance.now() < end) {
      const r = await http(`${urls[i % urls.length]}${paths[(i * 7919) % paths.length]}`);
      i++;
      if (r.status === 200) done++;
      else bad++;
    }
  }));
  if (bad) log(`  reads: ${bad} failed`);
  return done / SECONDS;
}

const rows = [];
const row = (metric, xs, unit = '', d = 0) => rows.push({ metric, unit, d, ...stats(xs), xs });

log(`machine: ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; P=${P}, TTL=${TTL}s, concurrency ${C}, ${SECONDS}s x ${RUNS} runs, ${TRIALS} trials`);
const etcd = await startLocalEtcd({ dir: join(top, 'etcd'), size: 3 });
for (const m of etcd.members) children.push(m.child);
const single = await node('single', join(top, 'single-data'), []);
const data = join(top, 'data');
let nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => node(id, data, etcd.endpoints)));
let table = await balanced(nodes[0].url, ['n1', 'n2', 'n3']);
log('cluster balanced');

const urlOf = (id) => nodes.find((n) => n.id === id).url;
if (ONLY.includes('throughput')) {
  // Owners led by n1: sent to n1 (leader, local) or to n2 (follower, forwarded).
  const led = table.partitions.filter((p) => p.leader === 'n1').map((p) => p.partition);
  const owners = led.flatMap((p) => ownersByPartition.get(p));
  const s = [], l = [], fw = [];
  for (let run = 0; run < RUNS; run++) {
    s.push(await publishLoad(owners, () => single.url, `s${run}`));
    l.push(await publishLoad(owners, () => urlOf('n1'), `l${run}`));
    fw.push(await publishLoad(owners, () => urlOf('n2'), `f${run}`));
    log(`  publish run ${run + 1}: single ${f(s.at(-1))}/s, leader ${f(l.at(-1))}/s, via follower ${f(fw.at(-1))}/s`);
  }
  row('publish 4 KiB, single node (no etcd)', s, '/s');
  row('publish 4 KiB, cluster: to the leader', l, '/s');
  row('publish 4 KiB, cluster: via a follower (forwarded)', fw, '/s');
  row('via follower / single node', fw.map((x, i) => x / s[i]), '×', 2);
  row('via follower / leader', fw.map((x, i) => x / l[i]), '×', 2);
  row('forwarding cost: (leader − via follower) / single node (goal < 0.20)', fw.map((x, i) => (l[i] - x) / s[i]), '×', 2);
}

if (ONLY.includes('reads')) {
  const paths = [];
  const small = randomBytes(1024);
  for (let i = 0; i < 200; i++) {
    const owner = `reader${i % 20}`;
    const path = `/v1/files/${owner}/r/v${i}`;
    await http(`${urlOf('n1')}${path}`, { method: 'PUT', body: small });
    await http(`${single.url}${path}`, { method: 'PUT', body: small });
    paths.push(path);
  }
  const one = [], three = [], solo = [];
  for (let run = 0; run < RUNS; run++) {
    solo.push(await readLoad([single.url], paths));
    one.push(await readLoad([urlOf('n1')], paths));
    three.push(await readLoad(nodes.map((n) => n.url), paths));
    log(`  read run ${run + 1}: single ${f(solo.at(-1))}/s, 1 cluster node ${f(one.at(-1))}/s, 3 nodes ${f(three.at(-1))}/s`);
  }
  row('GET 1 KiB hot, single node', solo, '/s');
  row('GET 1 KiB hot, 1 cluster node', one, '/s');
  row('GET 1 KiB hot, 3 cluster nodes', three, '/s');
  row('3 nodes / 1 node', three.map((x, i) => x / one[i]), '×', 2);
}

/** One stream per partition: publish through `via` as fast as answers come; records ack times and failures. */
function streams(partitions, via, retry) {
  const state = { stop: false, acks: new Map(partitions.map((p) => [p, []])), failed: 0, retried503: 0 };
  const body = randomBytes(64);
  const runs = partitions.map(async (p) => {
    const owner = ownersByPartition.get(p)[0];
    for (let seq = 0; !state.stop; seq++) {
      const path = `/v1/files/${owner}/window/${process.pid}-${Date.now()}-${seq}`;
      let ok = false;
      for (let attempt = 1; attempt <= (retry ? 5 : 1) && !state.stop; attempt++) {
        const r = await http(`${via()}${path}`, { method: 'PUT', body });
        if (r.status === 201 || r.status === 200) { ok = true; break; }
        if (r.status === 503) state.retried503++;
        // Like `warden publish`: honour Retry-After (1 s) when retrying; without retry, probe every 20 ms.
        await sleep(retry ? Math.min(Number(r.headers['retry-after'] ?? 1), 1) * 1000 : 20);
      }
      if (ok) state.acks.get(p).push(performance.now());
      else if (retry && !state.stop) state.failed++;
    }
  });
  return { state, done: () => { state.stop = true; return Promise.all(runs); } };
}

const maxGap = (acks, from) => {
  let gap = 0;
  for (let i = 1; i < acks.length; i++) if (acks[i] >= from) gap = Math.max(gap, acks[i] - acks[i - 1]);
  return gap;
};

if (ONLY.includes('windows')) {
  const crash = [], crashFirst = [], graceful = [];
  let gracefulFailed = 0, graceful503 = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const kind of ['crash', 'graceful']) {
      table = await balanced(nodes[0].url, nodes.map((n) => n.id));
      const victim = nodes[(trial * 2 + (kind === 'crash' ? 0 : 1)) % nodes.length];
      const survivors = nodes.filter((n) => n !== victim);
      const led = table.partitions.filter((p) => p.leader === victim.id).map((p) => p.partition);
      let rr = 0;
      const s = streams(led, () => survivors[rr++ % survivors.length].url, kind === 'graceful');
      await sleep(500);
      const t0 = performance.now();
      if (kind === 'crash') await victim.kill();
      else await victim.stop();
      // A response already on the wire when the signal landed is not a write after the crash.
      const t1 = performance.now();
      // Wait until every stream has written again after the event, then a little more.
      const deadline = t0 + (TTL + 15) * 1000;
      while (performance.now() < deadline && ![...s.state.acks.values()].every((a) => a.at(-1) > t0 + 200)) await sleep(50);
      await sleep(300);
      await s.done();
      for (const p of led) {
        const acks = s.state.acks.get(p);
        const gap = maxGap(acks, t0);
        if (kind === 'crash') {
          crash.push(gap / 1000);
          crashFirst.push(((acks.find((a) => a > t1) ?? NaN) - t0) / 1000);
        } else graceful.push(gap / 1000);
      }
      if (kind === 'graceful') { gracefulFailed += s.state.failed; graceful503 += s.state.retried503; }
      log(`  trial ${trial + 1} ${kind} of ${victim.id} (partitions ${led.join(',')}): max ack gap ${led.map((p) => f(maxGap(s.state.acks.get(p), t0))).join(' ')} ms${kind === 'graceful' ? `, ${s.state.failed} failed after retries, ${s.state.retried503} 503s retried` : ''}`);
      // Bring the victim back on its port for the next trial.
      const port = Number(new URL(victim.url).port);
      const again = await node(victim.id, data, etcd.endpoints, { port });
      nodes = nodes.map((n) => (n === victim ? again : n));
    }
  }
  row(`write-unavailability after kill -9 of the leader (max ack gap, s; ${crash.length} partition samples)`, crash, 's', 2);
  rows.at(-1).p99 = pct(crash, 99);
  row('  kill -9 → first write acknowledged after the leader exited (s)', crashFirst, 's', 2);
  rows.at(-1).p99 = pct(crashFirst, 99);
  row(`write-unavailability during a graceful restart (max ack gap, s; ${graceful.length} samples)`, graceful, 's', 2);
  rows.at(-1).p99 = pct(graceful, 99);
  rows.push({ metric: `graceful restarts: writes failed after CLI-like retries (${graceful503} 503s retried)`, text: String(gracefulFailed) });
  rows.push({ metric: `crash goal: p99 ≤ TTL + 2 s = ${TTL + 2} s`, text: pct(crash, 99) <= TTL + 2 ? 'met' : 'MISSED' });
}

await Promise.all(nodes.map((n) => n.stop()));
await single.stop();
await etcd.close();

console.log(`\nbench/cluster — ${cpus().length} cores (load ${loadavg().map((x) => x.toFixed(1)).join(' ')}), P=${P}, TTL ${TTL} s, ${C} clients, ${SECONDS} s × ${RUNS} runs, ${TRIALS} trials\n`);
console.log('| metric | min | median (p50) | p99 | max |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) {
  if (r.text !== undefined) console.log(`| ${r.metric} | | ${r.text} | | |`);
  else console.log(`| ${r.metric} | ${f(r.min, r.d)} | ${f(r.median, r.d)} | ${r.p99 === undefined ? '' : f(r.p99, r.d)} | ${f(r.max, r.d)} |`);
}
