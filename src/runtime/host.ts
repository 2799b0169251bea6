import type { CheckResult } from './check.js';
import { describeServiceAccountFinding, detectServiceAccountToken, type DetectServiceAccountTokenOptions } from './service-account.js';

/** Earliest plausible wall-clock time (2025-01-01): a clock before it was never set. */
export const CLOCK_FLOOR_MS = Date.UTC(2025, 0, 1);

/** Reports a mounted service-account token as a failure, with the manifest fix. */
export async function checkServiceAccountToken(options: DetectServiceAccountTokenOptions = {}): Promise<CheckResult> {
  const id = 'service-account-token';
  const detection = await detectServiceAccountToken(options);
  if (detection.found) return { id, status: 'fail', message: describeServiceAccountFinding(detection.evidence).replace(/\n/g, ' ') };
  return { id, status: 'ok', message: 'no Kubernetes service-account token mounted' };
}

/** Checks that the wall clock looks set (after 2025, before 2100). Lease timing uses the monotonic clock. */
export function checkClock(now: () => number = Date.now): CheckResult {
  const id = 'clock';
  const time = now();
  if (!Number.isFinite(time) || time < CLOCK_FLOOR_MS || time > Date.UTC(2100, 0, 1)) {
    return { id, status: 'fail', message: `the wall clock reads ${new Date(time).toISOString()}: set the time (NTP); version timestamps would be wrong` };
  }
  return { id, status: 'ok', message: `wall clock ${new Date(time).toISOString()}` };
}

/** Warns when running as root (`getuid` null: a platform without user ids): Warden needs no privilege (the image runs as UID 10001). */
export function checkUser(getuid: (() => number) | null = process.getuid?.bind(process) ?? null): CheckResult {
  const id = 'user';
  if (getuid === null) return { id, status: 'skip', message: 'no user ids on this platform' };
  const uid = getuid();
  if (uid === 0) return { id, status: 'warn', message: 'running as root: run as an unprivileged user (the image uses UID 10001; Kubernetes: runAsNonRoot)' };
  return { id, status: 'ok', message: `running as uid ${uid}` };
}
