/** A command: takes the argv after its verb, returns the process exit code. */
export type Command = (argv: string[]) => Promise<number>;

/**
 * Every `warden` verb, loaded lazily so `warden mfsymlink` never pays for etcd's gRPC
 * stack. Add one line per command file.
 */
export const commands: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./demo.js')).demo,
  elect: async () => (await import('./elect.js')).elect,
};

/** One-line descriptions for `warden --help`. */
export const summaries: Record<string, string> = {
  demo: 'run a local demo of leader election (in-memory backend)',
  elect: 'run a command only while this process leads an election (or holds a lock) in etcd',
};
