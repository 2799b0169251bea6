/**
 * `warden cluster-demo`: a whole cluster on loopback for newcomers — a 3-member etcd and N
 * `warden serve --etcd` nodes sharing one temp DATA directory — with a live line each time
 * the partition leadership changes. Kill a node (`kill -9 PID`) to watch its partitions fail
 * over; Ctrl-C stops everything and removes every temp file.
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startLocalEtcd, type LocalEtcd } from '../cluster-demo/local-etcd.js';
import { startLocalNode, type LocalNode } from '../cluster-demo/local-node.js';
import { leaderRuns, type ClusterStatus } from './status.js';

const HELP = `Usage: warden cluster-demo [--nodes N] [--partitions P] [--ttl S] [--etcd-members M]

Starts a local etcd cluster and N Warden nodes on 127.0.0.1 sharing one temp data dir,
prints their URLs, a token that may write, and one line each time partition leadership
changes. Try: publish through one node, read from another, kill -9 a node's PID and watch
its partitions move within the TTL. Ctrl-C stops everything and removes the temp dir.

  --nodes N          Warden nodes (default 3)
  --partitions P     partitions (default 12)
  --ttl S            session TTL in seconds (default 5)
  --etcd-members M   etcd members (default 3)
  --interval MS      how often the leadership is polled (default 500)
  --help             show this help
`;

/** Options of the demo (pure result of argv). */
export interface ClusterDemoOptions {
  nodes: number;
  partitions: number;
  ttlS: number;
  etcdMembers: number;
  intervalMs: number;
}

/** Maps argv to {@link ClusterDemoOptions}, 'help', or an error message. */
export function parseClusterDemoArgs(argv: string[]): ClusterDemoOptions | 'help' | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { nodes: { type: 'string' }, partitions: { type: 'string' }, ttl: { type: 'string' }, 'etcd-members': { type: 'string' }, interval: { type: 'string' }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    return (error as Error).message;
  }
  if (values.help) return 'help';
  const int = (text: string | undefined, def: number, min: number, max: number, flag: string): number | string => {
    if (text === undefined) return def;
    const n = Number(text);
    return Number.isInteger(n) && n >= min && n <= max ? n : `--${flag} must be an integer in [${min}, ${max}]`;
  };
  const nodes = int(values.nodes, 3, 1, 9, 'nodes');
  const partitions = int(values.partitions, 12, 1, 1024, 'partitions');
  const ttlS = int(values.ttl, 5, 2, 60, 'ttl');
  const etcdMembers = int(values['etcd-members'], 3, 1, 5, 'etcd-members');
  const intervalMs = int(values.interval, 500, 50, 60_000, 'interval');
  for (const v of [nodes, partitions, ttlS, etcdMembers, intervalMs]) if (typeof v === 'string') return v;
  return { nodes: nodes as number, partitions: partitions as number, ttlS: ttlS as number, etcdMembers: etcdMembers as number, intervalMs: intervalMs as number };
}

