#!/usr/bin/env node
// Benchmark of warden/mfsymlink: codec throughput (encode, decode as Linux, decode strict)
// against MD5 alone, and convertTree on 10,000 links in both directions against plain
// fs.symlink/readlink loops. Run: npm run bench:mfsymlink (builds first).
// Options (env): BENCH_LINKS (default 10000), BENCH_SAMPLES (default 5), BENCH_DIR (default: OS temp dir),
// BENCH_FAT=1 adds a convertTree run on a FUSE FAT mount (needs fusefat; 1,000 links).
import { createHash } from 'node:crypto';
import { mkdtemp, readlink, rm, symlink, mkdir } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertTree, decode, encode, parseMfSymlink } from '../../dist/mfsymlink/index.js';

const LINKS = Number(process.env.BENCH_LINKS ?? 10_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5);
const BASE = process.env.BENCH_DIR ?? tmpdir();
const rows = [];

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

/** Runs fn `ops` times per sample; returns ops/s per sample. */
function rate(ops, fn) {
  const out = [];
  for (let s = 0; s < SAMPLES; s += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i += 1) fn(i);
    const ns = Number(process.hrtime.bigint() - start);
    out.push(ops / (ns / 1e9));
  }
  return stats(out);
}

async function rateAsync(ops, setup, fn, samples = Math.min(SAMPLES, 3), verify = async () => {}) {
  const out = [];
  for (let s = 0; s < samples; s += 1) {
    const ctx = await setup();
    const start = process.hrtime.bigint();
    await fn(ctx);
    const ns = Number(process.hrtime.bigint() - start);
    out.push(ops / (ns / 1e9));
    await verify(ctx); // untimed: the work really happened
    await ctx.cleanup();
  }
  return stats(out);
}

function add(group, name, unit, s, peer) {
  rows.push({ group, name, unit, ...s, ratio: peer ? s.median / peer.median : undefined });
}

// --- codec -------------------------------------------------------------------------------
for (const [label, target] of [['17-byte target', '../versions/1.2.0'], ['1024-byte target', 'x'.repeat(1024)]]) {
  const bytes = new Uint8Array(Buffer.from(target));
  const file = encode(bytes);
  const quirky = file.slice();
  quirky[4] = 0x20;
  rate(20_000, () => encode(bytes)); // warm-up
  const md5 = rate(100_000, () => createHash('md5').update(bytes).digest('hex'));
  add(`codec, ${label}`, 'md5 hex of the target (peer: the floor)', 'ops/s', md5);
  add(`codec, ${label}`, 'encode', 'ops/s', rate(100_000, () => encode(bytes)), md5);
  add(`codec, ${label}`, 'decode (as Linux)', 'ops/s', rate(100_000, () => decode(file)), md5);
  add(`codec, ${label}`, 'decode (strict)', 'ops/s', rate(100_000, () => decode(file, { strict: true })), md5);
  add(`codec, ${label}`, 'parseMfSymlink (+ canonical check)', 'ops/s', rate(50_000, () => parseMfSymlink(file)), md5);
  add(`codec, ${label}`, 'decode, rejected (bad magic, no hash)', 'ops/s', rate(100_000, () => { try { decode(new Uint8Array(1067)); } catch { /* expected */ } }), md5);
}

// --- convertTree ---------------------------------------------------------------------------
const PER_DIR = 1000;
function linkPath(root, i) {
  return join(root, `d${Math.floor(i / PER_DIR)}`, `link-${i}`);
}
async function nativeTree(count, base = BASE) {
  const root = await mkdtemp(join(base, 'warden-bench-'));
  for (let d = 0; d * PER_DIR < count; d += 1) await mkdir(join(root, `d${d}`));
  for (let i = 0; i < count; i += 1) await symlink(`../versions/${i}.0.0`, linkPath(root, i));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}
async function mfTree(count, base = BASE) {
  const ctx = await nativeTree(count, base);
  await convertTree(ctx.root, { to: 'mf', fsync: false });
  return ctx;
}

