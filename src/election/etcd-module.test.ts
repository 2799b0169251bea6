import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('etcd3 loads only when an etcd backend is created, not on import of warden/election', async () => {
  // A fresh process: this test process may already have loaded etcd3 for other tests.
  const script = `
    import { createRequire } from 'node:module';
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/etcd3/'));
    const election = await import(${JSON.stringify(new URL('./index.js', import.meta.url).href)});
    const backend = election.createMemoryBackend();
    const session = await election.Session.create(backend, { ttlMs: 2000 });
    await session.close();
    await backend.close();
    const before = loaded();
    const etcd = election.createEtcdBackend({ endpoints: ['http://127.0.0.1:9'] });
    await etcd.close();
    console.log(JSON.stringify({ before, after: loaded() }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), { before: false, after: true });
});
