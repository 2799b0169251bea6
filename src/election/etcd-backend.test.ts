import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdSuiteOptions, freePort, startEtcd, type EtcdCluster } from '../testing/index.js';
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
