import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { etcdSuiteOptions, makeTmpDir, startEtcd, waitFor } from '../../testing/index.js';
import { isDead as dead, processState } from '../../testing/index.js';
import { ChildGroup, exitStatus, findSetpriv, groupAlive } from './child-group.js';
import type { FixtureOptions } from './supervise-fixture.js';
import { termLeadMs } from './supervise-term.js';
import { toMonotonicNs, toUptimeCs } from './watchdog.js';
import { WATCHDOG_SCRIPT } from './watchdog-sh.js';

const FIXTURE = fileURLToPath(new URL('./supervise-fixture.js', import.meta.url));
const WATCHDOG_MAIN = fileURLToPath(new URL('./watchdog-main.js', import.meta.url));

/** A watchdog process driven by hand: raw writes to its stdin, its report lines collected. */
function rawWatchdog(kind: 'bash' | 'node'): { process: ChildProcess; lines: string[]; at: (ms: number) => string } {
  const proc =
    kind === 'bash'
      ? spawn('/bin/bash', ['-c', WATCHDOG_SCRIPT, 'warden-watchdog'], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(process.execPath, [WATCHDOG_MAIN], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(line));
  const at = (ms: number): string => String(kind === 'bash' ? toUptimeCs(performance.now() + ms) : toMonotonicNs(performance.now() + ms));
  return { process: proc, lines, at };
}

/** A `sleep` alone in its own process group (its PID is the group id). */
function victim(): ChildProcess {
  return spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
}

/** State letter of a process (R, S, T, Z, ...), or undefined when it is gone. */

/** PIDs of the live members of a process group. */
function members(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** True once process `pid` has a handler installed for signal number `signal`. */
function catchesSignal(pid: number, signal: number): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signal - 1))) !== 0n;
}

interface Fixture {
  process: ChildProcess;
  child: number;
  watchdog: number;
  lines: string[];
}

