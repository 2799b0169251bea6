import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { makeTmpDir } from '../../testing/index.js';
import { parseServeArgs } from '../serve/options.js';
import { startServer } from '../serve/start-server.js';
import { formatStatus, leaderRuns, parseStatusArgs, type ClusterStatus } from './status.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const run = promisify(execFile);

const clustered: ClusterStatus = {
  node: 'b',
  members: [
    { id: 'b', url: 'http://127.0.0.1:2', zone: 'west', partitions: 3 },
    { id: 'a', url: 'http://127.0.0.1:1', zone: 'east', partitions: 2 },
  ],
  partitions: [
    { partition: 0, leader: 'a', fencingToken: '11' },
    { partition: 1, leader: 'a', fencingToken: '12' },
    { partition: 2, leader: 'b', fencingToken: '20' },
    { partition: 3, leader: null, fencingToken: null },
    { partition: 5, leader: 'b', fencingToken: '22' },
    { partition: 4, leader: 'b', fencingToken: '21' },
    { partition: 6, leader: 'b', fencingToken: '30' },
  ],
  etcd: { endpoints: ['http://127.0.0.1:2379', 'http://127.0.0.1:2380'], healthy: true },
};

test('status groups consecutive partitions by leader, keeping every fencing token', () => {
  assert.deepEqual(
    leaderRuns(clustered.partitions).map((r) => [r.first, r.last, r.leader, r.tokens.join(',')]),
    [
      [0, 1, 'a', '11,12'],
      [2, 2, 'b', '20'],
      [3, 3, null, ''],
      [4, 6, 'b', '21,22,30'],
    ],
  );
  const text = formatStatus(clustered, 'http://127.0.0.1:2');
  assert.match(text, /^node b \(asked http:\/\/127\.0\.0\.1:2\)$/m);
  assert.match(text, /^etcd healthy: http:\/\/127\.0\.0\.1:2379, http:\/\/127\.0\.0\.1:2380$/m);
  assert.match(text, /^ {2}a +http:\/\/127\.0\.0\.1:1 +east +2$/m);
  assert.match(text, /^\* b +http:\/\/127\.0\.0\.1:2 +west +3$/m, 'the node asked is marked');
  assert.match(text, /^partitions \(7, 1 WITHOUT LEADER\)$/m);
  assert.match(text, /^ {2}0-1 +a +11 12$/m);
  assert.match(text, /^ {2}3 +\(none\) +-$/m);
  assert.match(text, /^ {2}4-6 +b +21 22 30$/m);
  assert.match(formatStatus({ ...clustered, etcd: { endpoints: ['http://x:1'], healthy: false } }, 's'), /^etcd UNREACHABLE/m);
  assert.deepEqual(parseStatusArgs(['--json'], { WARDEN_SERVER: 'http://h:1/' }), { client: { server: 'http://h:1', token: undefined }, json: true });
  assert.equal(parseStatusArgs(['--help'], {}), 'help');
  assert.equal(typeof parseStatusArgs(['extra'], {}), 'string');
});

test('warden status reads a single node: one member leads every partition, no etcd', { timeout: 30_000 }, async () => {
  await using tmp = await makeTmpDir();
  const parsed = parseServeArgs(['--data', join(tmp.path, 'data'), '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent', '--node-id', 'solo', '--partitions', '8', '--scrub-rate', '0'], {});
  assert.ok(parsed.kind === 'run');
  const running = await startServer(parsed.options);
  try {
    const { stdout } = await run(process.execPath, [MAIN, 'status', '--server', running.url]);
    assert.match(stdout, /^node solo /m);
    assert.match(stdout, /^etcd none: single node/m);
    assert.match(stdout, new RegExp(`^\\* solo +${running.url.replace(/[.]/g, '\\.')} +- +8$`, 'm'));
    assert.match(stdout, /^ {2}0-7 +solo +(local-1 ){7}local-1$/m);
    const json = JSON.parse((await run(process.execPath, [MAIN, 'status', '--json'], { env: { ...process.env, WARDEN_SERVER: running.url } })).stdout) as ClusterStatus;
    assert.equal(json.node, 'solo');
    assert.equal(json.partitions.length, 8);
  } finally {
    await running.close();
  }
  await assert.rejects(run(process.execPath, [MAIN, 'status', '--server', running.url]), (e: { code?: number; stderr?: string }) => e.code === 1 && /cannot reach/.test(e.stderr ?? ''));
});
