/**
 * `warden status`: asks one node for `GET /v1/cluster` and prints the cluster as that node
 * sees it — members, every partition's leader and fencing token (consecutive partitions with
 * the same leader on one line), etcd endpoints and health. Works against a single node too.
 */
import { parseArgs } from 'node:util';
import { clientOptions, describeError, readText, send, type ClientOptions } from '../client/http-client.js';

const HELP = `Usage: warden status [--server URL] [--json]

Prints the cluster as one node sees it (GET /v1/cluster): members (id, url, zone, partitions
led), every partition's leader and fencing token (runs of partitions with the same leader
on one line), etcd endpoints and health. Works against a single node too.

  --server URL   node to ask (default WARDEN_SERVER or http://127.0.0.1:8080)
  --json         print the raw JSON answer
  --help         show this help
`;

/** Options of status (pure result of argv + env). */
export interface StatusArgs {
  client: ClientOptions;
  json: boolean;
}

/** Maps argv and env to {@link StatusArgs}, 'help', or an error message. */
export function parseStatusArgs(argv: string[], env: Record<string, string | undefined>): StatusArgs | 'help' | string {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: false, options: { server: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
  } catch (error) {
    return (error as Error).message;
  }
  if (parsed.values.help) return 'help';
  return { client: clientOptions({ server: parsed.values.server }, env), json: parsed.values.json ?? false };
}

/** The parts of a `/v1/cluster` answer status reads (extra fields are ignored). */
export interface ClusterStatus {
  node: string;
  members: Array<{ id: string; url: string | null; zone?: string; partitions?: number; [k: string]: unknown }>;
  partitions: Array<{ partition: number; leader: string | null; fencingToken: string | null }>;
  etcd?: { endpoints: string[]; healthy: boolean };
}

/** A run of consecutive partitions with the same leader. */
export interface LeaderRun {
  readonly first: number;
  readonly last: number;
  readonly leader: string | null;
  readonly tokens: ReadonlyArray<string | null>;
}

/** Groups partitions (sorted by number) into runs of consecutive partitions with one leader. */
export function leaderRuns(partitions: ClusterStatus['partitions']): LeaderRun[] {
  const runs: Array<{ first: number; last: number; leader: string | null; tokens: Array<string | null> }> = [];
  for (const row of [...partitions].sort((a, b) => a.partition - b.partition)) {
    const run = runs.at(-1);
    if (run && run.leader === row.leader && run.last === row.partition - 1) {
      run.last = row.partition;
      run.tokens.push(row.fencingToken);
    } else {
      runs.push({ first: row.partition, last: row.partition, leader: row.leader, tokens: [row.fencingToken] });
    }
  }
  return runs;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** Formats a `/v1/cluster` answer for people (pure, unit-tested). */
export function formatStatus(status: ClusterStatus, server: string): string {
  const lines: string[] = [];
  lines.push(`node ${status.node} (asked ${server})`);
  if (status.etcd) {
    lines.push(`etcd ${status.etcd.healthy ? 'healthy' : 'UNREACHABLE or session lost'}: ${status.etcd.endpoints.join(', ')}`);
  } else {
    lines.push('etcd none: single node, it leads every partition');
  }
  const led = new Map<string, number>();
  for (const p of status.partitions) if (p.leader) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
  lines.push('', `members (${status.members.length})`);
  const memberRows = [['  ID', 'URL', 'ZONE', 'LEADS']];
  for (const m of [...status.members].sort((a, b) => a.id.localeCompare(b.id))) {
    const mark = m.id === status.node ? '*' : ' ';
    memberRows.push([`${mark} ${m.id}`, m.url ?? '-', typeof m.zone === 'string' && m.zone ? m.zone : '-', String(m.partitions ?? led.get(m.id) ?? 0)]);
  }
  lines.push(...table(memberRows));
  const leaderless = status.partitions.filter((p) => p.leader === null).length;
  lines.push('', `partitions (${status.partitions.length}${leaderless ? `, ${leaderless} WITHOUT LEADER` : ''})`);
  const runRows = [['  PARTITIONS', 'LEADER', 'FENCING TOKENS']];
  for (const run of leaderRuns(status.partitions)) {
    const range = run.first === run.last ? `${run.first}` : `${run.first}-${run.last}`;
    runRows.push([`  ${range}`, run.leader ?? '(none)', run.leader === null ? '-' : run.tokens.map((t) => t ?? '?').join(' ')]);
  }
  lines.push(...table(runRows));
  return `${lines.join('\n')}\n`;
}

/** Runs `warden status`. */
export async function status(argv: string[]): Promise<number> {
  const args = parseStatusArgs(argv, process.env);
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof args === 'string') {
    process.stderr.write(`warden status: ${args}\n${HELP}`);
    return 2;
  }
  let res;
  try {
    res = await send(args.client, { method: 'GET', path: '/v1/cluster', attempts: 2 });
  } catch (error) {
    process.stderr.write(`warden status: cannot reach ${args.client.server}: ${(error as Error).message}\n`);
    return 1;
  }
  if (res.statusCode !== 200) {
    process.stderr.write(`warden status: ${await describeError(res)}\n`);
    return 1;
  }
  const text = await readText(res);
  if (args.json) {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  }
  process.stdout.write(formatStatus(JSON.parse(text) as ClusterStatus, args.client.server));
  return 0;
}
