import type { CheckResult } from './check.js';
import { checkDataFileSystem, checkDataSymlinks, checkDataWritable, checkFreeSpace, type DataDirCheckOptions } from './data-dir.js';
import { checkEtcd, type EtcdCheckOptions } from './etcd-version.js';
import { checkClock, checkServiceAccountToken, checkUser } from './host.js';
import type { DetectServiceAccountTokenOptions } from './service-account.js';

/** Options of {@link runSelfChecks}: every path and clock is injectable for tests. */
export interface SelfCheckOptions extends DataDirCheckOptions, Omit<EtcdCheckOptions, 'signal'> {
  /** The data directory to check; data checks are skipped when absent. */
  dataDir?: string;
  /** etcd client URLs; the etcd check is skipped when empty (single node, in-process election). */
  etcdEndpoints?: readonly string[];
  /** Service-account directories to look in. Default the kubelet's two paths. */
  secretRoots?: DetectServiceAccountTokenOptions['secretRoots'];
  /** Returns the effective user id. Default `process.getuid`. */
  getuid?: () => number;
  /** Cancels the checks. */
  signal?: AbortSignal;
}

/**
 * Runs every runtime self-check and returns one result per line of `warden doctor`, in a fixed
 * order: credentials, user, clock, data directory, etcd.
 */
export async function runSelfChecks(options: SelfCheckOptions = {}): Promise<CheckResult[]> {
  const { dataDir, etcdEndpoints = [], signal } = options;
  const results: CheckResult[] = [];
  results.push(
    await checkServiceAccountToken({
      ...(options.secretRoots === undefined ? {} : { secretRoots: options.secretRoots }),
      ...(options.mountinfoPath === undefined ? {} : { mountinfoPath: options.mountinfoPath }),
      ...(signal === undefined ? {} : { signal }),
    }),
  );
  results.push(checkUser(options.getuid ?? process.getuid?.bind(process) ?? null));
  results.push(checkClock(options.now));
  signal?.throwIfAborted();
  if (dataDir === undefined) {
    results.push({ id: 'data', status: 'skip', message: 'no data dir given (--data DIR or WARDEN_DATA)' });
  } else {
    const fs = await checkDataFileSystem(dataDir, options);
    results.push(fs);
    if (fs.status !== 'fail') {
      results.push(await checkDataSymlinks(dataDir));
      results.push(...(await checkDataWritable(dataDir, options)));
      results.push(await checkFreeSpace(dataDir, options));
    }
  }
  signal?.throwIfAborted();
  if (etcdEndpoints.length === 0) {
    results.push({ id: 'etcd', status: 'skip', message: 'no etcd endpoints given (--etcd URL,… or WARDEN_ETCD): single node, in-process election' });
  } else {
    results.push(...(await checkEtcd(etcdEndpoints, options)));
  }
  return results;
}
