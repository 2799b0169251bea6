/**
 * Options for `describe` of a suite that needs something this machine may lack (etcd,
 * FUSE, Samba): skipped with `reason` when it is missing, but an error instead when CI is
 * set or `requireEnv` is `1`, so CI can never pass by skipping.
 */
export function requirableSuiteOptions(reason: string | undefined, requireEnv: string): { skip?: string } {
  if (reason === undefined) return {};
  if (process.env['CI'] === 'true' || process.env[requireEnv] === '1') {
    throw new Error(`${reason} (CI=true or ${requireEnv}=1 forbids skipping)`);
  }
  return { skip: reason };
}
