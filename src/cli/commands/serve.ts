/**
 * `warden serve`: parse options (serve/options.ts), start (serve/start-server.ts), print the
 * URL, and shut down gracefully on SIGTERM/SIGINT.
 */
import { parseServeArgs, serveHelp } from '../serve/options.js';
import { StartupError, startServer } from '../serve/start-server.js';

/** Runs `warden serve`; resolves with the exit code once the server has shut down. */
export async function serve(argv: string[]): Promise<number> {
  const parsed = parseServeArgs(argv, process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(serveHelp());
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`warden serve: ${parsed.message}\n`);
    return 2;
  }
  let running;
  try {
    running = await startServer(parsed.options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`warden serve: ${message}\n`);
    return error instanceof StartupError ? 1 : 1;
  }
  process.stdout.write(`warden listening on ${running.url}\n`);
  const signalled = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  running.log.info({ signal: signalled }, 'shutdown requested');
  await running.close();
  return 0;
}
