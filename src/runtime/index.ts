export { anyFailed, formatBytes, formatCheck } from './check.js';
export type { CheckResult, CheckStatus } from './check.js';
export { checkDataFileSystem, checkDataSymlinks, checkDataWritable, checkFreeSpace } from './data-dir.js';
export type { DataDirCheckOptions } from './data-dir.js';
export { ERROR_CODES, RuntimeError, ServiceAccountTokenError } from './errors.js';
export { checkEtcd, fetchEtcdVersion } from './etcd-version.js';
export type { EtcdCheckOptions, EtcdVersion } from './etcd-version.js';
export { checkClock, checkServiceAccountToken, checkUser, CLOCK_FLOOR_MS } from './host.js';
export { DEFAULT_MOUNTINFO_PATH, findMount, hasMfsymlinks, isCifs, parseMountinfo, readMountinfo } from './mountinfo.js';
export type { MountEntry } from './mountinfo.js';
export { runSelfChecks } from './self-check.js';
export type { SelfCheckOptions } from './self-check.js';
export {
  assertNoServiceAccountToken,
  DEFAULT_SECRET_ROOTS,
  describeServiceAccountFinding,
  detectServiceAccountToken,
  isServiceAccountMount,
  SERVICE_ACCOUNT_FILES,
} from './service-account.js';
export type { DetectServiceAccountTokenOptions, ServiceAccountDetection } from './service-account.js';
