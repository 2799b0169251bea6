/**
 * Crash safety: kill -9 a real `warden serve` process in the middle of 200 concurrent
 * uploads, restart it on the same DATA, and check that every upload answered 201 is intact,
 * that no version is partial (each is 404 or exactly the bytes uploaded), and that the temp
 * folder is empty after start. Rounds: WARDEN_CRASH_ROUNDS (default 3; the soak script runs 20).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { request, type Agent } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { makeTmpDir, waitFor } from '../testing/index.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const TOKEN = 'crash-test-token';
const ROUNDS = Number(process.env.WARDEN_CRASH_ROUNDS ?? 3);
const UPLOADS = 200;

function body(round: number, i: number): Buffer {
  const size = 1024 + ((i * 7919 + round * 104729) % (256 * 1024));
  const b = Buffer.alloc(size);
  let x = (round * 1000 + i) * 2654435761 + 7;
  for (let k = 0; k < size; k += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    b.writeUInt32LE(x, k - (k + 4 > size ? k + 4 - size : 0));
  }
  return b;
}

async function startServe(data: string, tokens: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--data', data, '--port', '0', '--host', '127.0.0.1', '--tokens', tokens, '--log-level', 'warn', '--node-id', 'crash'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], { timeoutMs: 20_000, what: `warden serve to listen (${out})` });
  return { child, url };
}

function upload(url: string, path: string, payload: Buffer, agent: Agent | false): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, {
      method: 'PUT',
      agent,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-length': payload.length, 'x-warden-sha256': createHash('sha256').update(payload).digest('hex') },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    // Send in two halves so the kill can land in the middle of bodies too.
    req.write(payload.subarray(0, payload.length >> 1));
    setImmediate(() => req.end(payload.subarray(payload.length >> 1)));
  });
}

test(`kill -9 during ${UPLOADS} concurrent uploads (${ROUNDS} rounds): acknowledged uploads intact, nothing partial, temp cleaned`, { timeout: 120_000 }, async () => {
  await using tmp = await makeTmpDir('warden-crash-');
  const data = join(tmp.path, 'data');
  const tokens = join(tmp.path, 'tokens.json');
  await writeFile(tokens, JSON.stringify({ tokens: [{ sha256: createHash('sha256').update(TOKEN).digest('hex'), owners: ['*'], scopes: ['write'] }] }));
  const acknowledged: Array<{ path: string; payload: Buffer }> = [];
  const attempted: Array<{ path: string; payload: Buffer }> = [];
  let totalAcked = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const { child, url } = await startServe(data, tokens);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let answered = 0;
    const killAfter = 10 + ((round * 37) % 60);
    const uploads = Array.from({ length: UPLOADS }, async (_, i) => {
      const path = `/v1/files/crash/r${round}/v${i}`;
      const payload = body(round, i);
      attempted.push({ path, payload });
      const status = await upload(url, path, payload, false);
      if (status === 201) acknowledged.push({ path, payload });
      if (++answered === killAfter) child.kill('SIGKILL');
      return status;
    });
    await Promise.all(uploads);
    child.kill('SIGKILL');
    await exited;
    totalAcked = acknowledged.length;
  }
  const { child, url } = await startServe(data, tokens);
  try {
    assert.deepEqual(await readdir(join(data, '.warden', 'tmp', 'crash')), [], 'temp files are gone after start');
    for (const { path, payload } of attempted) {
      const res = await fetch(url + path);
      const got = Buffer.from(await res.arrayBuffer());
      assert.ok(res.status === 404 || (res.status === 200 && got.equals(payload)), `${path}: ${res.status}, ${got.length}/${payload.length} bytes`);
    }
    for (const { path, payload } of acknowledged) {
      const res = await fetch(url + path);
      assert.equal(res.status, 200, `${path} was acknowledged`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(payload), `${path} intact`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const files = new Set(await readdir(join(data, 'crash', `r${round}`, 'versions')).catch(() => [] as string[]));
      for (const f of files) if (!f.endsWith('.json')) assert.ok(files.has(`${f}.json`), `r${round}/${f} has metadata (no uncommitted content left)`);
    }
    assert.ok(totalAcked > 0, 'some uploads were acknowledged before the kill');
    assert.ok(totalAcked < attempted.length, 'the kill landed before every upload finished');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
