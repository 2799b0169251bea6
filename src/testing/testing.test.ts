import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { etcdSuiteOptions, startEtcd, startEtcdCluster, startTcpProxy, waitFor } from './index.js';
import { requirableSuiteOptions } from './suite-options.js';

async function etcdPut(url: string, key: string, value: string): Promise<Response> {
  // etcd 3.4 serves a JSON gateway at /v3: keys and values are base64.
  return await fetch(`${url}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') }),
    signal: AbortSignal.timeout(2000),
  });
}

describe('throwaway etcd', etcdSuiteOptions(), () => {
  test('a single member serves requests and leaves no data dir behind', async () => {
    const etcd = await startEtcd();
    const member = etcd.members[0]!;
    try {
      const response = await etcdPut(etcd.endpoints[0]!, 'k', 'v');
      assert.equal(response.status, 200);
      assert.ok(existsSync(member.dataDir));
    } finally {
      await etcd.close();
    }
    assert.equal(existsSync(member.dataDir), false);
    assert.equal(member.pid, undefined);
  });

  test('a 3-member cluster keeps serving with one member killed', async () => {
    await using cluster = await startEtcdCluster(3);
    assert.equal(cluster.endpoints.length, 3);
    await cluster.members[0]!.kill();
    // If the killed member led raft, the other two first elect a new leader (1–2 s).
    const response = await waitFor(() => etcdPut(cluster.endpoints[1]!, 'k', 'v'), { timeoutMs: 15_000, what: 'put after a member died' });
    assert.equal(response.status, 200);
  });
});

describe('tcp proxy', () => {
  async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
    const { createServer } = await import('node:net');
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  async function roundTrip(port: number, text: string, timeoutMs: number): Promise<string | undefined> {
    return await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(received || undefined);
      }, timeoutMs);
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received === text) {
          clearTimeout(timer);
          socket.end();
          resolve(received);
        }
      });
      socket.on('error', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      socket.write(text);
    });
  }

  test('forwards, black-holes without closing, and restores', async () => {
    const echo = await echoServer();
    const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echo.port } });
    try {
      assert.equal(await roundTrip(proxy.port, 'hello', 2000), 'hello');
      proxy.blackhole();
      assert.equal(await roundTrip(proxy.port, 'lost', 200), undefined);
      proxy.restore();
      assert.equal(await roundTrip(proxy.port, 'back', 2000), 'back');
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  test('cut resets open connections', async () => {
    const echo = await echoServer();
    const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: echo.port } });
    try {
      const socket = connect(proxy.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => {});
      await waitFor(() => proxy.connections > 0, { what: 'proxied connection' });
      proxy.cut();
      await closed;
      assert.equal(proxy.connections, 0);
    } finally {
      await proxy.close();
      await echo.close();
    }
  });
});

describe('requirable suite options', () => {
  test('skip with the reason locally, throw when CI or the require variable says so', () => {
    const saved = { ci: process.env['CI'], req: process.env['WARDEN_REQUIRE_THING'] };
    try {
      delete process.env['CI'];
      delete process.env['WARDEN_REQUIRE_THING'];
      assert.deepEqual(requirableSuiteOptions(undefined, 'WARDEN_REQUIRE_THING'), {});
      assert.deepEqual(requirableSuiteOptions('thing missing', 'WARDEN_REQUIRE_THING'), { skip: 'thing missing' });
      process.env['WARDEN_REQUIRE_THING'] = '1';
      assert.throws(() => requirableSuiteOptions('thing missing', 'WARDEN_REQUIRE_THING'), /thing missing .*forbids skipping/);
      delete process.env['WARDEN_REQUIRE_THING'];
      process.env['CI'] = 'true';
      assert.throws(() => requirableSuiteOptions('thing missing', 'WARDEN_REQUIRE_THING'), /forbids skipping/);
    } finally {
      if (saved.ci === undefined) delete process.env['CI'];
      else process.env['CI'] = saved.ci;
      if (saved.req === undefined) delete process.env['WARDEN_REQUIRE_THING'];
      else process.env['WARDEN_REQUIRE_THING'] = saved.req;
    }
  });
});
