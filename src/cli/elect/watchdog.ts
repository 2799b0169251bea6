import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { WATCHDOG_SCRIPT } from './watchdog-sh.js';

/** Which watchdog to run: a bash script (Linux, ~4 MB) or a Node process (anywhere, ~40 MB). */
export type WatchdogKind = 'bash' | 'node';

/** What the watchdog did on its own: sent SIGTERM or SIGKILL to the guarded group. */
export type WatchdogEvent = { kind: 'term' | 'kill'; pgid: number };

/** Converts a deadline on the `performance.now()` scale to absolute CLOCK_MONOTONIC ns. */
export function toMonotonicNs(performanceMs: number): bigint {
  return process.hrtime.bigint() + BigInt(Math.round((performanceMs - performance.now()) * 1e6));
}

/** Converts a deadline on the `performance.now()` scale to /proc/uptime centiseconds, rounded down. */
export function toUptimeCs(performanceMs: number): number {
  // Uptime first: a pause between the two reads then makes the deadline early, never late.
  const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const now = performance.now();
  // /proc/uptime is truncated to 10 ms: err early, never late.
  return Math.floor(Math.round(up * 100) + (performanceMs - now) / 10) - 1;
}

/** Picks the bash watchdog where bash and /proc/uptime exist, the Node one elsewhere. */
export function defaultWatchdogKind(): WatchdogKind {
  try {
    accessSync('/proc/uptime', constants.R_OK);
    accessSync('/bin/bash', constants.X_OK);
    return 'bash';
  } catch {
    return 'node';
  }
}

/**
 * The CLI's handle on its watchdog process (see `watchdog-main.ts`): tells it which process
 * group to guard and until when. The watchdog lives in its own session, so neither a
 * terminal's signals nor a SIGSTOP of the CLI reach it, and it kills the group at the
 * deadline or as soon as the CLI's end of the pipe closes.
 */
export class Watchdog {
  readonly #child: ChildProcess;
  /** Which implementation runs (they differ only in the clock unit of `D`). */
  readonly kind: WatchdogKind;
  readonly #exited: Promise<void>;
  #closing = false;
  #listeners = new Set<(event: WatchdogEvent) => void>();
  /** Resolvers of `guard()` calls waiting for the watchdog's `guard <pgid>`. */
  readonly #guarded = new Map<number, () => void>();
  #unexpectedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  private constructor(child: ChildProcess, kind: WatchdogKind) {
    this.#child = child;
    this.kind = kind;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // A dead watchdog guards nothing: release the waiters (the CLI then stops on `fatal`).
    void this.#exited.then(() => {
      for (const resolve of this.#guarded.values()) resolve();
      this.#guarded.clear();
    });
    child.once('exit', (code, signal) => {
      if (!this.#closing) this.#unexpectedExit?.(code, signal);
    });
  }

  /**
   * Starts a watchdog process and waits until it is ready to guard. `endpoints`: the etcd
   * client URLs on which it revokes the lease set with {@link setLease} if this process dies.
   */
  static async start(options: { kind?: WatchdogKind; endpoints?: readonly string[] } = {}): Promise<Watchdog> {
    const kind = options.kind ?? defaultWatchdogKind();
    const endpoints = options.endpoints ?? [];
    const [file, args] =
      kind === 'bash'
        ? ['/bin/bash', ['-c', WATCHDOG_SCRIPT, 'warden-watchdog', ...endpoints]]
        : [process.execPath, ['--max-old-space-size=16', fileURLToPath(new URL('./watchdog-main.js', import.meta.url)), ...endpoints]];
    const child = spawn(file, args, { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    const watchdog = new Watchdog(child, kind);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`watchdog exited before it was ready (code ${code})`));
      child.once('error', reject);
      child.once('exit', onExit);
      lines.once('line', (line) => {
        child.off('exit', onExit);
        child.off('error', reject);
        if (line === 'ready') resolve();
        else reject(new Error(`watchdog said '${line}' instead of 'ready'`));
      });
    });
    lines.on('line', (line) => {
      const [kind, pgid] = line.split(' ');
      if (kind === 'guard' && pgid !== undefined) {
        watchdog.#guarded.get(Number(pgid))?.();
        watchdog.#guarded.delete(Number(pgid));
      }
      if ((kind === 'term' || kind === 'kill') && pgid !== undefined && /^[0-9]+$/.test(pgid)) {
        for (const listener of watchdog.#listeners) listener({ kind, pgid: Number(pgid) });
      }
    });
    // The CLI must be able to exit while the watchdog idles; the pipe keeps it honest.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return watchdog;
  }

  /** PID of the watchdog process. */
  get pid(): number {
    return this.#child.pid!;
  }

  /** Calls `listener` whenever the watchdog signals the group on its own; returns an unsubscribe. */
  onEvent(listener: (event: WatchdogEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` if the watchdog process dies while it should be guarding. */
  onUnexpectedExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#unexpectedExit = listener;
  }

  /** Sets the deadlines (performance.now() scale): SIGTERM the group at termAt, SIGKILL at killAt. */
  setDeadline(termAtMs: number, killAtMs: number): void {
    if (this.kind === 'bash') {
      // One read of /proc/uptime for both: the two deadlines keep their exact distance.
      const killCs = toUptimeCs(killAtMs);
      this.#send(`D ${killCs - Math.ceil((killAtMs - termAtMs) / 10)} ${killCs}`);
    } else this.#send(`D ${toMonotonicNs(termAtMs)} ${toMonotonicNs(killAtMs)}`);
  }

  /**
   * Tells the watchdog the lease to revoke if this process dies (undefined: none). It revokes
   * it only once the guarded group is gone, so a successor is elected at once after a crash of
   * this process, without a command of two terms running at the same time.
   */
  setLease(leaseId: string | undefined): void {
    this.#send(`L ${leaseId ?? '0'}`);
  }

  /**
   * Guards the process group `pgid` (set a deadline first). Resolves once the watchdog has
   * read the order and said so (`guard <pgid>`), or has died: from then on it acts even if
   * this process is stopped, so only then may the group's command run (`ChildGroup.open`).
   */
  guard(pgid: number): Promise<void> {
    const confirmed = new Promise<void>((resolve) => this.#guarded.set(pgid, resolve));
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) this.#guarded.get(pgid)?.();
    this.#send(`G ${pgid}`);
    return confirmed;
  }

  /** Stops guarding: the CLI stopped the group itself. */
  release(): void {
    this.#send('R');
  }

  /** Releases and ends the watchdog process; idempotent. */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      // Hold the event loop until the watchdog is gone, or the process could end mid-await.
      this.#child.ref();
      (this.#child.stdout as unknown as { ref?: () => void }).ref?.();
      this.#send('R');
      this.#child.stdin?.end();
    }
    await this.#exited;
  }

  #send(line: string): void {
    const stdin = this.#child.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded) return;
    stdin.write(`${line}\n`);
  }
}
