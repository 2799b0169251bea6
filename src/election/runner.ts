import { delay, linkSignals } from './abort.js';
import type { Election, LeaderInfo, Leadership } from './election.js';
import { SessionEndedError } from './errors.js';
import type { Hold } from './hold.js';

/** Handlers of `Election.run`. */
export interface RunHandlers {
  /** The value to campaign with. */
  value: string;
  /**
   * Runs while leading; `signal` aborts the moment leadership ends. When it settles (returns
   * or throws), the candidate resigns and campaigns again.
   */
  onLeader(signal: AbortSignal, leadership: Leadership): Promise<void> | void;
  /** Runs while not leading, once per observed leader (null = nobody); `signal` aborts on the next change. */
  onFollower?(signal: AbortSignal, leader: LeaderInfo | null): Promise<void> | void;
  /** Receives handler errors and campaign errors; participation continues. Default: process warning. */
  onError?(error: unknown): void;
  /** Pause after a failed campaign or a failed handler before campaigning again, ms. Default 1000. */
  retryDelayMs?: number;
}

function reporter(handlers: RunHandlers): (error: unknown) => void {
  return (error) => {
    try {
      if (handlers.onError) handlers.onError(error);
      else process.emitWarning(error instanceof Error ? error : new Error(String(error)), { code: 'WARDEN_ELECTION_HANDLER' });
    } catch {
      // An error reporter must never stop participation.
    }
  };
}

async function settle(fn: () => Promise<void> | void, report: (e: unknown) => void): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    report(error);
    return false;
  }
}

/** Runs follower handlers one at a time, one per observed leader other than `ownKey`. */
async function follow(election: Election, handlers: RunHandlers, signal: AbortSignal, report: (e: unknown) => void): Promise<void> {
  const onFollower = handlers.onFollower;
  if (onFollower === undefined) return;
  let current: { controller: AbortController; done: Promise<boolean> } | undefined;
  try {
    for await (const leader of election.observe({ signal })) {
      if (leader?.key === election.key) continue;
      if (current) {
        current.controller.abort(new Error('leader changed'));
        await current.done;
      }
      if (signal.aborted) break;
      const controller = new AbortController();
      current = { controller, done: settle(() => onFollower(controller.signal, leader), report) };
    }
  } finally {
    if (current) {
      current.controller.abort(signal.reason ?? new Error('follower phase ended'));
      await current.done;
    }
  }
}

/** The loop behind Election.run; see there. */
export async function runElection(election: Election, handlers: RunHandlers, outer: AbortSignal | undefined): Promise<void> {
  const session = election.session;
  const report = reporter(handlers);
  const retryDelayMs = handlers.retryDelayMs ?? 1_000;
  const { signal: stop, dispose } = linkSignals(outer, session.signal);
  try {
    while (!stop.aborted) {
      const followerStop = new AbortController();
      const followLinked = linkSignals(stop, followerStop.signal);
      const following = follow(election, handlers, followLinked.signal, report);
      let leadership: Leadership | undefined;
      try {
        leadership = await election.campaign(handlers.value, { signal: stop });
      } catch (error) {
        if (!stop.aborted) report(error);
      }
      followerStop.abort(new Error('elected'));
      await following;
      followLinked.dispose();
      if (leadership === undefined) {
        if (!stop.aborted) await delay(retryDelayMs, stop).catch(() => undefined);
        continue;
      }
      const hold = leadership as Hold;
      const onStop = (): void => hold.end('shutdown');
      stop.addEventListener('abort', onStop, { once: true });
      const ok = stop.aborted ? true : await settle(() => handlers.onLeader(hold.signal, leadership), report);
      stop.removeEventListener('abort', onStop);
      // The handler has settled: only now may the key go, so the next term cannot overlap.
      await leadership.resign().catch(report);
      if (!ok && !stop.aborted) await delay(retryDelayMs, stop).catch(() => undefined);
    }
  } finally {
    dispose();
  }
  const reason: unknown = session.signal.reason;
  if (outer?.aborted !== true && session.signal.aborted && reason instanceof SessionEndedError && reason.retryable) throw reason;
}
