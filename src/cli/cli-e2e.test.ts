import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { makeTmpDir, waitFor } from '../testing/index.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('warden token/serve/publish/alias/ls/get work together; SIGTERM shuts down cleanly', { timeout: 60_000 }, async () => {
  await using tmp = await makeTmpDir('warden-cli-');
  const created = await run(['token', 'create', '--owners', 'acme', '--scopes', 'write']);
  assert.equal(created.code, 0);
  const token = created.stdout.trim();
  const entry = JSON.parse(created.stderr) as { sha256: string };
  assert.ok(!created.stderr.includes(token), 'only the hash goes to the tokens file');
  const tokens = join(tmp.path, 'tokens.json');
  await writeFile(tokens, JSON.stringify({ tokens: [entry] }));
  const server = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], {
    env: { ...process.env, WARDEN_DATA: join(tmp.path, 'data'), WARDEN_TOKENS: tokens },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  server.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
  try {
    const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], { timeoutMs: 20_000, what: 'serve URL' });
    const env = { WARDEN_SERVER: url, WARDEN_TOKEN: token };
    const cluster = (await (await fetch(`${url}/v1/cluster`)).json()) as { node: string; members: Array<{ id: string; url: string }>; partitions: Array<{ leader: string }> };
    assert.equal(cluster.members[0]?.url, url);
    assert.equal(cluster.partitions.length, 64, "--partitions defaults to 64");
    assert.ok(cluster.partitions.every((p) => p.leader === cluster.node));
    const file = join(tmp.path, 'f.bin');
    await writeFile(file, Buffer.alloc(300_000, 7));
    const pub = await run(['publish', 'acme/app', '1.0', file], env);
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, /^published acme\/app\/1.0 300000 bytes/);
    assert.equal((await run(['publish', 'acme/app', '1.0', file], env)).code, 0);
    await writeFile(file, 'different');
    const conflict = await run(['publish', 'acme/app', '1.0', file], env);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /409 WARDEN_ERR_STORE_VERSION_CONFLICT/);
    assert.equal((await run(['publish', 'acme/app', '1.0', file], { WARDEN_SERVER: url })).code, 1, 'no token → refused');
    assert.equal((await run(['alias', 'acme/app', 'latest', '1.0'], env)).code, 0);
    const ls = await run(['ls', 'acme/app'], env);
    assert.match(ls.stdout, /^1\.0\t300000\t/m);
    assert.match(ls.stdout, /^@latest\t-> 1\.0$/m);
    const dest = join(tmp.path, 'out.bin');
    const got = await run(['get', 'acme/app', '-o', dest], env);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stderr, /verified/);
    assert.deepEqual(await readFile(dest), Buffer.alloc(300_000, 7));
    assert.equal((await run(['get', 'acme/app@nope'], env)).code, 1);
  } finally {
    server.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'graceful exit on SIGTERM');
});

test('warden get refuses bytes that do not match the ETag and writes nothing', async () => {
  await using tmp = await makeTmpDir('warden-cli-');
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => {
    res.writeHead(200, { ETag: `"${'0'.repeat(64)}"`, 'Content-Length': 5 });
    res.end('hello');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as import('node:net').AddressInfo).port;
    const dest = join(tmp.path, 'out');
    const r = await run(['get', 'acme/app@1', '-o', dest, '--server', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sha256 mismatch/);
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual(await readdir(tmp.path), []);
  } finally {
    server.close();
  }
});

test('warden serve refuses a cluster node without a usable --advertise URL, and bad flags', async () => {
  const etcd = await run(['serve', '--etcd', 'http://127.0.0.1:1', '--port', '0', '--advertise', 'not-a-url']);
  assert.equal(etcd.code, 1);
  assert.match(etcd.stderr, /--advertise/);
  assert.equal((await run(['serve', '--port', 'nope'])).code, 2);
  assert.equal((await run(['serve', '--help'])).code, 0);
});
