/** How a check came out: `fail` makes `warden doctor` exit 1; `warn` does not. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** The outcome of one runtime self-check: one line of `warden doctor`. */
export interface CheckResult {
  /** Stable, short identifier (`service-account-token`, `data-fs`, `etcd`, …). */
  readonly id: string;
  readonly status: CheckStatus;
  /** One line saying what was found and, when not ok, what to do. */
  readonly message: string;
}

/** Formats one result as a `warden doctor` line: `FAIL  etcd  …`. */
export function formatCheck(result: CheckResult, idWidth = 22): string {
  return `${result.status.toUpperCase().padEnd(4)}  ${result.id.padEnd(idWidth)}  ${result.message}`;
}

/** Says whether any result failed (the exit status of `warden doctor`). */
export function anyFailed(results: readonly CheckResult[]): boolean {
  return results.some((result) => result.status === 'fail');
}

/** Formats bytes as a short human figure (`1.5 GiB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
