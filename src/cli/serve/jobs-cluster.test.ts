import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { etcdSuiteOptions, makeTmpDir, startEtcd, waitFor } from '../../testing/index.js';
import { startLocalNode, type LocalNode } from '../cluster-demo/local-node.js';

async function counter(node: LocalNode, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('retention and scrub in cluster mode', etcdSuiteOptions(), () => {
  test('only the partition leader trims and quarantines; every node then answers 404', { timeout: 90_000 }, async () => {
    await using tmp = await makeTmpDir();
    await using etcd = await startEtcd();
    const tokens = join(tmp.path, 'tokens.json');
    await writeFile(tokens, JSON.stringify({ tokens: [{ sha256: createHash('sha256').update('tk').digest('hex'), owners: ['*'], scopes: ['admin'] }] }));
    const data = join(tmp.path, 'data');
    const extraArgs = ['--keep', '1', '--retention-interval', '1', '--scrub-interval', '1', '--log-level', 'warn'];
    const nodes: LocalNode[] = [];
    try {
      for (const id of ['a', 'b']) nodes.push(await startLocalNode({ id, data, tokens, etcd: etcd.endpoints, partitions: 4, ttlS: 3, extraArgs }));
      const put = async (node: LocalNode, path: string, body: string): Promise<number> =>
        (await fetch(`${node.url}/v1/files/${path}`, { method: 'PUT', headers: { authorization: 'Bearer tk' }, body })).status;
      // Writes are accepted (forwarded if need be) once every partition has a leader.
      await waitFor(async () => (await put(nodes[1]!, 'acme/app/v1', 'bytes 1')) === 201, { timeoutMs: 30_000, what: 'a first publish' });
      for (const v of ['v2', 'v3']) {
        await new Promise((r) => setTimeout(r, 5));
        assert.equal(await put(nodes[0]!, `acme/app/${v}`, `bytes ${v}`), 201);
      }
      assert.equal(await put(nodes[0]!, 'zed/app/v1', 'zed bytes'), 201);
      const file = join(data, 'zed', 'app', 'versions', 'v1');
      await chmod(file, 0o644);
      await writeFile(file, 'ZED bytes');
      const versions = async (): Promise<string[]> => ((await (await fetch(`${nodes[0]!.url}/v1/files/acme/app`)).json()) as { versions: Array<{ version: string }> }).versions.map((v) => v.version);
      await waitFor(async () => (await versions()).length === 1, { timeoutMs: 30_000, what: 'retention in cluster mode' });
      assert.deepEqual(await versions(), ['v3']);
      for (const n of nodes) await waitFor(async () => (await fetch(`${n.url}/v1/files/zed/app/v1`)).status === 404, { timeoutMs: 30_000, what: `quarantine seen by ${n.id}` });
      const total = async (name: string): Promise<number> => (await Promise.all(nodes.map((n) => counter(n, name)))).reduce((a, b) => a + b, 0);
      // A listing may miss a version (metadata gone) a moment before its delete call returns and counts.
      await waitFor(async () => (await total('warden_retention_deleted_total')) >= 2, { timeoutMs: 10_000, what: 'deletes counted' });
      assert.equal(await total('warden_retention_deleted_total'), 2, 'each old version deleted once, by one leader');
      assert.equal(await total('warden_quarantined_total'), 1, 'the mismatch quarantined once, by one leader');
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });
});
