/**
 * Test fixture (not a test): a stand-in for the CLI that starts a watchdog and a child group,
 * prints `{"child":PID,"watchdog":PID}` and keeps renewing the deadline, so tests can
 * kill -9 or SIGSTOP it and watch what happens to the child.
 * argv[2]: JSON `{ setpriv: boolean, renewEveryMs, termInMs, killInMs, command, args }`, plus
 * optionally `endpoints` and `lease` (the watchdog revokes that lease when the fixture dies).
 */
import { writeSync } from 'node:fs';
import { ChildGroup, findSetpriv } from './child-group.js';
import { Watchdog } from './watchdog.js';

/** What the fixture is told to do (argv[2], JSON); the supervision tests build it. */
export interface FixtureOptions {
  watchdog: 'bash' | 'node';
  setpriv: boolean;
  renewEveryMs: number;
  termInMs: number;
  killInMs: number;
  command: string;
  args: string[];
  endpoints?: string[];
  lease?: string;
  dieRightAfterSpawn?: boolean;
  hold?: boolean;
}

const options = JSON.parse(process.argv[2] ?? '{}') as FixtureOptions;
if (options.dieRightAfterSpawn) {
  // The race a kill -9 right after the fork can hit: no watchdog guard yet, and setpriv may not
  // have armed the death signal. Only the child's own parent check can save the day.
  const child = ChildGroup.start({ command: options.command, args: options.args, env: process.env, setpriv: options.setpriv ? findSetpriv() : undefined, hold: options.hold ?? false });
  writeSync(1, `${JSON.stringify({ child: child.pid, watchdog: 0 })}\n`);
  process.kill(process.pid, 'SIGKILL');
}
const watchdog = await Watchdog.start({ kind: options.watchdog, endpoints: options.endpoints ?? [] });
if (options.lease !== undefined) watchdog.setLease(options.lease);
const renew = (): void => {
  const now = performance.now();
  watchdog.setDeadline(now + options.termInMs, now + options.killInMs);
};
renew();
// Renew from now on: waiting for the watchdog's ack must not let the first deadline pass.
const timer = setInterval(renew, options.renewEveryMs);
const child = ChildGroup.start({
  command: options.command,
  args: options.args,
  env: process.env,
  setpriv: options.setpriv ? findSetpriv() : undefined,
  hold: true,
});
await watchdog.guard(child.pid!);
child.open();
watchdog.onEvent((event) => process.stdout.write(`${JSON.stringify(event)}\n`));
process.stdout.write(`${JSON.stringify({ child: child.pid, watchdog: watchdog.pid })}\n`);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void child.stop({ graceMs: 1000 }).then(async () => {
    await watchdog.close();
    process.exit(0);
  });
});
