import { hostname } from 'node:os';
import { parseArgs } from 'node:util';

/** What `warden elect run` contends for: a named election or a named lock. */
export type ElectTarget = { kind: 'election'; name: string } | { kind: 'lock'; name: string };

/** Options of `warden elect run`, after validation. Times are in milliseconds. */
export interface ElectRunOptions {
  /** etcd client URLs (`--etcd`, or `WARDEN_ETCD`). */
  endpoints: string[];
  /** `--name NAME` (election) or `--lock NAME` (mutex). */
  target: ElectTarget;
  /** Lease TTL (`--ttl S`, whole seconds, 2–3600). Default 10 000 ms. */
  ttlMs: number;
  /** This candidate's id, published as the election value (`--id`). Default `<hostname>-<pid>`. */
  id: string;
  /**
   * Longest wait between SIGTERM and SIGKILL of the child's process group (`--grace S`).
   * Default 5 000 ms. On leadership loss it is cut short so the group is dead by the lease
   * deadline.
   */
  graceMs: number;
  /**
   * Give up (exit 1) when no session could be started this long after start-up
   * (`--connect-timeout S`). Default 10 000 ms. Later outages are waited out instead.
   */
  connectTimeoutMs: number;
  /** The command to run while leading, and its arguments (everything after `--`). */
  command: string;
  args: string[];
}

/** The outcome of parsing argv: options to run, a request for help, or a usage error. */
export type ParsedElectArgs =
  | { kind: 'run'; options: ElectRunOptions }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/** Help text of `warden elect`. */
export const ELECT_USAGE = `Usage: warden elect run --etcd URL[,URL...] (--name NAME | --lock NAME) [options] -- CMD [ARGS...]

Runs CMD only while this process leads the election NAME (or holds the lock NAME) in etcd.
CMD runs in its own process group with WARDEN_FENCING_TOKEN, WARDEN_LEADER_ID,
WARDEN_LEADER_KEY and WARDEN_LEASE_ID in its environment. It is stopped (SIGTERM to its
group, SIGKILL after the grace period) the moment leadership ends, and killed by a watchdog
process at the lease deadline even if this process is paused or killed.
Prints 'LEADER <iso-time>' and 'FOLLOWER <iso-time>' lines on stderr.

Options:
  --etcd URL[,URL...]  etcd client URLs (env WARDEN_ETCD)
  --name NAME          election to take part in
  --lock NAME          lock to hold instead (exactly one of --name, --lock)
  --ttl S              lease TTL in whole seconds, 2-3600 (default 10)
  --id ID              this candidate's id (default <hostname>-<pid>)
  --grace S            seconds between SIGTERM and SIGKILL of CMD (default 5)
  --connect-timeout S  exit 1 if etcd cannot be reached this long after start-up (default 10)
  -h, --help           show this help

Exit codes:
  0    resigned after SIGTERM/SIGINT, or CMD exited 0 by itself
  1    runtime error (etcd unreachable at start-up, watchdog failure, ...)
  2    usage error
  N    CMD exited by itself with code N (128+signal if it was killed): the CLI resigns and exits N
`;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ID_PATTERN = /^[\x21-\x7e]{1,256}$/;
const MIN_TTL_S = 2;
const MAX_TTL_S = 3600;
const MAX_GRACE_S = 3600;

/**
 * Maps the argv after `warden elect` (and the environment) to options, without side effects.
 *
 * Everything after the first `--` is the command, so its own flags are never parsed here.
 */
