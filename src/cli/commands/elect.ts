import { ELECT_USAGE, parseElectArgs } from '../elect/options.js';

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * `warden elect run … -- CMD ARGS…`: runs CMD only while this process leads an election (or
 * holds a lock) in etcd. See docs/cli-elect.md.
 */
export async function elect(argv: string[]): Promise<number> {
  const parsed = parseElectArgs(argv, process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(ELECT_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`warden elect: ${parsed.message}\n\n${ELECT_USAGE}`);
    return 2;
  }
  // Loaded only to run: help and usage errors do not pay for the etcd client.
  const { runElect } = await import('../elect/runner.js');
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) controller.abort(signal);
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  try {
    return await runElect(parsed.options, {
      log: (line) => process.stderr.write(`${line}\n`),
      shutdown: controller.signal,
    });
  } finally {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  }
}