async function startFixture(options: FixtureOptions): Promise<Fixture> {
  const proc = spawn(process.execPath, [FIXTURE, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(line));
  const first = await waitFor(() => lines[0], { what: 'fixture start', timeoutMs: 15_000 });
  const { child, watchdog } = JSON.parse(first) as { child: number; watchdog: number };
  return { process: proc, child, watchdog, lines };
}

async function cleanup(fixture: Fixture): Promise<void> {
  for (const pid of [fixture.child, ...members(fixture.child), fixture.watchdog, fixture.process.pid!]) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (fixture.process.exitCode === null && fixture.process.signalCode === null) {
    await new Promise((resolve) => fixture.process.once('exit', resolve));
  }
}

// A child whose own grandchild (sleep) shares its group: pdeathsig alone would miss it.
const WITH_GRANDCHILD = ['-c', 'sleep 1000 & wait'];

describe('child supervision (real processes)', () => {
  for (const kind of ['bash', 'node'] as const) {
    test(`[${kind} watchdog] kill -9 of the parent kills the whole group through the watchdog pipe (no setpriv)`, async () => {
      const fixture = await startFixture({ watchdog: kind, setpriv: false, renewEveryMs: 100, termInMs: 60_000, killInMs: 60_000, command: 'bash', args: WITH_GRANDCHILD });
      try {
        await waitFor(() => members(fixture.child).length === 2, { what: 'child and grandchild running' });
        const group = members(fixture.child);
        fixture.process.kill('SIGKILL');
        // Long before the 60 s deadline: only the closed pipe can have triggered this.
        await waitFor(() => group.every(dead), { what: 'group dead after kill -9 of the parent', timeoutMs: 5_000 });
        await waitFor(() => dead(fixture.watchdog), { what: 'watchdog exit' });
      } finally {
        await cleanup(fixture);
      }
    });

    test(`[${kind} watchdog] a message cut by a read timeout is kept: the rest of the line completes it`, async () => {
      const watchdog = rawWatchdog(kind);
      const group = victim();
      try {
        await waitFor(() => watchdog.lines.includes('ready'), { what: 'watchdog ready' });
        // SIGTERM due in 300 ms: the watchdog's wait for input times out then, mid-line.
        watchdog.process.stdin!.write(`D ${watchdog.at(300)} ${watchdog.at(60_000)}\nG ${group.pid}\n`);
        await waitFor(() => watchdog.lines.includes(`guard ${group.pid}`), { what: 'first guard' });
        watchdog.process.stdin!.write('G 4');
        await waitFor(() => watchdog.lines.includes(`term ${group.pid}`), { what: 'SIGTERM at the first deadline', timeoutMs: 5_000 });
        watchdog.process.stdin!.write('242\n');
        await waitFor(() => watchdog.lines.includes('guard 4242'), { what: 'the split G line read whole' });
        watchdog.process.stdin!.write('R\n');
        watchdog.process.stdin!.end();
        await waitFor(() => dead(watchdog.process.pid!), { what: 'watchdog exit' });
        assert.ok(!watchdog.lines.includes('kill 4242'), 'released groups are not killed');
      } finally {
        group.kill('SIGKILL');
        watchdog.process.kill('SIGKILL');
      }
    });

    test(`[${kind} watchdog] kill -9 of parent and watchdog still kills the direct child (setpriv --pdeathsig)`, { skip: findSetpriv() ? false : 'setpriv (util-linux) not installed' }, async () => {
      const fixture = await startFixture({ watchdog: kind, setpriv: true, renewEveryMs: 100, termInMs: 60_000, killInMs: 60_000, command: 'sleep', args: ['1000'] });
      try {
        await waitFor(() => processState(fixture.child) !== undefined && readFileSync(`/proc/${fixture.child}/cmdline`, 'utf8').startsWith('sleep'), { what: 'setpriv exec' });
        process.kill(fixture.watchdog, 'SIGKILL');
        await waitFor(() => dead(fixture.watchdog), { what: 'watchdog dead' });
        assert.ok(!dead(fixture.child), 'the child survives the watchdog alone');
        fixture.process.kill('SIGKILL');
        await waitFor(() => dead(fixture.child), { what: 'child dead by pdeathsig', timeoutMs: 5_000 });
      } finally {
        await cleanup(fixture);
      }
    });

    test(`[${kind} watchdog] a SIGSTOPped parent cannot keep its child past the deadline: SIGTERM, then SIGKILL`, async () => {
      await using dir = await makeTmpDir();
      const log = `${dir.path}/log`;
      // The child notes SIGTERM, then ignores it, so only the watchdog's SIGKILL ends it.
      const script = `trap 'echo term >> ${log}' TERM; sleep 1000 & while :; do wait; done`;
      const fixture = await startFixture({ watchdog: kind, setpriv: false, renewEveryMs: 50, termInMs: 1500, killInMs: 2500, command: 'bash', args: ['-c', script] });
      try {
        await waitFor(() => members(fixture.child).length === 2, { what: 'child and grandchild running' });
        const group = members(fixture.child);
        fixture.process.kill('SIGSTOP');
        await waitFor(() => processState(fixture.process.pid!) === 'T', { what: 'parent stopped' });
        await waitFor(() => group.every(dead), { what: 'group dead while the parent is stopped', timeoutMs: 10_000 });
        assert.equal(processState(fixture.process.pid!), 'T', 'the parent was still stopped');
        assert.match(readFileSync(log, 'utf8'), /term/, 'SIGTERM came before SIGKILL');
        assert.ok(!dead(fixture.watchdog), 'the watchdog keeps running for the next term');
        fixture.process.kill('SIGCONT');
        await waitFor(() => fixture.lines.some((line) => line.includes('"kill"')), { what: 'kill report' });
        assert.ok(fixture.lines.some((line) => line.includes('"term"')), 'term reported');
      } finally {
        await cleanup(fixture);
      }
    });

    test(`[${kind} watchdog] a parent that keeps renewing keeps its child`, async () => {
      // Deadlines a starved fixture still meets on a loaded 2-CPU host (load average 15 seen):
      // a parent late by more than termInMs is a stalled parent, and then the watchdog is right.
      const fixture = await startFixture({ watchdog: kind, setpriv: false, renewEveryMs: 50, termInMs: 1000, killInMs: 1500, command: 'sleep', args: ['1000'] });
      try {
        // Outlive several deadlines: each renewal pushes both forward.
        await waitFor(() => fixture.lines.length >= 1 && performance.now(), { what: 'start' });
        const until = performance.now() + 3_000;
        await waitFor(() => performance.now() > until || dead(fixture.child), { what: 'time to pass', timeoutMs: 5_000 });
        assert.ok(!dead(fixture.child), 'the child is alive after 2 s of renewals');
        assert.deepEqual(fixture.lines.slice(1), [], 'the watchdog never fired');
      } finally {
        await cleanup(fixture);
      }
    });
  }

  test('a CLI killed right after the fork, before any guard, leaves no child (setpriv + parent check)', { skip: findSetpriv() ? false : 'setpriv (util-linux) not installed' }, async () => {
    for (let i = 0; i < 5; i++) {
      const fixture = await startFixture({ watchdog: 'bash', setpriv: true, renewEveryMs: 100, termInMs: 60_000, killInMs: 60_000, command: 'sleep', args: ['1000'], dieRightAfterSpawn: true });
      try {
        await waitFor(() => dead(fixture.child), { what: `child ${fixture.child} gone (round ${i})`, timeoutMs: 5_000 });
      } finally {
        await cleanup({ ...fixture, watchdog: fixture.child });
      }
    }
  });

  for (const setpriv of [false, true]) {
    test(`a held child runs nothing until open(), then becomes the command with the same PID (setpriv: ${setpriv})`, { skip: setpriv && !findSetpriv() ? 'setpriv (util-linux) not installed' : false }, async () => {
      await using dir = await makeTmpDir();
      const log = `${dir.path}/log`;
      const group = ChildGroup.start({ command: 'bash', args: ['-c', `echo $$ >> ${log}; exec sleep 1000`], env: process.env, setpriv: setpriv ? findSetpriv() : undefined, hold: true });
      try {
        // The gate: a shell blocked reading its pipe, in the group the watchdog will guard.
        await waitFor(() => processState(group.pid!) === 'S' && readFileSync(`/proc/${group.pid!}/cmdline`, 'utf8').startsWith('/bin/sh'), { what: 'gate waiting' });
        assert.equal(existsSync(log), false, 'the command did not run before open()');
        group.open();
        await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').trim(), { what: 'command ran' });
        assert.equal(Number(readFileSync(log, 'utf8').trim()), group.pid, 'the command kept the group leader PID');
      } finally {
        group.signal('SIGKILL');
      }
    });
  }

  test('a held child whose parent dies before open() exits without running the command', async () => {
    await using dir = await makeTmpDir();
    const log = `${dir.path}/log`;
    const fixture = await startFixture({ watchdog: 'bash', setpriv: false, renewEveryMs: 100, termInMs: 60_000, killInMs: 60_000, command: 'bash', args: ['-c', `echo ran >> ${log}`], dieRightAfterSpawn: true, hold: true });
    try {
      await waitFor(() => dead(fixture.child), { what: 'gate gone with its parent', timeoutMs: 5_000 });
      assert.equal(existsSync(log), false, 'the command never ran');
    } finally {
      await cleanup({ ...fixture, watchdog: fixture.child });
    }
  });

  test('stop() sends SIGTERM, then SIGKILL after the grace period, to every member of the group', async () => {
    const group = ChildGroup.start({ command: 'bash', args: ['-c', "trap '' TERM; sleep 1000 & wait"], env: process.env });
    try {
      await waitFor(() => members(group.pid!).length === 2, { what: 'child and grandchild running' });
      const pids = members(group.pid!);
      const exit = await group.stop({ graceMs: 300 });
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(exitStatus(exit), 137);
      assert.ok(pids.every(dead));
      assert.equal(groupAlive(group.pid!), false);
    } finally {
      group.signal('SIGKILL');
    }
  });

  test('stop() returns as soon as a cooperative child exits, with its status', async () => {
    const group = ChildGroup.start({ command: 'bash', args: ['-c', "trap 'exit 3' TERM; while :; do sleep 0.05; done"], env: process.env });
    try {
      // Existing is not enough: a SIGTERM before the trap is set kills bash (143).
      await waitFor(() => catchesSignal(group.pid!, 15), { what: 'child trapping SIGTERM' });
      const exit = await group.stop({ graceMs: 30_000 });
      assert.equal(exitStatus(exit), 3);
    } finally {
      group.signal('SIGKILL');
    }
  });

  test('stop() kills at killByMs when that comes before the grace period ends', async () => {
    const group = ChildGroup.start({ command: 'bash', args: ['-c', "trap '' TERM; exec sleep 1000"], env: process.env });
    try {
      // Only once the exec happened is SIGTERM surely ignored.
      await waitFor(() => readFileSync(`/proc/${group.pid!}/cmdline`, 'utf8').startsWith('sleep'), { what: 'child running' });
      const exit = await group.stop({ graceMs: 60_000, killByMs: performance.now() + 200 });
      assert.equal(exit.signal, 'SIGKILL');
    } finally {
      group.signal('SIGKILL');
    }
  });

  test('a command that cannot be started ends like a shell would (127)', async () => {
    const group = ChildGroup.start({ command: '/nonexistent/warden-test-cmd', args: [], env: process.env });
    assert.equal(exitStatus(await group.exit), 127);
  });

  test('the watchdog SIGTERMs at most half the slack of a healthy session before the deadline', () => {
    // TTL 2 s, margin 0.5 s, keepalive every 666 ms: 834 ms of slack before the next ack.
    assert.equal(termLeadMs({ ttlMs: 2_000, safetyMarginMs: 500, keepaliveIntervalMs: 666 }, 5_000), 417);
    assert.equal(termLeadMs({ ttlMs: 10_000, safetyMarginMs: 1_000, keepaliveIntervalMs: 3_333 }, 5_000), 2_833);
    assert.equal(termLeadMs({ ttlMs: 10_000, safetyMarginMs: 1_000, keepaliveIntervalMs: 3_333 }, 1_000), 1_000);
    assert.equal(termLeadMs({ ttlMs: 10_000, safetyMarginMs: 1_000, keepaliveIntervalMs: 3_333 }, 0), 0);
  });
});

/** POSTs to etcd's JSON gateway and returns the parsed answer. */
async function gateway(endpoint: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, endpoint), { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

describe('the watchdog revokes the lease of a dead CLI (real etcd)', etcdSuiteOptions(), () => {
  for (const kind of ['bash', 'node'] as const) {
    test(`[${kind} watchdog] kill -9 of the parent: the group is killed, then the lease is revoked long before its TTL`, async () => {
      await using etcd = await startEtcd();
      const endpoint = etcd.endpoints[0]!;
      const grant = await gateway(endpoint, '/v3/lease/grant', { TTL: 60 });
      const lease = String(grant['ID']);
      const fixture = await startFixture({
        watchdog: kind,
        setpriv: false,
        renewEveryMs: 100,
        termInMs: 60_000,
        killInMs: 60_000,
        command: 'bash',
        args: WITH_GRANDCHILD,
        endpoints: ['http://127.0.0.1:1', endpoint],
        lease,
      });
      try {
        await waitFor(() => members(fixture.child).length === 2, { what: 'child and grandchild running' });
        const group = members(fixture.child);
        const ttl = async (): Promise<number> => Number((await gateway(endpoint, '/v3/lease/timetolive', { ID: lease }))['TTL']);
        assert.ok((await ttl()) > 0, 'the lease lives while the parent does');
        fixture.process.kill('SIGKILL');
        // A 60 s lease gone within seconds: only the watchdog's revoke explains it (the first,
        // unreachable endpoint is skipped).
        await waitFor(async () => (await ttl()) === -1, { what: 'lease revoked', timeoutMs: 10_000 });
        assert.ok(group.every(dead), 'the group was gone before the lease');
        await waitFor(() => dead(fixture.watchdog), { what: 'watchdog exit' });
      } finally {
        await cleanup(fixture);
      }
    });
  }
});