const group = `${LINKS} links in ${Math.ceil(LINKS / PER_DIR)} directories (${BASE})`;
const mkNative = await rateAsync(LINKS, async () => {
  const root = await mkdtemp(join(BASE, 'warden-bench-'));
  for (let d = 0; d * PER_DIR < LINKS; d += 1) await mkdir(join(root, `d${d}`));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}, async ({ root }) => {
  for (let i = 0; i < LINKS; i += 1) await symlink(`../versions/${i}.0.0`, linkPath(root, i));
});
add(group, 'fs.symlink loop (peer: create native)', 'links/s', mkNative);
const readNative = await rateAsync(LINKS, () => nativeTree(LINKS), async ({ root }) => {
  for (let i = 0; i < LINKS; i += 1) await readlink(linkPath(root, i));
});
add(group, 'fs.readlink loop (peer: read native)', 'links/s', readNative);
const check = async (root, kind) => {
  const report = await convertTree(root, { to: kind, dryRun: true });
  if (report.unchanged !== LINKS) throw new Error(`expected ${LINKS} ${kind} links, found ${report.unchanged}`);
};
for (const fsync of [true, false]) {
  add(group, `convertTree native -> mf (fsync ${fsync})`, 'links/s', await rateAsync(LINKS, () => nativeTree(LINKS), async ({ root }) => {
    await convertTree(root, { to: 'mf', fsync });
  }, undefined, ({ root }) => check(root, 'mf')), mkNative);
  add(group, `convertTree mf -> native (fsync ${fsync})`, 'links/s', await rateAsync(LINKS, () => mfTree(LINKS), async ({ root }) => {
    await convertTree(root, { to: 'native', fsync });
  }, undefined, ({ root }) => check(root, 'native')), mkNative);
}
add(group, 'convertTree dry run over mf links (scan + decode)', 'links/s', await rateAsync(LINKS, () => mfTree(LINKS), async ({ root }) => check(root, 'mf')), readNative);

// --- optional: on a FUSE FAT mount -----------------------------------------------------------
// fusefat 0.1a corrupts a file when a directory grows past its first cluster, and each create
// rescans the directory: keep 10 links per directory.
if (process.env.BENCH_FAT === '1') {
  const { mountFat } = await import('../../dist/testing/index.js');
  const { createSymlink } = await import('../../dist/mfsymlink/index.js');
  const fat = await mountFat({ sizeKiB: 65536 });
  const count = 500;
  const fatPath = (root, i) => join(root, `d${Math.floor(i / 10)}`, `l${i}`);
  try {
    let round = 0;
    const setup = async () => {
      const root = join(fat.path, `t${(round += 1)}`);
      await mkdir(root);
      for (let d = 0; d * 10 < count; d += 1) await mkdir(join(root, `d${d}`));
      return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
    };
    const group = `${count} links on a FUSE FAT mount, 10 per directory`;
    const created = await rateAsync(count, setup, async ({ root }) => {
      for (let i = 0; i < count; i += 1) await createSymlink(`../versions/${i}.0.0`, fatPath(root, i), { fsync: false });
    }, 1);
    add(group, 'createSymlink auto (-> mf), fsync false', 'links/s', created);
    add(group, 'convertTree dry run (scan + decode)', 'links/s', await rateAsync(count, async () => {
      const ctx = await setup();
      for (let i = 0; i < count; i += 1) await createSymlink(`../versions/${i}.0.0`, fatPath(ctx.root, i), { fsync: false });
      return ctx;
    }, async ({ root }) => {
      const report = await convertTree(root, { to: 'mf', dryRun: true });
      if (report.unchanged !== count) throw new Error(`expected ${count} mf links on FAT, found ${report.unchanged}`);
    }, 1));
  } finally {
    await fat.close();
  }
}

// --- table ------------------------------------------------------------------------------------
const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
console.log(`warden/mfsymlink benchmark — node ${process.version}, ${SAMPLES} samples per codec row, ${Math.min(SAMPLES, 3)} per tree row`);
console.log(spawnSync('uname', ['-srm'], { encoding: 'utf8' }).stdout.trim());
let current;
for (const row of rows) {
  if (row.group !== current) {
    current = row.group;
    console.log(`\n${current}\n${'name'.padEnd(52)} ${'unit'.padEnd(8)} ${'min'.padStart(12)} ${'median'.padStart(12)} ${'max'.padStart(12)}  ratio`);
  }
  const ratio = row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`;
  console.log(`${row.name.padEnd(52)} ${row.unit.padEnd(8)} ${fmt(row.min).padStart(12)} ${fmt(row.median).padStart(12)} ${fmt(row.max).padStart(12)}  ${ratio}`);
}
