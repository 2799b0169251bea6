import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdSuiteOptions, freePort, startEtcd, startTcpProxy, waitFor, type EtcdCluster } from '../testing/index.js';
import type { Backend } from './backend.js';
import { registerBackendContract } from './backend-contract.js';
import { createEtcdBackend } from './etcd-backend.js';
import { ElectionError } from './errors.js';
import { Session } from './session.js';

describe('etcd backend contract', etcdSuiteOptions(), () => {
  let etcd: EtcdCluster;
  let backend: Backend;
  before(async () => {
    etcd = await startEtcd();
    backend = createEtcdBackend({ endpoints: etcd.endpoints });
  });
  after(async () => {
    await backend.close();
    await etcd.close();
  });
  registerBackendContract(() => backend, { ttlMs: 2_000 });
});

describe('etcd backend bad input', () => {
  test('invalid endpoints and timeouts are rejected with WARDEN_ERR_BACKEND_INVALID_OPTIONS', () => {
    for (const options of [{ endpoints: [] }, { endpoints: ['ftp://x:1'] }, { endpoints: ['no-port'] }, { endpoints: ['http://127.0.0.1:2379'], rpcTimeoutMs: 0 }]) {
      assert.throws(() => createEtcdBackend(options), (e: unknown) => e instanceof ElectionError && e.code === 'WARDEN_ERR_BACKEND_INVALID_OPTIONS', JSON.stringify(options));
    }
  });

  test('an unreachable endpoint fails session creation with a retryable coded error', async () => {
    const port = await freePort();
    const backend = createEtcdBackend({ endpoints: [`http://127.0.0.1:${port}`], rpcTimeoutMs: 1_500, dialTimeoutMs: 1_000 });
    try {
      await assert.rejects(Session.create(backend, { ttlMs: 2_000 }), (e: unknown) => {
        assert.ok(e instanceof ElectionError, String(e));
        assert.ok(['WARDEN_ERR_BACKEND_UNAVAILABLE', 'WARDEN_ERR_BACKEND_TIMEOUT'].includes(e.code), e.code);
        assert.equal(e.retryable, true);
        return true;
      });
    } finally {
      await backend.close();
    }
  });
});

describe('etcd backend with a dead member in its endpoint list', etcdSuiteOptions(), () => {
  test('requests and sessions still succeed: calls that could not be sent are retried on another member', async () => {
    await using etcd = await startEtcd();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const backend = createEtcdBackend({ endpoints: [dead, etcd.endpoints[0]!, dead.replace(/:(\d+)$/, (_, p: string) => `:${Number(p) + 1}`)] });
    try {
      const session = await Session.create(backend, { ttlMs: 2_000 });
      for (let i = 0; i < 20; i++) {
        await backend.put(`/dead-member/${i}`, 'v', { lease: session.leaseId });
        assert.equal((await backend.get(`/dead-member/${i}`)).kvs.length, 1);
      }
      await session.close();
    } finally {
      await backend.close();
    }
  });
});

describe('etcd backend deadlines', etcdSuiteOptions(), () => {
  test('through a black hole, unary calls and keepalives fail with TIMEOUT at their deadline instead of hanging', async () => {
    await using etcd = await startEtcd();
    await using proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: etcd.members[0]!.clientPort } });
    const backend = createEtcdBackend({ endpoints: [proxy.url], rpcTimeoutMs: 2_000 });
    try {
      const lease = await backend.grantLease(2_000);
      proxy.blackhole();
      const started = performance.now();
      await assert.rejects(backend.get('/x', { timeoutMs: 300 }), (e: unknown) => e instanceof ElectionError && e.code === 'WARDEN_ERR_BACKEND_TIMEOUT' && e.retryable);
      await assert.rejects(backend.keepAliveOnce(lease.id, { timeoutMs: 300 }), (e: unknown) => e instanceof ElectionError && e.code === 'WARDEN_ERR_BACKEND_TIMEOUT');
      // Bounded by the deadlines (2 × 300 ms), not by TCP or gRPC defaults.
      assert.ok(performance.now() - started < 1_500, `took ${Math.round(performance.now() - started)} ms`);
      proxy.restore();
      proxy.cut();
      await waitFor(async () => (await backend.keepAliveOnce(lease.id, { timeoutMs: 500 }).catch(() => 0)) > 0, { what: 'keepalive after restore' });
    } finally {
      await backend.close();
    }
  });

  test('with etcd paused (SIGSTOP), the session gives up at its local deadline, before the lease could expire', async () => {
    await using etcd = await startEtcd();
    const backend = createEtcdBackend({ endpoints: etcd.endpoints });
    try {
      const session = await Session.create(backend, { ttlMs: 2_000 });
      let endedAt = 0;
      session.signal.addEventListener('abort', () => (endedAt = performance.now()));
      const deadlineBefore = session.deadline();
      etcd.members[0]!.pause();
      const pausedAt = performance.now();
      try {
        await waitFor(() => session.signal.aborted, { what: 'session deadline', timeoutMs: 5_000 });
      } finally {
        etcd.members[0]!.resume();
      }
      assert.equal((session.signal.reason as { reason: string }).reason, 'deadline');
      // The deadline only moves with acknowledged keepalives: it lies within one TTL of the pause.
      assert.ok(endedAt >= deadlineBefore && endedAt - pausedAt <= session.ttlMs - session.safetyMarginMs + 100, `ended ${Math.round(endedAt - pausedAt)} ms after the pause`);
      await session.close();
    } finally {
      await backend.close();
    }
  });
});

