#!/usr/bin/env node
// bench/serve: Warden vs nginx (1 worker, sendfile on) vs sirv vs @fastify/static — same files,
// same load generator (wrk), each server pinned to core 0 with taskset, wrk on core 1.
// Figures: 1 KiB and 64 KiB GETs (req/s, p99), one 100 MiB download (MB/s, server peak RSS),
// publish MB/s vs dd to the same disk. Runs: BENCH_RUNS (default 3), BENCH_SECONDS (default 4).
// Usage: npm run bench:serve   (needs wrk, nginx and taskset: apt-get install wrk nginx-light)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ONLY = (process.env.BENCH_ONLY ?? 'warden,nginx,sirv,fastify').split(',');
const TOKEN = 'bench-token';

for (const bin of ['wrk', 'nginx', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0) {
    console.error(`bench/serve needs ${bin} (apt-get install wrk nginx-light util-linux)`);
    process.exit(2);
  }
}

const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stats = (xs) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });

const top = mkdtempSync(join(tmpdir(), 'warden-bench-'));
const data = join(top, 'data');
spawnSync('chmod', ['755', top]); // nginx workers run unprivileged
const tokens = join(top, 'tokens.json');
writeFileSync(tokens, JSON.stringify({ tokens: [{ sha256: createHash('sha256').update(TOKEN).digest('hex'), owners: ['*'], scopes: ['admin'] }] }));
const FILES = { '1k': 1024, '64k': 64 * 1024, '100m': 100 * 1024 * 1024 };

