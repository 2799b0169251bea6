#!/usr/bin/env node
/**
 * The `warden` command. This file alone calls `process.exit`; every command is a plain
 * async function of its argv that returns an exit code.
 */
import { commands } from './commands/index.js';
import { usage } from './usage.js';

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(usage());
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const load = commands[verb];
  if (!load) {
    process.stderr.write(`warden: unknown command '${verb}'\n\n${usage()}`);
    return 2;
  }
  const run = await load();
  return await run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`warden: ${message}\n`);
    process.exit(1);
  },
);
