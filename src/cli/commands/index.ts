/** A command: takes the argv after its verb, returns the process exit code. */
export type Command = (argv: string[]) => Promise<number>;

/**
 * Every `warden` verb, loaded lazily so `warden mfsymlink` never pays for etcd's gRPC
 * stack. Add one line per command file.
 */
export const commands: Record<string, () => Promise<Command>> = {
  'cluster-demo': async () => (await import('./cluster-demo.js')).clusterDemo,
  demo: async () => (await import('./demo.js')).demo,
  doctor: async () => (await import('./doctor.js')).doctor,
  serve: async () => (await import('./serve.js')).serve,
  publish: async () => (await import('./publish.js')).publish,
  get: async () => (await import('./get.js')).get,
  ls: async () => (await import('./ls.js')).ls,
  alias: async () => (await import('./alias.js')).alias,
  token: async () => (await import('./token.js')).token,
  mfsymlink: async () => (await import('./mfsymlink.js')).mfsymlink,
  elect: async () => (await import('./elect.js')).elect,
  status: async () => (await import('./status.js')).status,
};

/** One-line descriptions for `warden --help`. */
export const summaries: Record<string, string> = {
  'cluster-demo': 'run a local 3-member etcd and 3 nodes on loopback and watch partition leadership',
  demo: 'run a local demo of leader election (in-memory backend)',
  doctor: 'check the runtime: service-account token, data dir file system, etcd, clock',
  serve: 'serve versioned files from a data directory over HTTP',
  publish: 'upload a file as OWNER/NAME VERSION',
  get: 'download OWNER/NAME[@VERSION|@ALIAS], verifying its sha256',
  ls: 'list the versions and aliases of OWNER/NAME',
  alias: 'point OWNER/NAME ALIAS at VERSION (compare-and-set with --if-match)',
  token: 'create a token and its tokens-file entry',
  mfsymlink: 'read, create, check and convert Minshall+French (XSym) symlinks',
  elect: 'run a command only while this process leads an election (or holds a lock) in etcd',
  status: 'show cluster members, partition leaders and fencing tokens, etcd health',
};
