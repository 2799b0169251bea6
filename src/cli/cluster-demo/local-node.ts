/**
 * A `warden serve --etcd …` child process on loopback, for `warden cluster-demo` and
 * `bench/cluster`: started with the same CLI a user runs, resolved once it printed its URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** Options of {@link startLocalNode}. */
export interface LocalNodeOptions {
  id: string;
  data: string;
  tokens: string;
  /** etcd endpoints; empty = a single node without etcd. */
  etcd: string[];
  partitions: number;
  ttlS: number;
  zone?: string;
  /** Fixed port (a restart reuses its port). Default 0 = any. */
  port?: number;
  /** Where the node's NDJSON logs go (appended). Default: discarded. */
  logFile?: string;
  /** Extra `serve` flags. */
  extraArgs?: string[];
  /** Start-up timeout, ms. Default 30000. */
  startTimeoutMs?: number;
}

/** A running node process. */
export interface LocalNode {
  readonly id: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** SIGTERM (graceful: partitions handed over), SIGKILL after `graceMs`; waits for exit. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (a crash); waits for exit. */
  kill(): Promise<void>;
}

/** Starts a node and resolves once it listens; rejects (and kills it) if it does not. */
export async function startLocalNode(options: LocalNodeOptions): Promise<LocalNode> {
  const args = [MAIN, 'serve', '--data', options.data, '--port', String(options.port ?? 0), '--host', '127.0.0.1', '--tokens', options.tokens, '--node-id', options.id, '--partitions', String(options.partitions), '--ttl', String(options.ttlS), '--drain-timeout', '10'];
  if (options.etcd.length > 0) args.push('--etcd', options.etcd.join(','));
  if (options.zone) args.push('--zone', options.zone);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  let head = '';
  child.stdout!.on('data', (c: Buffer) => {
    if (head.length < 10_000) head += c.toString();
    log?.write(c);
  });
  child.stderr!.on('data', (c: Buffer) => {
    if (head.length < 10_000) head += c.toString();
    log?.write(c);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve())).then(() => new Promise<void>((resolve) => (log ? log.end(resolve) : resolve())));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = async (): Promise<void> => {
    if (alive()) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await exited;
  };
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (alive()) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${options.id} did not start in time: ${head.slice(-500)}`)), options.startTimeoutMs ?? 30_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(head);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`node ${options.id} exited during start-up: ${head.slice(-500)}`));
    });
  }).catch(async (error: unknown) => {
    await kill();
    throw error;
  });
  return { id: options.id, url, pid: child.pid ?? 0, child, exited, stop, kill };
}
