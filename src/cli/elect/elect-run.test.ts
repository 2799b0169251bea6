import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { etcdSuiteOptions, makeTmpDir, startEtcd, startTcpProxy, waitFor, type EtcdCluster, type TmpDir } from '../../testing/index.js';
import { isDead as dead, processState } from '../../testing/index.js';
import { findSetpriv } from './child-group.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** State letter of a process, or undefined when it is gone. */

/** One line the supervised command wrote: who (id), with which token, from which PID, what. */
interface Entry {
  id: string;
  token: bigint;
  pid: number;
  what: string;
}

function readEntries(file: string): Entry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', token = '0', pid = '0', what = ''] = line.split(' ');
      return { id, token: BigInt(token), pid: Number(pid), what };
    });
}

/**
 * Asserts the acting intervals never overlap: once a term (token) writes, no earlier term
 * writes again, and tokens only grow.
 */
function assertSerialTerms(entries: Entry[]): void {
  let current: Entry | undefined;
  const finished = new Set<bigint>();
  for (const entry of entries) {
    if (current === undefined || entry.token !== current.token) {
      assert.ok(!finished.has(entry.token), `term ${entry.token} (${entry.id}) wrote again after a later term started`);
      if (current !== undefined) {
        assert.ok(entry.token > current.token, `token went from ${current.token} to ${entry.token}`);
        finished.add(current.token);
      }
      current = entry;
    }
  }
}

/** A command that logs `start`, a `tick` every 50 ms, and `term` when it gets SIGTERM. */
function workload(file: string): string[] {
  const line = `"$WARDEN_LEADER_ID $WARDEN_FENCING_TOKEN $$`;
  return ['bash', '-c', `trap 'echo ${line} term" >> ${file}; exit 0' TERM; echo ${line} start" >> ${file}; while :; do echo ${line} tick" >> ${file}; sleep 0.05; done`];
}

interface Cli {
  id: string;
  process: ChildProcess;
  stderr: string[];
  exit: Promise<number | null>;
}

/** Marks every process this file starts (CLIs, their watchdogs and commands inherit it). */
const RUN_MARK = `WARDEN_ELECT_TEST_RUN=${process.pid}-${Date.now()}`;

/**
 * Finds processes still carrying {@link RUN_MARK}, kills them and describes them. One left
 * alive holds a CLI's stderr pipe open, and with it this test file, until the run's timeout.
 */
function sweepLeftovers(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const pid = Number(entry);
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(RUN_MARK) || dead(pid)) continue;
      found.push(`${pid} ${processState(pid) ?? '?'} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').slice(0, 160)}`);
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function startCli(endpoint: string, id: string, extra: string[], command: string[]): Cli {
  const [markName, markValue] = RUN_MARK.split('=') as [string, string];
  const proc = spawn(process.execPath, [MAIN, 'elect', 'run', '--etcd', endpoint, '--id', id, ...extra, '--', ...command], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, [markName]: markValue },
  });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { id, process: proc, stderr, exit };
}

/** PID of the watchdog process of a CLI (waits until it runs). */
function watchdogOf(cli: Cli): Promise<number> {
  return waitFor(
    () =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .map(Number)
        .find((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
            return ppid === cli.process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('warden-watchdog') && !dead(pid);
          } catch {
            return false;
          }
        }),
    { what: `the watchdog of CLI ${cli.id}` },
  );
}

const isLeader = (cli: Cli): boolean => cli.stderr.filter((l) => /^(LEADER|FOLLOWER) /.test(l)).at(-1)?.startsWith('LEADER') ?? false;

/**
 * Adds what is worth knowing when a test fails to its error: each CLI's stderr and state, and
 * the command log with each PID's state (repeated ticks folded).
 */
function withDiagnostics(error: unknown, clis: Cli[], file: string): unknown {
  if (error instanceof Error) error.message += `\n${diagnose(clis, file)}`;
  return error;
}

function diagnose(clis: Cli[], file: string): string {
  const out: string[] = [];
  for (const cli of clis) {
    out.push(`--- CLI ${cli.id} pid ${cli.process.pid} state ${processState(cli.process.pid!) ?? 'gone'}`, ...cli.stderr);
  }
  out.push('--- command log (id token pid what; ticks folded)');
  let last = '';
  for (const entry of readEntries(file)) {
    const key = `${entry.id} ${entry.token} ${entry.pid} ${entry.what}`;
    if (key !== last) out.push(`${key} (pid state ${processState(entry.pid) ?? 'gone'})`);
    last = key;
  }
  return out.join('\n');
}

