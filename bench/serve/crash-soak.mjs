#!/usr/bin/env node
// Crash soak: the crash-safety test with more rounds (default 20): kill -9 `warden serve`
// in the middle of 200 concurrent uploads, restart, check every 201 is intact, nothing partial,
// temp folder empty. Usage: npm run build && node bench/serve/crash-soak.mjs [ROUNDS]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rounds = process.argv[2] ?? '20';
const test = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'crash.test.js');
const result = spawnSync(process.execPath, ['--test', test], { stdio: 'inherit', env: { ...process.env, WARDEN_CRASH_ROUNDS: rounds } });
process.exit(result.status ?? 1);
