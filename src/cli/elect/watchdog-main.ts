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
 *   `L <leaseId>`            the CLI's lease (decimal; `L 0`: none), revoked if the CLI dies
 * End of stdin (the CLI exited or was killed) while guarding: SIGKILL the group at once. With
 * a lease set, once no process of the last guarded group is left (or at once when none was
 * guarded), revoke the lease on the etcd URLs given as arguments: the CLI died, and the next
 * candidate should not have to wait for the TTL. A group still alive at the kill deadline keeps
 * the lease (etcd expires it).
 * Reports on stdout: `ready`, `guard <pgid>` (a `G` was read), `term <pgid>`, `kill <pgid>`,
 * `revoked <leaseId>`, `norevoke <leaseId>`.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupAlive } from './child-group.js';

process.title = 'warden-watchdog';

const endpoints = process.argv.slice(2);
let pgid: number | undefined;
/** The group guarded since the last `G`, kept after a deadline kill until `R`. */
let group: number | undefined;
let lease: string | undefined;
let termAt: bigint | undefined;
let killAt: bigint | undefined;
let termSent = false;
let timer: NodeJS.Timeout | undefined;

// EPIPE from a dead CLI arrives as an 'error' event: it must not end the watchdog mid-duty.
process.stdout.on('error', () => undefined);

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
    group = pgid;
    termSent = false;
    report(`guard ${pgid}`);
  } else if (op === 'D' && a !== undefined && b !== undefined) {
    termAt = BigInt(a);
    killAt = BigInt(b);
  } else if (op === 'L' && a !== undefined && /^[0-9]+$/.test(a)) {
    lease = a === '0' ? undefined : a;
  } else if (op === 'R') {
    pgid = undefined;
    group = undefined;
    termAt = undefined;
    killAt = undefined;
    termSent = false;
  }
  schedule();
}

/** Revokes `id` on the first endpoint that answers 200; true if one did. */
async function revoke(id: string): Promise<boolean> {
  for (const endpoint of endpoints) {
    try {
      const res = await fetch(new URL('/v3/lease/revoke', endpoint), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ID: id }),
        signal: AbortSignal.timeout(2_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 200) return true;
    } catch {
      // try the next endpoint
    }
  }
  return false;
}

/** The CLI is gone: nothing will renew the deadline or stop the group but this. */
async function orphaned(): Promise<void> {
  if (timer) clearTimeout(timer);
  if (pgid !== undefined) {
    signalGroup('SIGKILL');
    report(`kill ${pgid}`);
  }
  if (lease === undefined) return;
  // The key must outlive the command: revoke only once the group is gone.
  while (group !== undefined && groupAlive(group)) {
    if (killAt === undefined || process.hrtime.bigint() >= killAt) {
      report(`norevoke ${lease}`);
      return;
    }
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await sleep(5);
  }
  report((await revoke(lease)) ? `revoked ${lease}` : `norevoke ${lease}`);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', handle);
lines.on('close', () => {
  void orphaned().finally(() => process.exit(0));
});
report('ready');
