import { setTimeout as sleep } from 'node:timers/promises';
import { ElectionError, Session, createEtcdBackend, type Backend } from 'warden/election';
import { findSetpriv } from './child-group.js';
import type { ElectRunOptions } from './options.js';
import { superviseTerm } from './supervise-term.js';
import { contender } from './term.js';
import { Watchdog } from './watchdog.js';

/** Where the runner reports, and what stops it; injectable for tests. */
export interface RunnerIo {
  /** Writes one line (no newline) to stderr. */
  log(line: string): void;
  /** Aborts on SIGTERM/SIGINT/SIGHUP; `reason` is the signal name, forwarded to the child. */
  shutdown: AbortSignal;
  /** The child's base environment. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Exit codes of `warden elect run` besides the child's own status. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

function describe(error: unknown): string {
  if (error instanceof ElectionError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `warden elect run`: contends for the election (or lock), runs the command while
 * leading, stops it when leadership ends, contends again; resigns and returns on shutdown.
 * Returns the process exit code.
 */
export async function runElect(options: ElectRunOptions, io: RunnerIo): Promise<number> {
  const { shutdown } = io;
  const started = performance.now();
  let role: 'LEADER' | 'FOLLOWER' | undefined;
  const announce = (next: 'LEADER' | 'FOLLOWER'): void => {
    if (role === next) return;
    role = next;
    io.log(`${next} ${new Date().toISOString()}`);
  };

  let backend: Backend;
  try {
    backend = createEtcdBackend({ endpoints: options.endpoints });
  } catch (error) {
    io.log(`warden elect: ${describe(error)}`);
    return EXIT.usage;
  }
  const fatalController = new AbortController();
  // Started alongside the first session, so it costs no start-up latency.
  const watchdogStarting = Watchdog.start({ endpoints: options.endpoints }).then((started) => {
    started.onUnexpectedExit((code, signal) => fatalController.abort(`watchdog process exited (code ${code}, signal ${signal})`));
    return started;
  });
  watchdogStarting.catch(() => undefined);
  try {
    const setpriv = findSetpriv();
    let everConnected = false;
    let lastError = '';
    let backoffMs = 250;

    while (!shutdown.aborted) {
      if (fatalController.signal.aborted) {
        io.log(`warden elect: ${String(fatalController.signal.reason)}`);
        return EXIT.error;
      }
      let session: Session;
      try {
        session = await Session.create(backend, { ttlMs: options.ttlMs, signal: shutdown });
      } catch (error) {
        if (shutdown.aborted) break;
        const message = describe(error);
        const retryable = error instanceof ElectionError && error.retryable;
        // At start-up, fail fast; once running, a supervisor waits out any outage.
        if (!everConnected && (!retryable || performance.now() - started > options.connectTimeoutMs)) {
          io.log(`warden elect: cannot start a session on ${options.endpoints.join(',')}: ${message}`);
          return EXIT.error;
        }
        if (message !== lastError) io.log(`warden elect: retrying: ${message}`);
        lastError = message;
        await sleep(backoffMs, undefined, { signal: shutdown }).catch(() => undefined);
        backoffMs = Math.min(backoffMs * 2, 5_000);
        continue;
      }
      everConnected = true;
      lastError = '';
      backoffMs = 250;

      let guard: Watchdog | undefined;
      try {
        guard = await watchdogStarting;
        // Should this process die, the watchdog revokes the lease once the command's group is
        // gone: the next candidate leads at once instead of after the TTL.
        guard.setLease(session.leaseId);
        const contend = contender(session, options.target, options.id);
        while (!shutdown.aborted && !session.signal.aborted && !fatalController.signal.aborted) {
          announce('FOLLOWER');
          let term;
          try {
            term = await contend({ signal: AbortSignal.any([shutdown, fatalController.signal]) });
          } catch (error) {
            if (shutdown.aborted || session.signal.aborted || fatalController.signal.aborted) break;
            io.log(`warden elect: campaign failed, retrying: ${describe(error)}`);
            await sleep(Math.min(1_000, session.keepaliveIntervalMs), undefined, { signal: shutdown }).catch(() => undefined);
            continue;
          }
          announce('LEADER');
          const outcome = await superviseTerm({
            session,
            term,
            watchdog: guard,
            command: options.command,
            args: options.args,
            env: {
              ...(io.env ?? process.env),
              WARDEN_FENCING_TOKEN: term.fencingToken,
              WARDEN_LEADER_ID: options.id,
              WARDEN_LEADER_KEY: term.key,
              WARDEN_LEASE_ID: session.leaseId,
            },
            setpriv,
            graceMs: options.graceMs,
            shutdown,
            fatal: fatalController.signal,
          });
          // The child group is gone: only now may the key go, so no successor overlaps it.
          await term.end().catch((error: unknown) => {
            if (!session.signal.aborted) io.log(`warden elect: resign failed (the key goes with the lease): ${describe(error)}`);
          });
          announce('FOLLOWER');
          if (outcome.kind === 'child-exit') {
            io.log(`warden elect: command exited with status ${outcome.status}; resigned`);
            return outcome.status;
          }
          if (outcome.kind === 'fatal') {
            io.log(`warden elect: ${outcome.why}`);
            return EXIT.error;
          }
          if (outcome.kind === 'shutdown') break;
        }
      } finally {
        // Revoke even after a lost deadline: the lease may still live, and revoking frees the
        // election for the others now rather than at expiry.
        await session.close().catch(() => undefined);
        guard?.setLease(undefined);
      }
      if (!shutdown.aborted && !fatalController.signal.aborted && session.signal.aborted) {
        const reason = session.signal.reason as { reason?: string } | undefined;
        io.log(`warden elect: session ended (${reason?.reason ?? 'unknown'}); starting a new one`);
      }
    }
    return fatalController.signal.aborted ? EXIT.error : EXIT.ok;
  } catch (error) {
    io.log(`warden elect: ${describe(error)}`);
    return EXIT.error;
  } finally {
    await watchdogStarting.then((started) => started.close(), () => undefined);
    await backend.close().catch(() => undefined);
  }
}
