import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceAccountTokenError } from './errors.js';
import { DEFAULT_MOUNTINFO_PATH, readMountinfo, type MountEntry } from './mountinfo.js';

/** Where the kubelet mounts a pod's service-account credentials (`/var/run` is usually a link to `/run`). */
export const DEFAULT_SECRET_ROOTS: readonly string[] = Object.freeze([
  '/var/run/secrets/kubernetes.io/serviceaccount',
  '/run/secrets/kubernetes.io/serviceaccount',
]);

/** The files the kubelet puts in a service-account mount. */
export const SERVICE_ACCOUNT_FILES: readonly string[] = Object.freeze(['token', 'ca.crt', 'namespace']);

/** Options of {@link detectServiceAccountToken}. */
export interface DetectServiceAccountTokenOptions {
  /** Directories to look in for `token`, `ca.crt`, `namespace`. Default {@link DEFAULT_SECRET_ROOTS}. */
  secretRoots?: readonly string[];
  /** The mount table to scan. Default `/proc/self/mountinfo`; a missing file is not a finding. */
  mountinfoPath?: string;
  /** Cancels the detection. */
  signal?: AbortSignal;
}

/** What {@link detectServiceAccountToken} found. */
export interface ServiceAccountDetection {
  /** True when any evidence of mounted credentials was found. */
  readonly found: boolean;
  /** Each finding, human-readable: a file path, or `mount <point> (<fs> <root>)`. */
  readonly evidence: readonly string[];
}

/** Says whether a mount looks like the kubelet's service-account volume. */
export function isServiceAccountMount(entry: MountEntry): boolean {
  const segments = [...entry.mountPoint.split('/'), ...entry.root.split('/')];
  return (
    segments.includes('serviceaccount') ||
    segments.some((segment) => segment.startsWith('kube-api-access')) ||
    entry.source.includes('kube-api-access')
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    // EACCES still means something is there: count it rather than hide it.
    return (error as NodeJS.ErrnoException).code === 'EACCES';
  }
}

/**
 * Looks for a mounted Kubernetes service-account token: the credential files under the secret
 * roots, and service-account mounts in the mount table. `KUBERNETES_SERVICE_HOST` alone is
 * deliberately not evidence: Kubernetes sets it in every pod, token or not.
 */
export async function detectServiceAccountToken(options: DetectServiceAccountTokenOptions = {}): Promise<ServiceAccountDetection> {
  const { secretRoots = DEFAULT_SECRET_ROOTS, mountinfoPath = DEFAULT_MOUNTINFO_PATH, signal } = options;
  signal?.throwIfAborted();
  const evidence: string[] = [];
  for (const root of secretRoots) {
    for (const file of SERVICE_ACCOUNT_FILES) {
      const path = join(root, file);
      if (await exists(path)) evidence.push(path);
    }
  }
  let entries: MountEntry[] = [];
  // A line we cannot parse must not hide a token (nor stop the node): match it as text.
  const onMalformed = (line: string) => {
    if (/serviceaccount|kube-api-access/.test(line)) evidence.push(`mountinfo line ${JSON.stringify(line)}`);
  };
  try {
    entries = await readMountinfo({ mountinfoPath, signal, onMalformed });
  } catch (error) {
    // No /proc (macOS, some sandboxes): the file checks above still stand.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const entry of entries) {
    if (isServiceAccountMount(entry)) evidence.push(`mount ${entry.mountPoint} (${entry.fsType} ${entry.source}${entry.root === '/' ? '' : ` ${entry.root}`})`);
  }
  signal?.throwIfAborted();
  return { found: evidence.length > 0, evidence };
}

/** Explains a finding and how to fix the manifest; used by `warden serve` and `warden doctor`. */
export function describeServiceAccountFinding(evidence: readonly string[]): string {
  return [
    `a Kubernetes service-account token is mounted in this container (${evidence.join('; ')}).`,
    'Warden never calls the Kubernetes API (it coordinates through etcd); a mounted token only helps',
    'an attacker who breaks into the container to reach the cluster API.',
    'Fix the manifest: set `automountServiceAccountToken: false` on the ServiceAccount AND in the pod',
    'spec (spec.template.spec), and mount no projected serviceAccountToken volume (see docs/deploy.md).',
  ].join('\n');
}

/**
 * Refuses to run with a mounted service-account token: throws unless `allow` is set, in which
 * case it returns the detection so the caller can log a warning.
 *
 * @throws ServiceAccountTokenError `WARDEN_ERR_RUNTIME_SERVICE_ACCOUNT_TOKEN` when a token is found and not allowed.
 */
export async function assertNoServiceAccountToken(
  options: DetectServiceAccountTokenOptions & { allow?: boolean } = {},
): Promise<ServiceAccountDetection> {
  const detection = await detectServiceAccountToken(options);
  if (detection.found && options.allow !== true) {
    throw new ServiceAccountTokenError(
      `refusing to start: ${describeServiceAccountFinding(detection.evidence)}\n` +
        'To start anyway, pass --allow-service-account-token (or set WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN=1).',
      detection.evidence,
    );
  }
  return detection;
}
