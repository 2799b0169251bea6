import type { CheckResult } from './check.js';
import { RuntimeError } from './errors.js';

/** What etcd's `GET /version` returns (etcd 3.x). */
export interface EtcdVersion {
  readonly etcdserver: string;
  readonly etcdcluster: string;
  /** The server's `Date` header in ms since the epoch, when it sent one (for clock comparison). */
  readonly serverDateMs?: number;
}

/** Options of {@link fetchEtcdVersion} and {@link checkEtcd}. */
export interface EtcdCheckOptions {
  /** Per-endpoint time limit, in milliseconds. Default 3000. */
  timeoutMs?: number;
  /** Oldest etcd server version accepted, `major.minor`. Default `3.4`. */
  minVersion?: string;
  /** Tolerated difference between etcd's clock and this one, in ms. Default 30000. */
  maxClockSkewMs?: number;
  /** The wall clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Cancels the checks. */
  signal?: AbortSignal;
}

function versionUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new RuntimeError('WARDEN_ERR_RUNTIME_BAD_OPTION', `etcd endpoint ${JSON.stringify(endpoint)} is not a URL`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RuntimeError('WARDEN_ERR_RUNTIME_BAD_OPTION', `etcd endpoint ${endpoint} must be http:// or https://`);
  }
  return new URL('/version', url);
}

/**
 * Asks one etcd member for its version with a plain HTTP GET of `<endpoint>/version` (served on
 * the client URL by etcd 3.4 and later), so no gRPC stack is needed.
 */
export async function fetchEtcdVersion(endpoint: string, options: EtcdCheckOptions = {}): Promise<EtcdVersion> {
  const url = versionUrl(endpoint);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 3_000);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const response = await fetch(url, { signal });
  const body = (await response.json()) as Partial<EtcdVersion>;
  if (!response.ok || typeof body.etcdserver !== 'string') {
    throw new Error(`${url.href} answered ${response.status} without an etcd version`);
  }
  const date = Date.parse(response.headers.get('date') ?? '');
  return {
    etcdserver: body.etcdserver,
    etcdcluster: typeof body.etcdcluster === 'string' ? body.etcdcluster : 'unknown',
    ...(Number.isNaN(date) ? {} : { serverDateMs: date }),
  };
}

function atLeast(version: string, min: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/** Checks every etcd endpoint: reachable, recent enough, clock close to this one. One result per endpoint. */
export async function checkEtcd(endpoints: readonly string[], options: EtcdCheckOptions = {}): Promise<CheckResult[]> {
  const now = options.now ?? Date.now;
  const min = options.minVersion ?? '3.4';
  const maxSkew = options.maxClockSkewMs ?? 30_000;
  return Promise.all(
    endpoints.map(async (endpoint): Promise<CheckResult> => {
      const id = 'etcd';
      const sent = now();
      let version: EtcdVersion;
      try {
        version = await fetchEtcdVersion(endpoint, options);
      } catch (error) {
        if (error instanceof RuntimeError) return { id, status: 'fail', message: error.message };
        const reason = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
        return { id, status: 'fail', message: `${endpoint} unreachable: ${reason}` };
      }
      const received = now();
      const what = `${endpoint} etcd ${version.etcdserver} (cluster ${version.etcdcluster})`;
      if (!atLeast(version.etcdserver, min)) return { id, status: 'fail', message: `${what}: Warden needs etcd ${min} or later` };
      if (version.serverDateMs !== undefined) {
        // The Date header has 1 s resolution and was stamped somewhere between send and receive.
        const skew = version.serverDateMs < sent - 1_000 ? version.serverDateMs - sent : version.serverDateMs > received + 1_000 ? version.serverDateMs - received : 0;
        if (Math.abs(skew) > maxSkew) {
          return { id, status: 'warn', message: `${what}; its clock is ${Math.round(skew / 1000)} s off this one: sync clocks (NTP)` };
        }
      }
      return { id, status: 'ok', message: what };
    }),
  );
}
