#!/usr/bin/env node
// `npm run bench`: every side-by-side benchmark, one after another (each prints its own
// table). Pass names to run a subset: `npm run bench -- election serve`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const all = {
  election: ['bench/election/run.mjs'],
  partitions: ['--expose-gc', 'bench/partitions/run.mjs'],
  mfsymlink: ['bench/mfsymlink/run.mjs'],
  serve: ['bench/serve/run.mjs'],
  cluster: ['bench/cluster/run.mjs'],
};
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(all);
let failed = 0;
for (const name of names) {
  const args = all[name];
  if (!args) {
    console.error(`unknown benchmark '${name}' (known: ${Object.keys(all).join(', ')})`);
    process.exit(2);
  }
  if (!existsSync(args[args.length - 1])) continue;
  console.log(`\n=== bench:${name} ===`);
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
