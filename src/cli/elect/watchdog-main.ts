/**
 * The watchdog process of `warden elect run`: a separate, tiny Node process that kills the
 * child's process group when the CLI stops renewing the deadline — the CLI may be paused
 * (SIGSTOP, a stalled event loop) or dead (kill -9), and only a process that does not share
 * its event loop can act then.
 *
 * Protocol, one command per line on stdin (times are absolute CLOCK_MONOTONIC nanoseconds,
 * the scale of `process.hrtime.bigint()`, which every process on the host shares):
 *   `G <pgid>`               guard this process group
 *   `D <termAtNs> <killAtNs>` SIGTERM the group at termAt, SIGKILL it at killAt
 *   `R`                      release: the CLI has stopped the group itself
 * End of stdin (the CLI exited or was killed) while guarding: SIGKILL the group at once.
 * Reports on stdout: `ready`, `guard <pgid>` (a `G` was read), `term <pgid>`, `kill <pgid>`.
 */
import { createInterface } from 'node:readline';

process.title = 'warden-watchdog';

let pgid: number | undefined;
let termAt: bigint | undefined;
let killAt: bigint | undefined;
let termSent = false;
let timer: NodeJS.Timeout | undefined;

function report(line: string): void {
  // The CLI may be gone; a failed write must not kill the watchdog before it acts.
  try {
    process.stdout.write(`${line}\n`);
  } catch {
    // ignore
  }
}

function signalGroup(signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (pgid === undefined) return;
  const now = process.hrtime.bigint();
  if (killAt !== undefined && now >= killAt) {
    signalGroup('SIGKILL');
    report(`kill ${pgid}`);
    pgid = undefined;
    return;
  }
  if (!termSent && termAt !== undefined && now >= termAt) {
    termSent = true;
    signalGroup('SIGTERM');
    report(`term ${pgid}`);
  }
  const next = !termSent && termAt !== undefined ? termAt : killAt;
  if (next === undefined) return;
  // Timers may fire a little early or late; schedule() re-checks the clock each time.
  const ms = Math.max(1, Math.ceil(Number(next - now) / 1e6));
  timer = setTimeout(schedule, ms);
}

function handle(line: string): void {
  const [op, a, b] = line.trim().split(/\s+/);
  if (op === 'G' && a !== undefined) {
    pgid = Number(a);
    termSent = false;
    report(`guard ${pgid}`);
  } else if (op === 'D' && a !== undefined && b !== undefined) {
    termAt = BigInt(a);
    killAt = BigInt(b);
  } else if (op === 'R') {
    pgid = undefined;
    termAt = undefined;
    killAt = undefined;
    termSent = false;
  }
  schedule();
}

const lines = createInterface({ input: process.stdin });
lines.on('line', handle);
lines.on('close', () => {
  if (pgid !== undefined) {
    signalGroup('SIGKILL');
    report(`kill ${pgid}`);
  }
  process.exit(0);
});
report('ready');
