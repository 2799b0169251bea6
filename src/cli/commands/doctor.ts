/**
 * `warden doctor`: runs the runtime self-checks and prints one line per check; exit 1 when any
 * fails (warnings do not fail).
 */
import { parseArgs } from 'node:util';
import { anyFailed, formatCheck, runSelfChecks, type SelfCheckOptions } from 'warden/runtime';

const HELP = `Usage: warden doctor [--data DIR] [--etcd URL[,URL…]]

Checks the runtime and prints one line per check (OK, WARN, FAIL, SKIP):
  service-account-token  a Kubernetes service-account token is mounted (FAIL)
  user                   running as root (WARN)
  clock                  the wall clock is not set
  data-fs                the data dir's file system; CIFS/SMB without mfsymlinks (WARN)
  data-symlinks          whether native symlinks work in the data dir (probe)
  data-writable          create, fsync and remove a file in the data dir
  data-clock             file times on the data dir's server agree with this clock
  data-free-space        free space on the data dir's file system
  etcd                   each etcd endpoint answers GET /version, 3.4 or later
Exit status: 0 when nothing failed, 1 otherwise, 2 on bad usage.

Options:
  --data DIR         data directory (env WARDEN_DATA)
  --etcd URL,…       etcd client URLs (env WARDEN_ETCD)
  -h, --help         show this help
`;

/** What `warden doctor` was asked to do: print help, or run the checks with these options. */
export type DoctorInvocation = { help: true } | { help: false; options: SelfCheckOptions };

/** Maps argv and the environment to the checks' options; pure, so it is tested apart. */
export function parseDoctorArgs(argv: string[], env: NodeJS.ProcessEnv = {}): DoctorInvocation {
  const { values } = parseArgs({
    args: argv,
    options: { data: { type: 'string' }, etcd: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return { help: true };
  const data = values.data ?? env.WARDEN_DATA;
  const etcd = values.etcd ?? env.WARDEN_ETCD ?? '';
  const etcdEndpoints = etcd.split(',').map((url) => url.trim()).filter((url) => url !== '');
  return { help: false, options: { ...(data === undefined || data === '' ? {} : { dataDir: data }), etcdEndpoints } };
}

/** Runs `warden doctor`. */
export async function doctor(argv: string[]): Promise<number> {
  let invocation: DoctorInvocation;
  try {
    invocation = parseDoctorArgs(argv, process.env);
  } catch (error) {
    process.stderr.write(`warden doctor: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (invocation.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const results = await runSelfChecks(invocation.options);
  const width = Math.max(...results.map((result) => result.id.length));
  for (const result of results) process.stdout.write(`${formatCheck(result, width)}\n`);
  return anyFailed(results) ? 1 : 0;
}