async function stopAll(clis: Cli[]): Promise<void> {
  for (const cli of clis) {
    if (cli.process.exitCode === null && cli.process.signalCode === null) {
      cli.process.kill('SIGCONT');
      cli.process.kill('SIGKILL');
    }
    await cli.exit;
  }
}

describe('warden elect run against a real etcd', etcdSuiteOptions(), () => {
  let etcd: EtcdCluster;
  let dir: TmpDir;
  let endpoint: string;
  let n = 0;
  const fresh = (): { name: string; file: string } => {
    n += 1;
    return { name: `job${n}`, file: `${dir.path}/log${n}` };
  };

  before(async () => {
    etcd = await startEtcd();
    endpoint = etcd.endpoints[0]!;
    dir = await makeTmpDir();
  });
  after(async () => {
    // Every test stops its CLIs; anything of theirs still alive here is a defect to report.
    const leftovers = sweepLeftovers();
    if (leftovers.length > 0) console.log(`# left running after the elect run tests (killed now):\n${leftovers.map((l) => `#   ${l}`).join('\n')}`);
    await etcd.close();
    await dir.remove();
    // A command that outlived its CLI breaks the promise of `elect run`; a lingering watchdog
    // (still revoking, or waiting out a deadline) is only reported.
    assert.deepEqual(leftovers.filter((l) => l.includes('trap ')), [], 'no command outlived its CLI');
  });

  /**
   * Starts candidates, crashes the leader with `crash`, and checks the successor: the old child
   * is dead by the time the new one runs, the token rose, terms never overlapped.
   */
  async function crashLeader(ids: string[], ttlS: number, crash: (leader: Cli) => Promise<void>, deadWhy: string): Promise<void> {
    const { name, file } = fresh();
    const clis = ids.map((id) => startCli(endpoint, id, ['--name', name, '--ttl', String(ttlS)], workload(file)));
    try {
      const first = await waitFor(() => readEntries(file).find((e) => e.what === 'start'), { what: 'first child start', timeoutMs: 20_000 });
      const leader = clis.find((cli) => cli.id === first.id)!;
      await crash(leader);
      const next = await waitFor(() => readEntries(file).find((e) => e.what === 'start' && e.id !== leader.id), { what: 'next child start', timeoutMs: 15_000 });
      assert.ok(dead(first.pid), deadWhy);
      assert.ok(next.token > first.token);
      await waitFor(() => readEntries(file).filter((e) => e.id === next.id).length > 3, { what: 'a few ticks of the new child' });
      assertSerialTerms(readEntries(file));
    } catch (error) {
      throw withDiagnostics(error, clis, file);
    } finally {
      await stopAll(clis);
    }
  }

  test('kill -9 of the leader CLI: its child is dead before another child starts, with a higher token', async () => {
    await crashLeader(['a', 'b', 'c'], 2, async (leader) => void leader.process.kill('SIGKILL'), 'the old child is dead once the next one runs');
  });

  test('kill -9 of the leader CLI (TTL 30 s): its watchdog kills the group, then revokes the lease, so the next leader starts without waiting for the TTL', async () => {
    // Far below the 30 s TTL (the wait for the successor gives up after 15 s): only a revoked
    // lease can explain a successor this soon.
    await crashLeader(['a', 'b'], 30, async (leader) => {
      await watchdogOf(leader);
      leader.process.kill('SIGKILL');
    }, 'the old child is dead once the next one runs');
  });

  test('kill -9 of the leader CLI and its watchdog (a lost host, TTL 2 s): the next leader waits for etcd to expire the lease', { skip: findSetpriv() ? false : 'setpriv (util-linux) not installed: nothing kills the command when CLI and watchdog die together' }, async () => {
    await crashLeader(['a', 'b'], 2, async (leader) => {
      process.kill(await watchdogOf(leader), 'SIGKILL');
      leader.process.kill('SIGKILL');
    }, 'the old child died with its CLI (setpriv --pdeathsig)');
  });

  test('SIGTERM of the leader hands over at once (TTL 30 s), resigns and exits 0', async () => {
    const { name, file } = fresh();
    const clis = ['a', 'b', 'c'].map((id) => startCli(endpoint, id, ['--name', name, '--ttl', '30'], workload(file)));
    try {
      const leader = await waitFor(() => clis.find(isLeader), { what: 'a leader', timeoutMs: 20_000 });
      const first = await waitFor(() => readEntries(file).find((e) => e.what === 'start'), { what: 'first child start' });
      leader.process.kill('SIGTERM');
      // Far below the 30 s TTL: only a resignation can explain a successor this soon.
      const next = await waitFor(() => readEntries(file).find((e) => e.what === 'start' && e.id !== leader.id), { what: 'handover', timeoutMs: 10_000 });
      assert.equal(await leader.exit, 0);
      assert.ok(readEntries(file).some((e) => e.id === leader.id && e.what === 'term'), 'the child got SIGTERM');
      assert.ok(dead(first.pid));
      assert.ok(next.token > first.token);
      assert.match(leader.stderr.at(-1) ?? '', /^FOLLOWER /);
      assertSerialTerms(readEntries(file));
    } finally {
      await stopAll(clis);
    }
  });

  test('SIGSTOP of the leader past its TTL: the watchdog kills its child, a new leader with a higher token takes over, the old one never acts again', async () => {
    const { name, file } = fresh();
    const clis = ['a', 'b', 'c'].map((id) => startCli(endpoint, id, ['--name', name, '--ttl', '2'], workload(file)));
    try {
      // The leader is whoever started the first child: a LEADER line alone may be stale.
      const first = await waitFor(() => readEntries(file).find((e) => e.what === 'start'), { what: 'first child start', timeoutMs: 20_000 });
      const leader = clis.find((cli) => cli.id === first.id)!;
      leader.process.kill('SIGSTOP');
      await waitFor(() => dead(first.pid), { what: 'child killed while its CLI is stopped', timeoutMs: 10_000 });
      await waitFor(() => dead(first.pid), { what: 'child killed while its CLI is stopped', timeoutMs: 10_000 });
      assert.equal(processState(leader.process.pid!), 'T', 'the CLI was still stopped');
      assert.ok(readEntries(file).some((e) => e.pid === first.pid && e.what === 'term'), 'SIGTERM came first');
      const next = await waitFor(() => readEntries(file).find((e) => e.what === 'start' && e.id !== leader.id), { what: 'new leader', timeoutMs: 15_000 });
      assert.ok(next.token > first.token);
      // Only a line written after the resume counts: a stall at start-up may have ended an
      // earlier session of the same CLI.
      const seen = leader.stderr.length;
      leader.process.kill('SIGCONT');
      await waitFor(() => leader.stderr.slice(seen).some((l) => /session ended/.test(l)), { what: 'old leader notices', timeoutMs: 10_000 });
      await waitFor(() => readEntries(file).filter((e) => e.id === next.id).length > 5, { what: 'ticks of the new leader' });
      assert.ok(!readEntries(file).some((e) => e.token === first.token && e.pid !== first.pid), 'the old term never restarted');
      assert.ok(!isLeader(leader), 'the resumed CLI is a follower');
      assertSerialTerms(readEntries(file));
    } catch (error) {
      throw withDiagnostics(error, clis, file);
    } finally {
      await stopAll(clis);
    }
  });

  test('a black hole between the leader and etcd: its child gets SIGTERM before the server expires the lease', async () => {
    const { name, file } = fresh();
    const [host, port] = new URL(endpoint).host.split(':');
    await using proxy = await startTcpProxy({ target: { host: host!, port: Number(port) } });
    const a = startCli(proxy.url, 'a', ['--name', name, '--ttl', '2'], workload(file));
    const clis = [a];
    try {
      await waitFor(() => isLeader(a), { what: 'a leads', timeoutMs: 20_000 });
      clis.push(...['b', 'c'].map((id) => startCli(endpoint, id, ['--name', name, '--ttl', '2'], workload(file))));
      await waitFor(() => clis.slice(1).every((cli) => cli.stderr.some((l) => l.startsWith('FOLLOWER'))), { what: 'followers queued', timeoutMs: 20_000 });
      proxy.blackhole();
      const next = await waitFor(() => readEntries(file).find((e) => e.what === 'start' && e.id !== 'a'), { what: 'new leader', timeoutMs: 15_000 });
      const entries = readEntries(file);
      const termAt = entries.findIndex((e) => e.id === 'a' && e.what === 'term');
      assert.ok(termAt !== -1, 'a\'s child got SIGTERM');
      assert.ok(termAt < entries.findIndex((e) => e.id === next.id && e.what === 'start'), 'SIGTERM before the successor started');
      assertSerialTerms(entries);
      proxy.restore();
    } catch (error) {
      throw withDiagnostics(error, clis, file);
    } finally {
      await stopAll(clis);
    }
  });

  test('--lock mode: the holder runs the command; a child that exits by itself ends the CLI with its status', async () => {
    const { name, file } = fresh();
    const line = `"$WARDEN_LEADER_ID $WARDEN_FENCING_TOKEN $$`;
    const exiting = ['bash', '-c', `echo ${line} start" >> ${file}; sleep 0.3; exit 7`];
    const a = startCli(endpoint, 'a', ['--lock', name, '--ttl', '2'], exiting);
    const b = startCli(endpoint, 'b', ['--lock', name, '--ttl', '2'], exiting);
    try {
      const codes = await Promise.all([a.exit, b.exit]);
      assert.deepEqual(codes, [7, 7]);
      const starts = readEntries(file);
      assert.equal(starts.length, 2);
      assert.ok(starts[1]!.token > starts[0]!.token, 'each holder had its own, increasing token');
      assert.ok(a.stderr.some((l) => /exited with status 7/.test(l)));
    } finally {
      await stopAll([a, b]);
    }
  });

  test('SIGINT is forwarded to the command; one that ignores it is SIGKILLed after --grace, then the CLI resigns and exits 0', async () => {
    const { name, file } = fresh();
    const line = `"$WARDEN_LEADER_ID $WARDEN_FENCING_TOKEN $$`;
    const stubborn = ['bash', '-c', `trap 'echo ${line} int" >> ${file}' INT; trap '' TERM; echo ${line} start" >> ${file}; while :; do sleep 0.05; done`];
    const a = startCli(endpoint, 'a', ['--name', name, '--ttl', '30', '--grace', '0.5'], stubborn);
    const clis = [a];
    try {
      const first = await waitFor(() => readEntries(file).find((e) => e.what === 'start'), { what: 'a starts', timeoutMs: 20_000 });
      clis.push(startCli(endpoint, 'b', ['--name', name, '--ttl', '30'], stubborn));
      await waitFor(() => clis[1]!.stderr.some((l) => l.startsWith('FOLLOWER')), { what: 'b queued', timeoutMs: 20_000 });
      a.process.kill('SIGINT');
      assert.equal(await a.exit, 0);
      assert.ok(dead(first.pid), 'SIGKILLed after the grace period');
      assert.ok(readEntries(file).some((e) => e.id === 'a' && e.what === 'int'), 'the command saw SIGINT');
      await waitFor(() => readEntries(file).find((e) => e.id === 'b' && e.what === 'start'), { what: 'b takes over well before the 30 s TTL', timeoutMs: 10_000 });
      assertSerialTerms(readEntries(file));
    } finally {
      await stopAll(clis);
    }
  });

  test('a dead watchdog stops the command, and the CLI resigns and exits 1', async () => {
    const { name, file } = fresh();
    const a = startCli(endpoint, 'a', ['--name', name, '--ttl', '2'], workload(file));
    try {
      const first = await waitFor(() => readEntries(file).find((e) => e.what === 'start'), { what: 'a starts', timeoutMs: 20_000 });
      const watchdog = await watchdogOf(a);
      process.kill(watchdog, 'SIGKILL');
      assert.equal(await a.exit, 1);
      assert.ok(dead(first.pid));
      assert.match(a.stderr.join('\n'), /watchdog process exited/);
    } finally {
      await stopAll([a]);
    }
  });

  test('bad input and unreachable etcd: clear messages, exit 2 and 1', async () => {
    const usage = startCli(endpoint, 'x', ['--name', 'n', '--ttl', '1'], ['true']);
    assert.equal(await usage.exit, 2);
    assert.match(usage.stderr.join('\n'), /--ttl 1 out of range/);
    const noCommand = startCli(endpoint, 'x', ['--name', '../etc'], ['true']);
    assert.equal(await noCommand.exit, 2);
    assert.match(noCommand.stderr.join('\n'), /invalid --name/);
    const unreachable = startCli('http://127.0.0.1:9', 'x', ['--name', 'n', '--connect-timeout', '1'], ['true']);
    assert.equal(await unreachable.exit, 1);
    assert.match(unreachable.stderr.join('\n'), /cannot start a session.*WARDEN_ERR_BACKEND_UNAVAILABLE/);
  });
});
