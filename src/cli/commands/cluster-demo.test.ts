import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { etcdSuiteOptions, waitFor } from '../../testing/index.js';
import { leadershipLine, parseClusterDemoArgs } from './cluster-demo.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('cluster-demo: argv and the leadership line', () => {
  assert.deepEqual(parseClusterDemoArgs([]), { nodes: 3, partitions: 12, ttlS: 5, etcdMembers: 3, intervalMs: 500 });
  assert.equal(parseClusterDemoArgs(['--help']), 'help');
  assert.equal(typeof parseClusterDemoArgs(['--nodes', '0']), 'string');
  const line = leadershipLine({
    node: 'a',
    members: [],
    partitions: [
      { partition: 0, leader: 'b', fencingToken: '1' },
      { partition: 1, leader: 'a', fencingToken: '2' },
      { partition: 2, leader: 'a', fencingToken: '3' },
      { partition: 3, leader: null, fencingToken: null },
      { partition: 4, leader: 'b', fencingToken: '4' },
    ],
  });
  assert.equal(line, 'a: 1-2  b: 0,4  (none): 3');
});

describe('warden cluster-demo', etcdSuiteOptions(), () => {
  test('starts etcd and 3 nodes, serves a publish from another node, and Ctrl-C leaves nothing behind', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [MAIN, 'cluster-demo', '--partitions', '6', '--ttl', '3', '--interval', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => /^ready$/m.test(out) || child.exitCode !== null, { timeoutMs: 90_000, what: 'the demo to print ready' });
      assert.match(out, /^ready$/m, out);
      const dir = /^dir +(\S+)$/m.exec(out)?.[1];
      const token = /^token +(\S+)$/m.exec(out)?.[1];
      const nodes = [...out.matchAll(/^node +(\S+) (http:\/\/\S+) pid (\d+)/gm)].map((m) => ({ id: m[1]!, url: m[2]!, pid: Number(m[3]) }));
      const etcds = [...out.matchAll(/^etcd +\S+ http:\/\/\S+ pid (\d+)$/gm)].map((m) => Number(m[1]));
      assert.ok(dir && token);
      assert.equal(nodes.length, 3);
      assert.equal(etcds.length, 3);
      await access(dir);
      // Every partition gets a leader; the live view says so.
      const leadership = (): string | undefined => out.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}(node-|\(none\))/.test(l)).at(-1);
      await waitFor(() => leadership()?.includes('(none)') === false, { timeoutMs: 30_000, what: 'every partition led' });
      const first = nodes[0]!;
      const last = nodes[2]!;
      const put = async (): Promise<number> => (await fetch(`${first.url}/v1/files/acme/demo/1.0`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: 'demo bytes' })).status;
      await waitFor(async () => [200, 201].includes(await put()), { timeoutMs: 20_000, what: 'a publish through node-1' });
      const got = await fetch(`${last.url}/v1/files/acme/demo/1.0`);
      assert.equal(got.status, 200);
      assert.equal(await got.text(), 'demo bytes');
      child.kill('SIGINT');
      assert.equal(await exited, 0, out);
      assert.match(out, /^stopped; removed /m);
      for (const pid of [...nodes.map((n) => n.pid), ...etcds]) assert.equal(alive(pid), false, `pid ${pid} still running`);
      await assert.rejects(access(dir), 'the temp dir is gone');
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await exited;
      }
    }
  });
});
