import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { etcdSuiteOptions, freePort, startEtcd } from '../testing/index.js';
import { checkEtcd, fetchEtcdVersion } from './etcd-version.js';

async function fakeEtcd(body: unknown, date?: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    if (date !== undefined) res.setHeader('Date', date);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('etcd check against a real etcd', etcdSuiteOptions(), () => {
  test('reads the version with a plain HTTP GET of /version', async () => {
    await using etcd = await startEtcd();
    const endpoint = etcd.endpoints[0]!;
    const version = await fetchEtcdVersion(endpoint);
    assert.match(version.etcdserver, /^3\.\d+\.\d+/);
    const [result] = await checkEtcd([endpoint]);
    assert.equal(result?.status, 'ok');
    assert.match(result!.message, /etcd 3\.\d+\.\d+ \(cluster 3\.\d+\.\d+\)/);
  });
});

test('an endpoint with nothing listening fails with the reason', async () => {
  const port = await freePort();
  const [result] = await checkEtcd([`http://127.0.0.1:${port}`], { timeoutMs: 2000 });
  assert.equal(result?.status, 'fail');
  assert.match(result!.message, /unreachable: .*ECONNREFUSED/);
});

test('an etcd older than 3.4 fails; a skewed server clock warns', async (t) => {
  const old = await fakeEtcd({ etcdserver: '3.3.25', etcdcluster: '3.3.0' });
  t.after(() => old.server.close());
  const [tooOld] = await checkEtcd([old.url]);
  assert.equal(tooOld?.status, 'fail');
  assert.match(tooOld!.message, /needs etcd 3\.4 or later/);

  const skewed = await fakeEtcd({ etcdserver: '3.5.9', etcdcluster: '3.5.0' }, new Date(Date.now() - 600_000).toUTCString());
  t.after(() => skewed.server.close());
  const [result] = await checkEtcd([skewed.url]);
  assert.equal(result?.status, 'warn');
  assert.match(result!.message, /clock is -60\d s off/);
});

test('a non-HTTP endpoint and a non-etcd answer fail', async (t) => {
  const [bad] = await checkEtcd(['etcd.example:2379']);
  assert.equal(bad?.status, 'fail');
  assert.match(bad!.message, /must be http/);
  const other = await fakeEtcd({ hello: 'world' });
  t.after(() => other.server.close());
  const [notEtcd] = await checkEtcd([other.url]);
  assert.equal(notEtcd?.status, 'fail');
  assert.match(notEtcd!.message, /without an etcd version/);
});
