import { readFileSync } from 'node:fs';

/** Returns a process's state letter from /proc (R, S, T, Z…), or undefined once it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Tells whether a process has exited (gone, or a zombie its stopped parent has not reaped). */
export function isDead(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === 'Z' || state === 'X';
}
