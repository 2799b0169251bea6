/**
 * Cluster mode end to end (issue 6): a 3-member etcd, real `warden serve --etcd` processes on
 * loopback sharing one DATA directory, TTL 2 s. The tests run in order on one cluster and
 * each leaves it healthy for the next.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { etcdSuiteOptions, makeTmpDir, startEtcdCluster, waitFor, type EtcdCluster, type TmpDir } from '../testing/index.js';
import { harnessTokensFile, http, payloadOf, startNode, type NodeProcess } from './cluster-harness.js';

const P = 8;
const TTL_S = 2;

interface View {
  node: string;
  members: Array<{ id: string; url: string; zone?: string; partitions: number }>;
  partitions: Array<{ partition: number; leader: string | null; fencingToken: string | null }>;
  etcd: { endpoints: string[]; healthy: boolean };
}

async function view(url: string): Promise<View> {
  const a = await http(`${url}/v1/cluster`);
  assert.equal(a.status, 200, `${url}/v1/cluster`);
  return JSON.parse(a.body.toString()) as View;
}

describe('cluster mode: 3 nodes, 3-member etcd, shared DATA', etcdSuiteOptions(), () => {
  let etcd: EtcdCluster;
  let tmp: TmpDir;
  let data: string;
  let tokens: string;
  const nodes = new Map<string, NodeProcess>();
  const urls = (): string[] => [...nodes.values()].map((n) => n.url);
  const start = async (id: string): Promise<NodeProcess> => {
    const n = await startNode({ id, data, tokens, etcd: etcd.endpoints, partitions: P, ttlS: TTL_S, zone: `z${id.slice(-1)}` });
    nodes.set(id, n);
    return n;
  };
  const allLed = async (expectMembers: number): Promise<View> =>
    waitFor(
      async () => {
        const views = await Promise.all(urls().map(view));
        const v = views[0]!;
        const same = views.every((w) => JSON.stringify(w.partitions) === JSON.stringify(v.partitions));
        return same && v.members.length === expectMembers && v.partitions.every((r) => r.leader !== null) ? v : undefined;
      },
      { timeoutMs: 20_000, what: `all ${P} partitions led by ${expectMembers} members, same table everywhere` },
    );

  before(async () => {
    etcd = await startEtcdCluster(3);
    tmp = await makeTmpDir('warden-cluster-');
    data = join(tmp.path, 'data');
    tokens = join(tmp.path, 'tokens.json');
    await writeFile(tokens, harnessTokensFile());
    await Promise.all(['n1', 'n2', 'n3'].map(start));
    await allLed(3);
  });

  after(async () => {
    await Promise.all([...nodes.values()].map((n) => n.kill()));
    await etcd?.close();
    await tmp?.[Symbol.asyncDispose]();
  });

  test('publish through each node, read from every node; an alias move is visible everywhere right after the ack', async () => {
    const v = await view(urls()[0]!);
    assert.deepEqual(v.members.map((m) => m.id).sort(), ['n1', 'n2', 'n3']);
    assert.equal(v.members.reduce((s, m) => s + m.partitions, 0), P);
    assert.equal(v.etcd.healthy, true);
    assert.deepEqual(v.etcd.endpoints, etcd.endpoints);
    for (const node of nodes.values()) assert.equal((await http(`${node.url}/readyz`)).status, 200);
    let i = 0;
    for (const node of nodes.values()) {
      for (const owner of ['alice', 'bob', 'carol', 'dave']) {
        const payload = payloadOf(i, 1000 + i);
        const put = await http(`${node.url}/v1/files/${owner}/app/v${i}`, { method: 'PUT', body: payload });
        assert.equal(put.status, 201, `${owner} via ${node.id}: ${put.body.toString()}`);
        for (const reader of nodes.values()) {
          const got = await http(`${reader.url}/v1/files/${owner}/app/v${i}`);
          assert.equal(got.status, 200);
          assert.ok(got.body.equals(payload), `${owner}/app/v${i} from ${reader.id}`);
        }
        i++;
      }
    }
    // Warm every node's cache on @stable, then move it and read right after the ack.
    const movers = [...nodes.values()];
    for (let round = 0; round < 6; round++) {
      const version = `v${round * 4}`;
      const target = `v${(round + 1) * 4 % 12}`;
      void version;
      const mover = movers[round % movers.length]!;
      const moved = await http(`${mover.url}/v1/files/alice/app/@stable`, { method: 'PUT', body: JSON.stringify({ version: target }) });
      assert.ok(moved.status === 200 || moved.status === 201, moved.body.toString());
      for (const reader of nodes.values()) {
        // Give the watch one round trip, no more: the cache's own 1 s expiry must not be what helps.
        await waitFor(async () => (await http(`${reader.url}/v1/files/alice/app/@stable`)).headers['content-location'] === `/v1/files/alice/app/${target}`, {
          timeoutMs: 300,
          what: `${reader.id} serving @stable → ${target}`,
        });
      }
      for (const reader of nodes.values()) for (let k = 0; k < 3; k++) await http(`${reader.url}/v1/files/alice/app/@stable`);
    }
  });
});
