import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** How the child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link startChildGroup}. */
export interface StartChildOptions {
  command: string;
  args: readonly string[];
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  /**
   * Path of `setpriv` to run the child under `--pdeathsig KILL`, so the kernel kills it when
   * the CLI dies; undefined runs it directly (the watchdog still guards its group).
   */
  setpriv?: string | undefined;
  /**
   * Hold the command at a gate until {@link ChildGroup.open}: the group exists (its id is
   * known, a watchdog can guard it) but runs only a tiny `sh` waiting on a pipe. Default false.
   */
  hold?: boolean;
}

/**
 * Runs after `setpriv` armed PR_SET_PDEATHSIG: if the CLI died before that (a kill -9 right
 * after the fork), the death signal will never come, so the child checks that its parent is
 * still the CLI and gives up otherwise; after the check the kernel covers it.
 * $1 = the CLI's PID, the rest = the command.
 */
const PARENT_CHECK = 'p=$1; shift; read -r _ _ _ ppid _ < /proc/$$/stat; [ "$ppid" = "$p" ] || exit 125;';

/**
 * The gate of a held child: wait for the CLI's go line on fd 3 (EOF means the CLI died before
 * it opened the gate), close the pipe, then become the command (same PID, same group).
 */
const GATE = 'read -r _ <&3 || exit 125; exec "$@" 3<&-';

/** Builds the argv that runs the command: under setpriv, behind the gate, or directly. */
function commandLine(options: StartChildOptions): [string, string[]] {
  const hold = options.hold ?? false;
  if (options.setpriv) {
    const script = `${PARENT_CHECK} ${hold ? GATE : 'exec "$@"'}`;
    return [options.setpriv, ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', script, 'warden-child', String(process.pid), options.command, ...options.args]];
  }
  if (hold) return ['/bin/sh', ['-c', GATE, 'warden-child', options.command, ...options.args]];
  return [options.command, [...options.args]];
}

/** Finds util-linux `setpriv` (for `--pdeathsig`), or returns undefined. */
export function findSetpriv(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Exit status in shell convention: the code, or 128 + the signal number. */
export function exitStatus(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
  return 128 + (exit.signal ? (numbers[exit.signal] ?? 0) : 0);
}

/**
 * True while some process of group `pgid` is alive. Zombies do not count: on a host whose
 * init does not reap, a killed grandchild lingers as a zombie that runs nothing.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(2)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/**
 * The command run while leading, in its own process group (its PID is the group id), so one
 * signal reaches it and everything it started.
 */
export class ChildGroup {
  readonly #child: ChildProcess;
  readonly #exit: Promise<ChildExit>;
  #exited: ChildExit | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    // EPIPE when the held child died before its gate opened: its exit reports that.
    this.#gate()?.on('error', () => undefined);
    this.#exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exited = { code, signal };
        // A gate never opened must not keep the event loop alive.
        this.#gate()?.destroy();
        resolve(this.#exited);
      });
      child.once('error', () => {
        // spawn failed (e.g. ENOENT without setpriv): report it like a shell would
        this.#exited ??= { code: 127, signal: null };
        resolve(this.#exited);
      });
    });
  }

  /** Spawns the command detached (new session and process group), stdin closed, output shared. */
  static start(options: StartChildOptions): ChildGroup {
    const [file, args] = commandLine(options);
    const stdio: StdioOptions = options.hold ? ['ignore', 'inherit', 'inherit', 'pipe'] : ['ignore', 'inherit', 'inherit'];
    const child = spawn(file, args, { detached: true, stdio, env: options.env });
    return new ChildGroup(child);
  }

  /**
   * Lets a held command run (see {@link StartChildOptions.hold}); a no-op otherwise or twice.
   * Call it only once whoever must know the group (the watchdog) knows it.
   */
  open(): void {
    const gate = this.#gate();
    if (gate && !gate.destroyed && !gate.writableEnded) gate.end('go\n');
  }

  #gate(): Writable | undefined {
    return (this.#child.stdio[3] ?? undefined) as Writable | undefined;
  }

  /** The child's PID, which is also its process group id (undefined if spawn failed). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Resolves when the direct child has exited. */
  get exit(): Promise<ChildExit> {
    return this.#exit;
  }

  /** The direct child's exit, once it happened. */
  get exited(): ChildExit | undefined {
    return this.#exited;
  }

  /** Sends `signal` to the whole group; false if nothing was there to receive it. */
  signal(signal: NodeJS.Signals): boolean {
    const pid = this.#child.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops the group: `signal` (default SIGTERM) to every member, then SIGKILL once `graceMs`
   * has passed or at `killByMs` (performance.now() scale), whichever is first; resolves when
   * the direct child has exited and no live process is left in the group.
   */
  async stop(options: { signal?: NodeJS.Signals; graceMs: number; killByMs?: number }): Promise<ChildExit> {
    const pid = this.#child.pid;
    if (pid === undefined) return this.#exit;
    const killAt = Math.min(performance.now() + options.graceMs, options.killByMs ?? Infinity);
    if (performance.now() < killAt) this.signal(options.signal ?? 'SIGTERM');
    let killedAt: number | undefined;
    for (;;) {
      if (this.#exited !== undefined && !groupAlive(pid)) break;
      const now = performance.now();
      if (killedAt === undefined && now >= killAt) {
        this.signal('SIGKILL');
        killedAt = now;
      }
      // A process stuck in uninterruptible sleep cannot be waited for forever.
      if (killedAt !== undefined && now - killedAt > 2_000) break;
      const wait = killedAt !== undefined ? 5 : Math.max(1, Math.min(20, killAt - now));
      await Promise.race([sleep(wait), this.#exited ? undefined : this.#exit]);
    }
    return this.#exited ?? { code: null, signal: 'SIGKILL' };
  }
}