/** One line summarising who leads what, e.g. `node-1: 0-3,8  node-2: 4-7  (none): 9` (pure). */
export function leadershipLine(status: ClusterStatus): string {
  const byLeader = new Map<string, string[]>();
  for (const run of leaderRuns(status.partitions)) {
    const key = run.leader ?? '(none)';
    const list = byLeader.get(key) ?? [];
    list.push(run.first === run.last ? `${run.first}` : `${run.first}-${run.last}`);
    byLeader.set(key, list);
  }
  const keys = [...byLeader.keys()].sort((a, b) => (a === '(none)' ? 1 : b === '(none)' ? -1 : a.localeCompare(b)));
  return keys.map((k) => `${k}: ${byLeader.get(k)!.join(',')}`).join('  ');
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function time(): string {
  return new Date().toISOString().slice(11, 19);
}

/** Runs the demo until SIGINT/SIGTERM; returns 0 after a clean stop, 1 if it could not start. */
export async function clusterDemo(argv: string[]): Promise<number> {
  const options = parseClusterDemoArgs(argv);
  if (options === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof options === 'string') {
    process.stderr.write(`warden cluster-demo: ${options}\n${HELP}`);
    return 2;
  }
  const stopRequested = new AbortController();
  const onSignal = (): void => stopRequested.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const dir = await mkdtemp(join(tmpdir(), 'warden-cluster-demo-'));
  let etcd: LocalEtcd | undefined;
  const nodes: LocalNode[] = [];
  // Last resort if this process dies abruptly: no orphaned etcd or node.
  const killAll = (): void => {
    for (const child of [...nodes.map((n) => n.child), ...(etcd?.members.map((m) => m.child) ?? [])]) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
  process.once('exit', killAll);
  let code = 0;
  try {
    say(`warden cluster-demo: ${options.etcdMembers}-member etcd, ${options.nodes} nodes, ${options.partitions} partitions, TTL ${options.ttlS} s`);
    say(`dir    ${dir}`);
    etcd = await startLocalEtcd({ dir, size: options.etcdMembers });
    for (const m of etcd.members) say(`etcd   ${m.name} ${m.clientUrl} pid ${m.pid}`);
    const token = randomBytes(18).toString('base64url');
    const tokens = join(dir, 'tokens.json');
    await writeFile(tokens, JSON.stringify({ tokens: [{ sha256: createHash('sha256').update(token).digest('hex'), owners: ['*'], scopes: ['read', 'write', 'admin'] }] }));
    const data = join(dir, 'data');
    const zones = ['zone-a', 'zone-b', 'zone-c'];
    const started = await Promise.allSettled(
      Array.from({ length: options.nodes }, (_, i) =>
        startLocalNode({ id: `node-${i + 1}`, data, tokens, etcd: etcd!.endpoints, partitions: options.partitions, ttlS: options.ttlS, zone: zones[i % zones.length]!, logFile: join(dir, `node-${i + 1}.log`) }),
      ),
    );
    for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const n of nodes) {
      say(`node   ${n.id} ${n.url} pid ${n.pid} (log ${join(dir, `${n.id}.log`)})`);
      void n.exited.then(() => !stopRequested.signal.aborted && say(`${time()}  ${n.id} exited (${n.child.signalCode ?? n.child.exitCode}); its partitions move once its lease expires (≤ ${options.ttlS} s)`));
    }
    say(`token  ${token}`);
    say('');
    say(`try:   export WARDEN_TOKEN=${token}`);
    say(`       warden publish acme/app 1.0 ./some-file --server ${nodes[0]!.url}`);
    say(`       warden get acme/app@1.0 -o /tmp/copy --server ${nodes.at(-1)!.url}`);
    say(`       warden status --server ${nodes[0]!.url}`);
    say(`       kill -9 ${nodes[0]!.pid}   # crash ${nodes[0]!.id} and watch failover`);
    say('Ctrl-C stops everything.');
    say('ready');
    let last = '';
    while (!stopRequested.signal.aborted) {
      const live = nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
      for (const n of live) {
        try {
          const res = await fetch(`${n.url}/v1/cluster`, { signal: AbortSignal.timeout(1000) });
          const line = leadershipLine((await res.json()) as ClusterStatus);
          if (line !== last) say(`${time()}  ${line}`);
          last = line;
          break;
        } catch {
          // that node is busy or gone; ask the next one
        }
      }
      await sleep(options.intervalMs, undefined, { signal: stopRequested.signal }).catch(() => undefined);
    }
    say(`${time()}  stopping: nodes hand their partitions over and exit, then etcd`);
  } catch (error) {
    process.stderr.write(`warden cluster-demo: ${(error as Error).message}\n`);
    code = 1;
  } finally {
    await Promise.all(nodes.map((n) => n.stop(15_000)));
    await etcd?.close();
    await rm(dir, { recursive: true, force: true });
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  say(`stopped; removed ${dir}`);
  return code;
}
