import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { requirableSuiteOptions } from './suite-options.js';

/** Finds the `etcd` binary on PATH (or in /usr/bin, /usr/local/bin), or returns undefined. */
export function findEtcdBinary(): string | undefined {
  const explicit = process.env['WARDEN_ETCD_BIN'];
  if (explicit) return explicit;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

const HOW_TO_INSTALL =
  'etcd is not installed: install it (Debian/Ubuntu: `apt-get install -y etcd-server`; ' +
  'macOS: `brew install etcd`) or set WARDEN_ETCD_BIN to the binary';

/**
 * Options for `describe`/`test` of suites that need a real etcd.
 *
 * Without etcd the suite is skipped with a reason that says how to install it; with
 * `WARDEN_REQUIRE_ETCD=1` or `CI=true` a missing etcd is an error instead, so CI can never
 * pass by skipping the etcd suites.
 */
export function etcdSuiteOptions(): { skip?: string } {
  return requirableSuiteOptions(findEtcdBinary() === undefined ? HOW_TO_INSTALL : undefined, 'WARDEN_REQUIRE_ETCD');
}
