import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEtcdBinary } from './etcd-available.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

/** One throwaway etcd member started by a test. */
export interface EtcdMember {
  readonly name: string;
  /** Client URL, e.g. `http://127.0.0.1:23791`. */
  readonly clientUrl: string;
  readonly clientPort: number;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** PID of the running process, or undefined while stopped. */
  readonly pid: number | undefined;
  /** SIGKILLs the member (no graceful shutdown); its data dir stays for `restart()`. */
  kill(): Promise<void>;
  /** SIGTERMs the member and waits for it to exit. */
  stop(): Promise<void>;
  /** SIGSTOPs the member: sockets stay open, nothing is answered. */
  pause(): void;
  /** SIGCONTs a paused member. */
  resume(): void;
  /** Starts a stopped or killed member again on the same ports and data dir. */
  restart(): Promise<void>;
}

/** A single etcd or a cluster of members; `close()` kills all and deletes the data dirs. */
export interface EtcdCluster extends AsyncDisposable {
  readonly members: readonly EtcdMember[];
  /** Client URLs of every member, in member order. */
  readonly endpoints: string[];
  /** Kills every member and removes every data dir; idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startEtcd} and {@link startEtcdCluster}. */
export interface StartEtcdOptions {
  /** Raft heartbeat interval in ms (etcd default 100). */
  heartbeatMs?: number;
  /** Raft election timeout in ms (etcd default 1000); the lease TTL minimum is 1.5 × this. */
  electionTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;

// A test that crashes must not leave etcd processes or data dirs behind.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

interface MemberPlan {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
}

class Member implements EtcdMember {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';
  readonly clientUrl: string;
  readonly peerUrl: string;

  constructor(
    readonly plan: MemberPlan,
    private readonly initialCluster: string,
    private readonly binary: string,
    private readonly options: StartEtcdOptions,
  ) {
    this.clientUrl = `http://127.0.0.1:${plan.clientPort}`;
    this.peerUrl = `http://127.0.0.1:${plan.peerPort}`;
  }

  get name(): string {
    return this.plan.name;
  }
  get clientPort(): number {
    return this.plan.clientPort;
  }
  get dataDir(): string {
    return this.plan.dataDir;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  spawn(): void {
    const args = [
      '--name', this.plan.name,
      '--data-dir', this.plan.dataDir,
      '--listen-client-urls', this.clientUrl,
      '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', this.peerUrl,
      '--initial-advertise-peer-urls', this.peerUrl,
      '--initial-cluster', this.initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `warden-test-${process.pid}`,
      '--heartbeat-interval', String(this.options.heartbeatMs ?? 100),
      '--election-timeout', String(this.options.electionTimeoutMs ?? 1000),
      '--logger', 'zap',
      '--log-level', 'error',
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    live.add(child);
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get lastStderr(): string {
    return this.#stderr;
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await this.#exited;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await this.#exited;
  }

  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    if (this.#child) await this.stop();
    this.spawn();
  }
}

async function isHealthy(clientUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

/** Waits until a member answers `/health` with `true` (it has a raft leader). */
export async function waitHealthy(member: EtcdMember, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => isHealthy(member.clientUrl), { timeoutMs, intervalMs: 50, what: `etcd ${member.name} healthy` });
}

async function launch(size: number, options: StartEtcdOptions): Promise<EtcdCluster> {
  const binary = findEtcdBinary();
  if (binary === undefined) throw new Error('etcd binary not found (apt-get install -y etcd-server)');
  installExitHook();
  const plans: MemberPlan[] = [];
  for (let i = 0; i < size; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-etcd-'));
    dirs.add(dataDir);
    plans.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort(), dataDir });
  }
  const initialCluster = plans.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(',');
  const members = plans.map((plan) => new Member(plan, initialCluster, binary, options));
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await Promise.all(members.map((m) => m.kill()));
      for (const plan of plans) {
        rmSync(plan.dataDir, { recursive: true, force: true });
        dirs.delete(plan.dataDir);
      }
    })());
  try {
    for (const member of members) member.spawn();
    await Promise.all(
      members.map(async (member) => {
        await waitFor(
          async () => {
            if (!member.running) throw new Error(`etcd ${member.name} exited: ${member.lastStderr}`);
            return await isHealthy(member.clientUrl);
          },
          { timeoutMs: 20_000, intervalMs: 50, what: `etcd ${member.name} healthy` },
        );
      }),
    );
  } catch (error) {
    await close();
    throw error;
  }
  return {
    members,
    endpoints: members.map((m) => m.clientUrl),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Starts one throwaway etcd on free loopback ports with a temp data dir.
 *
 * Retries on a port race. The returned cluster has one member; `close()` kills it and
 * removes its data.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  return await withRetry(() => launch(1, options));
}

/** Starts a throwaway etcd cluster of `size` members (default 3) on loopback. */
export async function startEtcdCluster(size = 3, options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  return await withRetry(() => launch(size, options));
}

async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await fn();
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
