/**
 * A throwaway multi-member etcd on loopback for `warden cluster-demo` and `bench/cluster`:
 * spawns the etcd binary per member with a data dir under a folder the caller owns, waits
 * until every member reports healthy, and stops them all (SIGTERM, then SIGKILL). The test
 * helpers in src/testing do the same for tests; the CLI may not import them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Finds `etcd`: WARDEN_ETCD_BIN, then PATH, /usr/bin, /usr/local/bin; undefined if absent. */
export function findEtcd(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.WARDEN_ETCD_BIN) return env.WARDEN_ETCD_BIN;
  for (const dir of [...(env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'etcd'), constants.X_OK);
      return join(dir, 'etcd');
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** One member of a {@link LocalEtcd}. */
export interface LocalEtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly pid: number;
  readonly child: ChildProcess;
}

/** A running local etcd cluster. */
export interface LocalEtcd extends AsyncDisposable {
  readonly members: readonly LocalEtcdMember[];
  readonly endpoints: string[];
  /** SIGTERMs every member (SIGKILL after `graceMs`) and waits for them to exit. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** Options of {@link startLocalEtcd}. */
export interface LocalEtcdOptions {
  /** Folder for the members' data dirs (created if missing); the caller removes it. */
  dir: string;
  /** Members. Default 3. */
  size?: number;
  /** etcd binary. Default {@link findEtcd}. */
  binary?: string;
  /** How long to wait for every member to be healthy, in ms. Default 20000. */
  startTimeoutMs?: number;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

async function exitOf(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Starts `size` etcd members on free loopback ports; rejects (leaving nothing running) on failure. */
export async function startLocalEtcd(options: LocalEtcdOptions): Promise<LocalEtcd> {
  const binary = options.binary ?? findEtcd();
  if (!binary) throw new Error('etcd not found: install it (apt-get install -y etcd-server) or set WARDEN_ETCD_BIN');
  const size = options.size ?? 3;
  const plans = [];
  for (let i = 0; i < size; i++) plans.push({ name: `etcd-${i}`, client: await freeLoopbackPort(), peer: await freeLoopbackPort(), dataDir: join(options.dir, `etcd-${i}`) });
  const initialCluster = plans.map((p) => `${p.name}=http://127.0.0.1:${p.peer}`).join(',');
  const members: LocalEtcdMember[] = [];
  let closed: Promise<void> | undefined;
  const close = (graceMs = 5000): Promise<void> => (closed ??= Promise.all(members.map((m) => exitOf(m.child, graceMs))).then(() => undefined));
  try {
    for (const plan of plans) {
      await mkdir(plan.dataDir, { recursive: true });
      const clientUrl = `http://127.0.0.1:${plan.client}`;
      const peerUrl = `http://127.0.0.1:${plan.peer}`;
      const child = spawn(
        binary,
        [
          '--name', plan.name, '--data-dir', plan.dataDir,
          '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
          '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
          '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
          '--initial-cluster-token', `warden-demo-${process.pid}`, '--logger', 'zap', '--log-level', 'error',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
      child.once('exit', (code, signal) => {
        if (!closed) process.emitWarning(`etcd ${plan.name} exited (${signal ?? code}): ${stderr.trim().split('\n').at(-1) ?? ''}`);
      });
      members.push({ name: plan.name, clientUrl, pid: child.pid ?? 0, child });
    }
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    for (const member of members) {
      while (!(await healthy(member.clientUrl))) {
        if (member.child.exitCode !== null || member.child.signalCode !== null) throw new Error(`etcd ${member.name} exited during start-up`);
        if (Date.now() > deadline) throw new Error(`etcd ${member.name} not healthy in time`);
        await sleep(100);
      }
    }
  } catch (error) {
    await close(1000);
    throw error;
  }
  return { members, endpoints: members.map((m) => m.clientUrl), close, [Symbol.asyncDispose]: () => close() };
}
