/** A command: takes the argv after its verb, returns the process exit code. */
export type Command = (argv: string[]) => Promise<number>;

/**
 * Every `warden` verb, loaded lazily so `warden mfsymlink` never pays for etcd's gRPC
 * stack. Add one line per command file.
 */
export const commands: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./demo.js')).demo,
  doctor: async () => (await import('./doctor.js')).doctor,
  mfsymlink: async () => (await import('./mfsymlink.js')).mfsymlink,
};

/** One-line descriptions for `warden --help`. */
export const summaries: Record<string, string> = {
  demo: 'run a local demo of leader election (in-memory backend)',
  doctor: 'check the runtime: service-account token, data dir file system, etcd, clock',
  mfsymlink: 'read, create, check and convert Minshall+French (XSym) symlinks',
};
