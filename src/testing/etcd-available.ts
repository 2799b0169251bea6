import { requirableSuiteOptions } from './suite-options.js';
import { findBinary } from './find-binary.js';

/** Finds the `etcd` binary (WARDEN_ETCD_BIN, else PATH and the usual system folders), or returns undefined. */
export function findEtcdBinary(): string | undefined {
  return process.env['WARDEN_ETCD_BIN'] || findBinary('etcd');
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
