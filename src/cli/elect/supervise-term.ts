import type { Session } from 'warden/election';
import { ChildGroup, exitStatus } from './child-group.js';
import type { Term } from './term.js';
import type { Watchdog } from './watchdog.js';

/** How a term of supervision ended. */
export type TermOutcome =
  /** Shutdown was requested (SIGTERM/SIGINT to the CLI): the child is stopped. */
  | { kind: 'shutdown' }
  /** Leadership ended (lost, deadline near, superseded): the child is stopped. */
  | { kind: 'lost'; why: string }
  /** The child exited by itself while leading; `status` in shell convention. */
  | { kind: 'child-exit'; status: number }
  /** The watchdog died: the deadline can no longer be enforced. */
  | { kind: 'fatal'; why: string };

/** Everything one term of supervision needs. */
export interface SuperviseTermOptions {
  session: Session;
  term: Term;
  watchdog: Watchdog;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  setpriv: string | undefined;
  /** Longest SIGTERM→SIGKILL wait, ms. */
  graceMs: number;
  /** Aborts on shutdown; `reason` is the signal name to forward to the child (default SIGTERM). */
  shutdown: AbortSignal;
  /** Aborts when the watchdog process died. */
  fatal: AbortSignal;
}

/**
 * How long before the lease deadline the watchdog sends SIGTERM when the deadline stops
 * moving: the grace period, but at most half of the slack a healthy session always keeps
 * (TTL − margin − keepalive interval), so a keepalive that is merely due never triggers it.
 */
export function termLeadMs(session: Pick<Session, 'ttlMs' | 'safetyMarginMs' | 'keepaliveIntervalMs'>, graceMs: number): number {
  const slack = session.ttlMs - session.safetyMarginMs - session.keepaliveIntervalMs;
  return Math.max(0, Math.min(graceMs, Math.floor(slack / 2)));
}

/** Resolves when the first of `signals` aborts; `dispose` removes the listeners. */
function firstAbort(signals: AbortSignal[]): { promise: Promise<void>; dispose: () => void } {
  let onAbort = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    for (const signal of signals) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  // The shutdown signal lives as long as the CLI: leave no listener behind per term.
  return { promise, dispose: () => signals.forEach((signal) => signal.removeEventListener('abort', onAbort)) };
}

/**
 * Runs the command for one term and stops it when the term ends: starts the child group
 * under the watchdog, keeps feeding the watchdog the session's deadline, and returns once
 * no process of the group is left.
 */
export async function superviseTerm(options: SuperviseTermOptions): Promise<TermOutcome> {
  const { session, term, watchdog, shutdown, fatal } = options;
  const lead = termLeadMs(session, options.graceMs);
  let fed = session.deadline();
  watchdog.setDeadline(fed - lead, fed);
  // Fed on each move of the deadline (a keepalive ack), not by polling: no wake-ups in between.
  const stopFeeding = session.onDeadline((deadline) => {
    fed = deadline;
    watchdog.setDeadline(fed - lead, fed);
  });
  let unsubscribe = (): void => undefined;
  try {
    // Right before acting: a pause since the campaign won must not start a stale term.
    if (!term.isHeld()) return { kind: 'lost', why: 'leadership ended before the command started' };
    // Held at a gate until the watchdog knows the group: a CLI stopped (SIGSTOP, a stalled
    // event loop) between the fork and the guard would otherwise leave a running command that
    // nobody kills at the deadline.
    const child = ChildGroup.start({ command: options.command, args: options.args, env: options.env, setpriv: options.setpriv, hold: true });
    let watchdogFired = false;
    unsubscribe = watchdog.onEvent((event) => {
      if (event.pgid === child.pid) watchdogFired = true;
    });
    if (child.pid !== undefined) {
      const waiting = firstAbort([term.signal, shutdown, fatal]);
      try {
        await Promise.race([watchdog.guard(child.pid), waiting.promise]);
      } finally {
        waiting.dispose();
      }
    }
    if (!term.isHeld() || shutdown.aborted || fatal.aborted) {
      await child.stop({ graceMs: options.graceMs, killByMs: fed }); // only the gate ran
      if (fatal.aborted) return { kind: 'fatal', why: String(fatal.reason) };
      return shutdown.aborted ? { kind: 'shutdown' } : { kind: 'lost', why: 'leadership ended before the command started' };
    }
    child.open();

    const ended = firstAbort([term.signal, shutdown, fatal]);
    try {
      await Promise.race([child.exit, ended.promise]);
    } finally {
      ended.dispose();
    }

    if (fatal.aborted) {
      stopFeeding();
      await child.stop({ graceMs: options.graceMs, killByMs: session.deadline() });
      return { kind: 'fatal', why: String(fatal.reason) };
    }
    if (shutdown.aborted && term.isHeld()) {
      // Keep feeding while the child winds down: the lease is still ours and kept alive.
      const signal = typeof shutdown.reason === 'string' ? (shutdown.reason as NodeJS.Signals) : 'SIGTERM';
      await child.stop({ signal, graceMs: options.graceMs });
      return { kind: 'shutdown' };
    }
    stopFeeding();
    const deadline = fed;
    const exited = child.exited;
    // A child that died near the deadline was stopped by the watchdog, not by its own choice.
    const nearDeadline = performance.now() >= deadline - lead;
    if (exited && term.isHeld() && !watchdogFired && !nearDeadline && !shutdown.aborted) {
      await child.stop({ graceMs: options.graceMs, killByMs: deadline }); // stray group members
      return { kind: 'child-exit', status: exitStatus(exited) };
    }
    await child.stop({ graceMs: options.graceMs, killByMs: deadline });
    const reason = term.signal.reason as { reason?: string; message?: string } | undefined;
    const why = reason?.reason ?? (watchdogFired || nearDeadline ? 'deadline' : exited ? 'child stopped at the deadline' : 'ended');
    return shutdown.aborted ? { kind: 'shutdown' } : { kind: 'lost', why };
  } finally {
    stopFeeding();
    unsubscribe();
    watchdog.release();
  }
}