describe('etcd backend shared watch stream', etcdSuiteOptions(), () => {
  test('a watch whose history was compacted fails alone with COMPACTED; the other watches on the stream keep working', async () => {
    await using etcd = await startEtcd();
    const backend = createEtcdBackend({ endpoints: etcd.endpoints });
    try {
      const first = await backend.put('/mux/a', '1');
      await backend.put('/mux/a', '2');
      const last = await backend.put('/mux/a', '3');
      // Compact through etcd's JSON gateway (the backend has no compaction call).
      const response = await fetch(`${etcd.endpoints[0]!}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(last), physical: true }) });
      assert.equal(response.status, 200);
      const live: string[] = [];
      const other = backend.watch('/mux/b', { onEvents: (e) => live.push(...e.map((x) => x.kv.value)), onError: (e) => assert.fail(e) });
      const failed = await new Promise<unknown>((resolve) => {
        backend.watch('/mux/a', { fromRevision: first, onEvents: () => resolve(new Error('events from compacted history')), onError: resolve });
      });
      assert.ok(failed instanceof ElectionError && failed.code === 'WARDEN_ERR_BACKEND_COMPACTED', String(failed));
      await waitFor(async () => {
        await backend.put('/mux/b', 'x');
        return live.length > 0;
      }, { what: 'the other watch to see a write', timeoutMs: 5_000 });
      other.close();
    } finally {
      await backend.close();
    }
  });

  test('a watch callback that throws ends that watch only (onError FAILED); the others keep working', async () => {
    await using etcd = await startEtcd();
    const backend = createEtcdBackend({ endpoints: etcd.endpoints });
    try {
      let failed: unknown;
      const live: string[] = [];
      backend.watch('/mux/bad', {
        onEvents: () => {
          throw new Error('bug in a watcher');
        },
        onError: (e) => (failed = e),
      });
      const good = backend.watch('/mux/good', { onEvents: (e) => live.push(...e.map((x) => x.kv.value)), onError: (e) => assert.fail(e) });
      await waitFor(async () => {
        await backend.put('/mux/bad', 'x');
        return failed !== undefined;
      }, { what: 'the bad watch to fail', timeoutMs: 5_000 });
      assert.ok(failed instanceof ElectionError && failed.code === 'WARDEN_ERR_BACKEND_FAILED', String(failed));
      await waitFor(async () => {
        await backend.put('/mux/good', 'y');
        return live.includes('y');
      }, { what: 'the good watch to keep working', timeoutMs: 5_000 });
      good.close();
    } finally {
      await backend.close();
    }
  });

  test('a broken stream fails every watch on it with a retryable error; new watches open a new stream', async () => {
    await using etcd = await startEtcd();
    await using proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: etcd.members[0]!.clientPort } });
    const backend = createEtcdBackend({ endpoints: [proxy.url] });
    try {
      await backend.put('/mux/warm', '1');
      const errors: unknown[] = [];
      const watches = [0, 1, 2].map((i) => backend.watch(`/mux/broken/${i}`, { onEvents: () => undefined, onError: (e) => errors.push(e) }));
      await backend.put('/mux/broken/0', 'x');
      proxy.cut();
      await waitFor(() => errors.length === 3, { what: 'every watch to fail', timeoutMs: 10_000 });
      for (const e of errors) assert.ok(e instanceof ElectionError && e.retryable, String(e));
      for (const w of watches) w.close();
      const seen: string[] = [];
      const again = backend.watch('/mux/broken/0', { onEvents: (e) => seen.push(...e.map((x) => x.kv.value)), onError: () => undefined });
      await waitFor(async () => {
        await backend.put('/mux/broken/0', 'y').catch(() => undefined);
        return seen.includes('y');
      }, { what: 'a new watch after the break', timeoutMs: 10_000 });
      again.close();
    } finally {
      await backend.close();
    }
  });
});