export function parseElectArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  defaults: { hostname?: string; pid?: number } = {},
): ParsedElectArgs {
  const [sub, ...rest] = argv;
  if (sub === undefined) return { kind: 'error', message: "missing subcommand: expected 'run'" };
  if (sub === '--help' || sub === '-h' || sub === 'help') return { kind: 'help' };
  if (sub !== 'run') return { kind: 'error', message: `unknown subcommand '${sub}': expected 'run'` };

  const dashDash = rest.indexOf('--');
  const flags = dashDash === -1 ? rest : rest.slice(0, dashDash);
  const commandLine = dashDash === -1 ? [] : rest.slice(dashDash + 1);

  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: flags,
      strict: true,
      allowPositionals: true,
      options: {
        etcd: { type: 'string' },
        name: { type: 'string' },
        lock: { type: 'string' },
        ttl: { type: 'string' },
        id: { type: 'string' },
        grace: { type: 'string' },
        'connect-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
  if (values['help'] === true) return { kind: 'help' };
  if (positionals.length > 0) {
    return { kind: 'error', message: `unexpected argument '${positionals[0]}': put the command after '--'` };
  }

  const etcd = str(values['etcd']) ?? env['WARDEN_ETCD'];
  if (etcd === undefined || etcd.trim() === '') return { kind: 'error', message: 'missing --etcd URL[,URL...] (or WARDEN_ETCD)' };
  const endpoints = etcd.split(',').map((url) => url.trim()).filter((url) => url !== '');
  for (const url of endpoints) {
    const problem = checkEndpoint(url);
    if (problem) return { kind: 'error', message: `invalid --etcd URL '${url}': ${problem}` };
  }
  if (endpoints.length === 0) return { kind: 'error', message: 'missing --etcd URL[,URL...] (or WARDEN_ETCD)' };

  const name = str(values['name']);
  const lock = str(values['lock']);
  if (name !== undefined && lock !== undefined) return { kind: 'error', message: '--name and --lock are exclusive: give one' };
  if (name === undefined && lock === undefined) return { kind: 'error', message: 'missing --name NAME (or --lock NAME)' };
  const targetName = (name ?? lock) as string;
  const flag = name !== undefined ? '--name' : '--lock';
  if (!NAME_PATTERN.test(targetName)) {
    return { kind: 'error', message: `invalid ${flag} '${targetName}': use 1-128 of A-Z a-z 0-9 . _ - (starting with a letter or digit)` };
  }
  const target: ElectTarget = name !== undefined ? { kind: 'election', name: targetName } : { kind: 'lock', name: targetName };

  const ttl = str(values['ttl']);
  let ttlMs = 10_000;
  if (ttl !== undefined) {
    if (!/^\d+$/.test(ttl)) return { kind: 'error', message: `invalid --ttl '${ttl}': whole seconds, ${MIN_TTL_S}-${MAX_TTL_S}` };
    const seconds = Number(ttl);
    if (seconds < MIN_TTL_S || seconds > MAX_TTL_S) {
      return { kind: 'error', message: `--ttl ${ttl} out of range: ${MIN_TTL_S}-${MAX_TTL_S} seconds (etcd's minimum lease TTL is 2 s)` };
    }
    ttlMs = seconds * 1000;
  }

  const grace = str(values['grace']);
  let graceMs = 5_000;
  if (grace !== undefined) {
    if (!/^\d+(\.\d{1,3})?$/.test(grace) || Number(grace) > MAX_GRACE_S) {
      return { kind: 'error', message: `invalid --grace '${grace}': seconds, 0-${MAX_GRACE_S} (up to 3 decimals)` };
    }
    graceMs = Math.round(Number(grace) * 1000);
  }

  const connect = str(values['connect-timeout']);
  let connectTimeoutMs = 10_000;
  if (connect !== undefined) {
    if (!/^\d+(\.\d{1,3})?$/.test(connect) || Number(connect) > MAX_GRACE_S) {
      return { kind: 'error', message: `invalid --connect-timeout '${connect}': seconds, 0-${MAX_GRACE_S} (up to 3 decimals)` };
    }
    connectTimeoutMs = Math.round(Number(connect) * 1000);
  }

  const id = str(values['id']) ?? `${defaults.hostname ?? hostname()}-${defaults.pid ?? process.pid}`;
  if (!ID_PATTERN.test(id)) return { kind: 'error', message: `invalid --id '${id}': 1-256 printable characters without spaces` };

  const [command, ...args] = commandLine;
  if (command === undefined || command === '') {
    return { kind: 'error', message: "missing command: put it after '--', e.g. -- my-job --flag" };
  }
  return { kind: 'run', options: { endpoints, target, ttlMs, id, graceMs, connectTimeoutMs, command, args } };
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function checkEndpoint(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL (expected http://host:port)';
  }
  // The etcd backend speaks plain gRPC over HTTP/2 without TLS.
  if (parsed.protocol !== 'http:') return `scheme '${parsed.protocol}' (expected http://host:port; TLS is not supported)`;
  if (parsed.port === '') return 'no port (expected http://host:port)';
  if (parsed.hostname === '') return 'no host';
  if (parsed.pathname !== '/' && parsed.pathname !== '') return 'no path allowed';
  return undefined;
}