function put(port, path, body) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.on('error', reject);
    // Write in 1 MiB pieces with back-pressure, like a real client.
    let off = 0;
    const pump = () => {
      while (off < body.length) {
        const chunk = body.subarray(off, off + 1024 * 1024);
        off += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

function del(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `${path}?force=true`, method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitHttp(port, path = '/') {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => { const r = request({ host: '127.0.0.1', port, path }, (res) => { res.resume(); resolve(true); }); r.on('error', () => resolve(false)); r.end(); });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} never answered`);
}

function pinned(cmd, args, opts = {}) {
  return spawn('taskset', ['-c', '0', cmd, ...args], { stdio: ['ignore', 'ignore', 'inherit'], ...opts });
}

function rssPeakKb(pid) {
  try { return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]); } catch { return NaN; }
}

function wrk(url, connections, seconds) {
  const out = execFileSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99raw = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99ms = p99raw ? Number(p99raw[1]) * { us: 0.001, ms: 1, s: 1000 }[p99raw[2]] : NaN;
  const tr = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(out);
  const mbs = tr ? (Number(tr[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[tr[2]]) / 1e6 : NaN;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`${url}: ${non2xx} non-2xx answers`);
  return { rps, p99ms, mbs };
}

// 1. Warden: publish the files (measuring publish MB/s on a 256 MiB upload), keep it running.
const servers = {};
const wardenPort = await freePort();
const warden = pinned(process.execPath, [join(repo, 'dist/cli/main.js'), 'serve', '--data', data, '--port', String(wardenPort), '--host', '127.0.0.1', '--tokens', tokens, '--log-level', 'warn', '--node-id', 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
await waitHttp(wardenPort, '/healthz');
const contents = {};
for (const [name, size] of Object.entries(FILES)) {
  contents[name] = randomBytes(size);
  const r = await put(wardenPort, `/v1/files/bench/f/${name}`, contents[name]);
  if (r.status !== 201) throw new Error(`publish ${name}: ${r.status}`);
}
// Publish vs dd, interleaved, under the same memory conditions. Each measured file is removed
// right after its run (the version through the API), so both write into page-cache memory the
// kernel has used before. Why it matters: in a fresh microVM the first touch of guest memory is
// slow (measured here: ~400 MB/s), so a writer whose files stay looks 3-4x slower than one
// whose files are deleted — an earlier version of this bench compared kept versions with
// deleted dd files. dd runs on the server's core, like the server, and writes the same bytes.
const PUBLISH_MB = 256;
const big = randomBytes(PUBLISH_MB * 1024 * 1024);
// dd copies the same random bytes from a cached file: /dev/zero would be ~20% faster to read
// than any real content (measured here: 1420 vs 1150 MB/s).
const ddSource = join(top, 'publish-source.bin');
writeFileSync(ddSource, big);
readFileSync(ddSource);
async function measurePublish(port, ddCpus, withDd = true) {
  const publish = [];
  const dd = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const r = await put(port, `/v1/files/bench/pub/v${i}`, big);
    if (r.status !== 201) throw new Error(`publish: ${r.status}`);
    const removed = await del(port, `/v1/files/bench/pub/v${i}`);
    if (removed !== 204) throw new Error(`delete: ${removed}`);
    if (!withDd) {
      if (i > 0) publish.push((big.length / 1e6) / (r.ms / 1000));
      continue;
    }
    const target = join(data, `dd-${i}`);
    const started = performance.now();
    execFileSync('taskset', ['-c', ddCpus, 'dd', `if=${ddSource}`, `of=${target}`, 'bs=1M', `count=${PUBLISH_MB}`, 'conv=fsync'], { stdio: 'ignore' });
    const ddMs = performance.now() - started;
    rmSync(target);
    if (i === 0) continue; // warm-up round for both
    publish.push((big.length / 1e6) / (r.ms / 1000));
    dd.push((big.length / 1e6) / (ddMs / 1000));
  }
  return { publish, dd };
}
const onOneCore = await measurePublish(wardenPort, '0');
const publishMbs = onOneCore.publish;
const ddMbs = onOneCore.dd;
// The same upload into the least a Node server can do (bare-upload-server.mjs), same core.
const bareDir = join(data, 'bare');
mkdirSync(bareDir);
const barePort = await freePort();
const bare = pinned(process.execPath, [join(here, 'bare-upload-server.mjs'), bareDir, String(barePort)]);
await waitHttp(barePort, '/');
const bareMbs = (await measurePublish(barePort, '0', false)).publish;
bare.kill('SIGTERM');
rmSync(bareDir, { recursive: true, force: true });
// The floor any publish pays on one core: SHA-256 of the same bytes, nothing else.
const hashMbs = JSON.parse(execFileSync('taskset', ['-c', '0', process.execPath, '-e', `
  const { createHash, randomBytes } = require('node:crypto');
  const b = randomBytes(${PUBLISH_MB} << 20); const out = [];
  for (let i = 0; i < ${RUNS} + 1; i++) { const t = performance.now(); const h = createHash('sha256');
    for (let o = 0; o < b.length; o += 65536) h.update(b.subarray(o, o + 65536)); h.digest();
    out.push(b.length / 1e6 / ((performance.now() - t) / 1000)); }
  console.log(JSON.stringify(out.slice(1)));`], { encoding: 'utf8' }));
warden.kill('SIGTERM');
await new Promise((resolve) => warden.once('exit', resolve));
// The same publish with the server free to use every core (hash threads on the spare one).
const wide = spawn(process.execPath, [join(repo, 'dist/cli/main.js'), 'serve', '--data', data, '--port', String(wardenPort), '--host', '127.0.0.1', '--tokens', tokens, '--log-level', 'warn', '--node-id', 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
await waitHttp(wardenPort, '/healthz');
const onAllCores = await measurePublish(wardenPort, `0-${cpus().length - 1}`);
wide.kill('SIGTERM');
await new Promise((resolve) => wide.once('exit', resolve));
// A fresh process serves the GETs, so its peak RSS is that of serving, not of publishing.
const served = pinned(process.execPath, [join(repo, 'dist/cli/main.js'), 'serve', '--data', data, '--port', String(wardenPort), '--host', '127.0.0.1', '--tokens', tokens, '--log-level', 'warn', '--node-id', 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
await waitHttp(wardenPort, '/healthz');
servers.warden = { proc: served, base: `http://127.0.0.1:${wardenPort}/v1/files/bench/f/`, pid: () => served.pid };
const root = join(data, 'bench', 'f', 'versions');
for (const name of Object.keys(FILES)) if (statSync(join(root, name)).size !== FILES[name]) throw new Error('layout');

// 2. Peers over the same directory.
if (ONLY.includes('nginx')) {
  const port = await freePort();
  const conf = join(top, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;\ndaemon off;\npid ${top}/nginx.pid;\nerror_log ${top}/nginx-error.log;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 1000000;\n  client_body_temp_path ${top}/nginx-body;\n  proxy_temp_path ${top}/nginx-proxy;\n  fastcgi_temp_path ${top}/nginx-fastcgi;\n  uwsgi_temp_path ${top}/nginx-uwsgi;\n  scgi_temp_path ${top}/nginx-scgi;\n  default_type application/octet-stream;\n  server { listen 127.0.0.1:${port}; root ${root}; }\n}\n`);
  const proc = pinned('nginx', ['-c', conf, '-e', `${top}/nginx-error.log`]);
  await waitHttp(port, '/1k');
  const worker = () => Number(execFileSync('pgrep', ['-P', String(proc.pid), '-f', 'nginx'], { encoding: 'utf8' }).trim().split('\n').pop());
  servers.nginx = { proc, base: `http://127.0.0.1:${port}/`, pid: () => { try { return worker(); } catch { return proc.pid; } } };
}
if (ONLY.includes('sirv')) {
  const port = await freePort();
  const proc = pinned(process.execPath, [join(here, 'sirv-server.mjs'), root, String(port)]);
  await waitHttp(port, '/1k');
  servers.sirv = { proc, base: `http://127.0.0.1:${port}/`, pid: () => proc.pid };
}
if (ONLY.includes('fastify')) {
  const port = await freePort();
  const proc = pinned(process.execPath, [join(here, 'fastify-server.mjs'), root, String(port)]);
  await waitHttp(port, '/1k');
  servers['fastify-static'] = { proc, base: `http://127.0.0.1:${port}/`, pid: () => proc.pid };
}

// 3. Measure.
const results = {};
try {
  for (const [name, s] of Object.entries(servers)) {
    if (!ONLY.includes(name.replace('-static', ''))) continue;
    const r = (results[name] = {});
    for (const file of ['1k', '64k']) {
      wrk(s.base + file, CONNS, 1); // warm-up
      const runs = Array.from({ length: RUNS }, () => wrk(s.base + file, CONNS, SECONDS));
      r[file] = { rps: stats(runs.map((x) => x.rps)), p99: stats(runs.map((x) => x.p99ms)), mbs: stats(runs.map((x) => x.mbs)) };
    }
    const dl = Array.from({ length: RUNS }, () => wrk(s.base + '100m', 1, SECONDS));
    r.dl = stats(dl.map((x) => x.mbs));
    r.rssMb = rssPeakKb(s.pid()) / 1024;
  }
} finally {
  for (const s of Object.values(servers)) s.proc.kill('SIGTERM');
}

// 4. Print.
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const mmm = (s, f = f0) => `${f(s.min)}/${f(s.median)}/${f(s.max)}`;
console.log(`\nbench/serve — ${RUNS} runs × ${SECONDS}s, wrk -t1 -c${CONNS} (core 1), servers on core 0; min/median/max\n`);
console.log('| server | 1 KiB req/s | 1 KiB p99 ms | 64 KiB req/s | 64 KiB MB/s | 64 KiB p99 ms | 100 MiB MB/s | peak RSS MB |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${mmm(r['1k'].rps)} | ${mmm(r['1k'].p99, f2)} | ${mmm(r['64k'].rps)} | ${mmm(r['64k'].mbs)} | ${mmm(r['64k'].p99, f2)} | ${mmm(r.dl)} | ${f0(r.rssMb)} |`);
}
const w = results.warden;
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : 'n/a');
console.log('\nRatios (medians), Warden ÷ peer:');
for (const [name, r] of Object.entries(results)) {
  if (name === 'warden') continue;
  console.log(`  vs ${name}: 1 KiB ${ratio(w['1k'].rps.median, r['1k'].rps.median)}×, 64 KiB ${ratio(w['64k'].rps.median, r['64k'].rps.median)}×, 100 MiB ${ratio(w.dl.median, r.dl.median)}×`);
}
console.log(`\nPublish (${PUBLISH_MB} MiB over loopback HTTP, sha256 + fsync + rename, server on core 0): ${mmm(stats(publishMbs))} MB/s`);
console.log(`dd bs=1M conv=fsync of the same bytes (core 0, same disk, same memory conditions): ${mmm(stats(ddMbs))} MB/s; publish ÷ dd ${ratio(median(publishMbs), median(ddMbs))}×`);
console.log(`Bare node:http upload (pipe + SHA-256 + fsync + rename, nothing else; core 0): ${mmm(stats(bareMbs))} MB/s; Warden ÷ bare ${ratio(median(publishMbs), median(bareMbs))}×`);
console.log(`Server on all ${availableParallelism()} cores (hash threads), client and dd unpinned: publish ${mmm(stats(onAllCores.publish))} MB/s; dd ${mmm(stats(onAllCores.dd))} MB/s; publish ÷ dd ${ratio(median(onAllCores.publish), median(onAllCores.dd))}×`);
console.log(`SHA-256 alone on core 0 (the publish floor): ${mmm(stats(hashMbs))} MB/s; publish ÷ sha256-alone ${ratio(median(publishMbs), median(hashMbs))}×`);
console.log(`Goals: 1 KiB ≥ 1.5× fastest Node peer and ≥ 0.3× nginx; 64 KiB ≥ 0.35× nginx; 100 MiB ≥ 0.8× nginx with RSS < 120 MB; publish ≥ 0.8× dd.`);
rmSync(top, { recursive: true, force: true });
