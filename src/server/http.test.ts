import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { waitFor } from '../testing/index.js';
import { rawRequest, startTestServer, type TestServer } from './server-harness.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

async function put(s: TestServer, path: string, body: Buffer | string, headers: Record<string, string> = {}, token: string | null = s.tokens.writer): Promise<Response> {
  return fetch(s.url + path, { method: 'PUT', body, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
}

async function versionFiles(s: TestServer, owner = 'acme', name = 'app'): Promise<string[]> {
  return (await readdir(join(s.data, owner, name, 'versions')).catch(() => [] as string[])).sort();
}

async function tmpFiles(s: TestServer): Promise<string[]> {
  return readdir(join(s.data, '.warden', 'tmp', 'test'));
}

describe('HTTP API on a real server', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ store: { maxUploadBytes: 4 * 1024 * 1024 }, server: { cache: { maxFileBytes: 64 * 1024 } } });
  });
  after(() => s.close());

  test('publish: 201 new, 200 identical, 409 different; content and headers served back', async () => {
    const body = bytes(5000, 1);
    const r1 = await put(s, '/v1/files/acme/app/1.0', body);
    assert.equal(r1.status, 201);
    const meta = (await r1.json()) as { sha256: string; size: number };
    assert.equal(meta.sha256, sha(body));
    assert.equal(meta.size, 5000);
    assert.equal((await put(s, '/v1/files/acme/app/1.0', body)).status, 200);
    const r3 = await put(s, '/v1/files/acme/app/1.0', bytes(5000, 2));
    assert.equal(r3.status, 409);
    assert.equal(((await r3.json()) as { error: { code: string } }).error.code, 'WARDEN_ERR_STORE_VERSION_CONFLICT');
    const g = await fetch(`${s.url}/v1/files/acme/app/1.0`);
    assert.equal(g.status, 200);
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), body);
    assert.equal(g.headers.get('etag'), `"${sha(body)}"`);
    assert.equal(g.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(g.headers.get('content-type'), 'application/octet-stream');
    assert.equal(g.headers.get('content-length'), '5000');
    const h = await fetch(`${s.url}/v1/files/acme/app/1.0`, { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('content-length'), '5000');
    assert.equal((await h.arrayBuffer()).byteLength, 0);
  });

  test('Content-Type is stored from the upload, or guessed from the name', async () => {
    assert.equal((await put(s, '/v1/files/acme/page/v1', '<p>', { 'content-type': 'text/html; charset=utf-8' })).status, 201);
    assert.equal((await fetch(`${s.url}/v1/files/acme/page/v1`)).headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal((await put(s, '/v1/files/acme/conf/v1.json', '{}')).status, 400, 'versions ending in .json are refused (metadata collision)');
    assert.equal((await put(s, '/v1/files/acme/data.csv/v1', Buffer.from('a,b'))).status, 201);
    assert.equal((await fetch(`${s.url}/v1/files/acme/data.csv/v1`)).headers.get('content-type'), 'text/csv; charset=utf-8');
  });

  test('a wrong client sha256 is 400 and keeps nothing; a malformed one is 400', async () => {
    const r = await put(s, '/v1/files/acme/app/bad-sum', 'hello', { 'x-warden-sha256': sha('other') });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'WARDEN_ERR_STORE_DIGEST_MISMATCH');
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/bad-sum`)).status, 404);
    assert.ok(!(await versionFiles(s)).some((f) => f.startsWith('bad-sum')));
    assert.deepEqual(await tmpFiles(s), []);
    assert.equal((await put(s, '/v1/files/acme/app/bad-sum', 'hello', { 'x-warden-sha256': 'zz' })).status, 400);
    const ok = await put(s, '/v1/files/acme/app/good-sum', 'hello', { 'x-warden-sha256': sha('hello').toUpperCase() });
    assert.equal(ok.status, 201);
  });

  test('auth: 401 without or with an unknown token, 403 for the wrong owner or scope', async () => {
    const none = await put(s, '/v1/files/acme/app/auth', 'x', {}, null);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await put(s, '/v1/files/acme/app/auth', 'x', {}, 'nope')).status, 401);
    assert.equal((await put(s, '/v1/files/acme/app/auth', 'x', { authorization: 'Basic abc' }, null)).status, 401);
    const wrongOwner = await put(s, '/v1/files/acme/app/auth', 'x', {}, s.tokens.other);
    assert.equal(wrongOwner.status, 403);
    assert.equal(((await wrongOwner.json()) as { error: { code: string } }).error.code, 'WARDEN_ERR_AUTH_FORBIDDEN');
    assert.equal((await put(s, '/v1/files/acme/app/auth', 'x', {}, s.tokens.reader)).status, 403);
    assert.equal((await put(s, '/v1/files/acme/app/auth', 'x', {}, s.tokens.admin)).status, 201);
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/auth`)).status, 200, 'reads are public without --read-auth');
    assert.equal((await readdir(join(s.data, 'acme', 'app', 'versions'))).filter((f) => f.startsWith('auth')).length, 2);
  });

  test('413 at once when Content-Length is over the limit, and mid-stream for chunked uploads; nothing kept', async () => {
    const big = await rawRequest(s.port, `PUT /v1/files/acme/app/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.writer}\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
    assert.equal(big.status, 413);
    const chunked = await fetch(`${s.url}/v1/files/acme/app/big`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${s.tokens.writer}` },
      duplex: 'half',
      body: new ReadableStream({
        pull(controller) {
          controller.enqueue(new Uint8Array(256 * 1024));
        },
      }),
    } as RequestInit).catch((error: unknown) => error as Error);
    if (chunked instanceof Response) assert.equal(chunked.status, 413);
    await waitFor(() => s.app.inFlight === 0, { what: 'uploads settled' });
    assert.ok(!(await versionFiles(s)).some((f) => f.startsWith('big')));
    assert.deepEqual(await tmpFiles(s), []);
  });

  test('an upload cut mid-stream leaves nothing behind', async () => {
    for (const cutAt of [0, 1, 70_000, 999_999]) {
      const socket = connect(s.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`PUT /v1/files/acme/app/cut${cutAt} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.writer}\r\nContent-Length: 1000000\r\n\r\n`);
      if (cutAt > 0) socket.write(bytes(cutAt, 3));
      await waitFor(() => s.app.inFlight > 0, { what: 'upload started' });
      socket.destroy();
      await waitFor(() => s.app.inFlight === 0, { what: 'upload aborted' });
      await waitFor(async () => (await tmpFiles(s)).length === 0, { what: 'temp files removed' });
    }
    assert.ok(!(await versionFiles(s)).some((f) => f.startsWith('cut')));
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/cut70000`)).status, 404);
  });

  test('Range: single ranges 206, suffix and open ranges, 416 past the end, multi-range and junk → 200', async () => {
    for (const [size, label] of [
      [1000, 'small'],
      [300_000, 'large'],
    ] as const) {
      const body = bytes(size, size);
      assert.equal((await put(s, `/v1/files/acme/range/${label}`, body)).status, 201);
      const url = `${s.url}/v1/files/acme/range/${label}`;
      const get = async (range: string, extra: Record<string, string> = {}): Promise<[number, Buffer, Headers]> => {
        const r = await fetch(url, { headers: { range, ...extra } });
        return [r.status, Buffer.from(await r.arrayBuffer()), r.headers];
      };
      let [st, b, h] = await get('bytes=0-9');
      assert.equal(st, 206);
      assert.deepEqual(b, body.subarray(0, 10));
      assert.equal(h.get('content-range'), `bytes 0-9/${size}`);
      [st, b] = await get('bytes=-5');
      assert.equal(st, 206);
      assert.deepEqual(b, body.subarray(size - 5));
      [st, b] = await get(`bytes=${size - 3}-`);
      assert.deepEqual([st, b], [206, body.subarray(size - 3)]);
      [st, b] = await get(`bytes=10-${size + 100}`);
      assert.deepEqual([st, b.length], [206, size - 10]);
      [st, b, h] = await get(`bytes=${size}-`);
      assert.equal(st, 416);
      assert.equal(h.get('content-range'), `bytes */${size}`);
      [st] = await get('bytes=-0');
      assert.equal(st, 416);
      [st, b] = await get('bytes=0-1,5-6');
      assert.deepEqual([st, b.length], [200, size]);
      [st, b] = await get('bytes=9-2');
      assert.deepEqual([st, b.length], [200, size]);
      [st, b] = await get('items=0-1');
      assert.deepEqual([st, b.length], [200, size]);
      [st, b] = await get('bytes=0-9', { 'if-range': '"other"' });
      assert.deepEqual([st, b.length], [200, size]);
      [st, b] = await get('bytes=0-9', { 'if-range': `"${sha(body)}"` });
      assert.deepEqual([st, b.length], [206, 10]);
    }
  });

  test('conditional GET: If-None-Match → 304 (exact, weak, list, *), otherwise 200', async () => {
    const body = bytes(100, 9);
    await put(s, '/v1/files/acme/cond/1', body);
    const etag = `"${sha(body)}"`;
    for (const inm of [etag, `W/${etag}`, `"x", ${etag}`, '*']) {
      const r = await fetch(`${s.url}/v1/files/acme/cond/1`, { headers: { 'if-none-match': inm } });
      assert.equal(r.status, 304, inm);
      assert.equal(r.headers.get('etag'), etag);
      assert.equal((await r.arrayBuffer()).byteLength, 0);
    }
    assert.equal((await fetch(`${s.url}/v1/files/acme/cond/1`, { headers: { 'if-none-match': '"nope"' } })).status, 200);
  });

  test('aliases: create 201, move 200, If-Match CAS 412, If-None-Match *, alias answers with Content-Location', async () => {
    const a = bytes(300, 4);
    const b = bytes(400, 5);
    await put(s, '/v1/files/acme/al/1', a);
    await put(s, '/v1/files/acme/al/2', b);
    const move = (version: string, headers: Record<string, string> = {}): Promise<Response> => put(s, '/v1/files/acme/al/@latest', JSON.stringify({ version }), headers);
    assert.equal((await move('1')).status, 201);
    let g = await fetch(`${s.url}/v1/files/acme/al/@latest`);
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), a);
    assert.equal(g.headers.get('content-location'), '/v1/files/acme/al/1');
    assert.equal(g.headers.get('cache-control'), 'public, max-age=5');
    assert.equal((await move('2', { 'if-match': `"${sha(b)}"` })).status, 412);
    assert.equal((await move('2', { 'if-none-match': '*' })).status, 412);
    assert.equal((await move('2', { 'if-match': `"${sha(a)}"` })).status, 200);
    g = await fetch(`${s.url}/v1/files/acme/al/@latest`);
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), b, 'the move is visible at once on this node');
    assert.equal((await move('missing')).status, 404);
    assert.equal((await put(s, '/v1/files/acme/al/@latest', '{"version": 3}')).status, 400);
    assert.equal((await put(s, '/v1/files/acme/al/@latest', 'not json')).status, 400);
    assert.equal((await put(s, '/v1/files/acme/al/@latest', JSON.stringify({ version: '../../x' }))).status, 400);
    assert.equal((await put(s, '/v1/files/acme/al/@new', JSON.stringify({ version: '1' }), { 'if-match': '*' })).status, 412);
    const list = (await (await fetch(`${s.url}/v1/files/acme/al`)).json()) as { versions: Array<{ version: string }>; aliases: Array<{ alias: string; version: string }> };
    assert.deepEqual(list.versions.map((v) => v.version), ['1', '2']);
    assert.deepEqual(list.aliases, [{ alias: 'latest', version: '2' }]);
    const del = await fetch(`${s.url}/v1/files/acme/al/@latest`, { method: 'DELETE', headers: { authorization: `Bearer ${s.tokens.writer}` } });
    assert.equal(del.status, 204);
    assert.equal((await fetch(`${s.url}/v1/files/acme/al/@latest`)).status, 404);
  });

  test('alias compare-and-set race: of 20 concurrent moves with the same If-Match exactly one wins', async () => {
    await put(s, '/v1/files/acme/race/base', 'base');
    for (let i = 0; i < 20; i++) await put(s, `/v1/files/acme/race/v${i}`, `content ${i}`);
    assert.equal((await put(s, '/v1/files/acme/race/@cur', JSON.stringify({ version: 'base' }))).status, 201);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => put(s, '/v1/files/acme/race/@cur', JSON.stringify({ version: `v${i}` }), { 'if-match': `"${sha('base')}"` }).then((r) => r.status)),
    );
    assert.equal(results.filter((st) => st === 200).length, 1, String(results));
    assert.equal(results.filter((st) => st === 412).length, 19);
    const winner = results.indexOf(200);
    assert.equal(await (await fetch(`${s.url}/v1/files/acme/race/@cur`)).text(), `content ${winner}`);
  });

  test('concurrent publishes of one version: exactly one 201, others 200 (same bytes) or 409, never mixed', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => bytes(200_000, 100 + (i % 4)));
    const statuses = await Promise.all(bodies.map((b) => put(s, '/v1/files/acme/conc/1', b).then((r) => r.status)));
    assert.equal(statuses.filter((st) => st === 201).length, 1, String(statuses));
    const winner = bodies[statuses.indexOf(201)]!;
    statuses.forEach((st, i) => assert.equal(st, bodies[i]!.equals(winner) ? (st === 201 ? 201 : 200) : 409));
    assert.deepEqual(Buffer.from(await (await fetch(`${s.url}/v1/files/acme/conc/1`)).arrayBuffer()), winner);
    assert.deepEqual(await tmpFiles(s), []);
  });

  test('delete: 409 while aliased, force needs admin, then the alias dangles (404)', async () => {
    await put(s, '/v1/files/acme/del/1', 'one');
    await put(s, '/v1/files/acme/del/@stable', JSON.stringify({ version: '1' }));
    const del = (q: string, token: string): Promise<Response> => fetch(`${s.url}/v1/files/acme/del/1${q}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    const refused = await del('', s.tokens.writer);
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'WARDEN_ERR_STORE_VERSION_ALIASED');
    assert.equal((await del('?force=maybe', s.tokens.writer)).status, 400);
    assert.equal((await del('?force=true', s.tokens.writer)).status, 403);
    assert.equal((await fetch(`${s.url}/v1/files/acme/del/1`)).status, 200);
    assert.equal((await del('?force=true', s.tokens.admin)).status, 204);
    assert.equal((await fetch(`${s.url}/v1/files/acme/del/1`)).status, 404, 'the cache is invalidated by the delete');
    assert.equal((await fetch(`${s.url}/v1/files/acme/del/@stable`)).status, 404);
    assert.equal((await del('', s.tokens.writer)).status, 404);
    await put(s, '/v1/files/acme/del/2', 'two');
    assert.equal((await del('', s.tokens.writer).then(() => fetch(`${s.url}/v1/files/acme/del/2`, { method: 'DELETE', headers: { authorization: `Bearer ${s.tokens.writer}` } }))).status, 204);
  });

  test('a corrupt alias is never followed: 500 with its code, target not revealed', async () => {
    await put(s, '/v1/files/acme/bad/1', 'one');
    await put(s, '/v1/files/acme/bad/@ok', JSON.stringify({ version: '1' }));
    const dir = join(s.data, 'acme', 'bad', 'aliases');
    const targets = ['/etc/passwd', '../../../../etc/passwd', '../versions/../../other/x', '../versions/1/', '../versions/', 'versions/1', '../versions/.hidden', '../versions/1.json', '../versions/a\\b'];
    for (const [i, target] of targets.entries()) {
      await symlink(target, join(dir, `c${i}`));
      const r = await fetch(`${s.url}/v1/files/acme/bad/@c${i}`);
      assert.equal(r.status, 500, target);
      const text = await r.text();
      assert.match(text, /WARDEN_ERR_STORE_CORRUPT_ALIAS/);
      assert.ok(!text.includes(target), 'the link text is not echoed');
    }
    await writeFile(join(dir, 'plain'), 'not a link');
    assert.equal((await fetch(`${s.url}/v1/files/acme/bad/@plain`)).status, 500);
    const list = (await (await fetch(`${s.url}/v1/files/acme/bad`)).json()) as { aliases: Array<{ alias: string; error?: string }> };
    assert.equal(list.aliases.filter((a) => a.error === 'WARDEN_ERR_STORE_CORRUPT_ALIAS').length, targets.length + 1);
  });

  test('routes: 400 bad names, 404 unknown route and missing name, 405 wrong method; health, readiness, metrics, cluster', async () => {
    assert.equal((await fetch(`${s.url}/v1/files/acme/-bad/1`)).status, 400);
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/a..b`)).status, 400);
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/1/extra`)).status, 400);
    assert.equal((await fetch(`${s.url}/nope`)).status, 404);
    assert.equal((await fetch(`${s.url}/v1/files/acme/none`)).status, 404);
    assert.equal((await fetch(`${s.url}/v1/files/acme/none/1`)).status, 404);
    const post = await fetch(`${s.url}/v1/files/acme/app/1.0`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD, PUT, DELETE');
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
    const cluster = (await (await fetch(`${s.url}/v1/cluster`)).json()) as { node: string; partitions: Array<{ leader: string }> };
    assert.equal(cluster.node, 'test');
    assert.equal(cluster.partitions[0]?.leader, 'test');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /warden_http_requests_total\{method="GET",route="version",status="200"\} \d+/);
    assert.match(metrics, /warden_publishes_total\{result="created"\} \d+/);
    assert.match(metrics, /warden_errors_total\{code="WARDEN_ERR_AUTH_MISSING"\} \d+/);
    assert.ok(!metrics.includes(s.tokens.writer));
    const err = (await (await fetch(`${s.url}/v1/files/acme/none/1`)).json()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'WARDEN_ERR_STORE_NOT_FOUND');
    assert.ok(!err.error.message.includes(s.data), 'the data path is not revealed');
  });
});

describe('read auth, logs and shutdown', () => {
  test('--read-auth: reads need a read token for the owner', async () => {
    await using s = await startTestServer({ server: { readAuth: true } });
    assert.equal((await put(s, '/v1/files/acme/app/1', 'x')).status, 201);
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/1`)).status, 401);
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/1`, { headers: { authorization: `Bearer ${s.tokens.reader}` } })).status, 200);
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/1`, { headers: { authorization: `Bearer ${s.tokens.writer}` } })).status, 200, 'write implies read');
    assert.equal((await fetch(`${s.url}/v1/files/acme/app/1`, { headers: { authorization: `Bearer ${s.tokens.other}` } })).status, 403);
    assert.equal((await fetch(`${s.url}/v1/files/acme/app`)).status, 401);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  });

  test('logs are NDJSON with request ids and never contain a token', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    await using s = await startTestServer({ server: { logger: pino({ level: 'debug' }, sink) } });
    await put(s, '/v1/files/acme/app/1', 'x', { 'x-request-id': 'req-42' });
    await put(s, '/v1/files/acme/app/2', 'x', {}, 'secret-bad-token');
    await fetch(`${s.url}/v1/files/acme/app/1`, { headers: { authorization: `Bearer ${s.tokens.admin}` } });
    await waitFor(() => lines.length >= 4, { what: 'log lines' });
    const records = lines.map((l) => JSON.parse(l) as { reqId?: string; status?: number });
    assert.ok(records.some((r) => r.reqId === 'req-42' && r.status === 201));
    assert.ok(records.some((r) => r.status === 401 && typeof r.reqId === 'string'));
    const all = lines.join('\n');
    for (const t of [...Object.values(s.tokens), 'secret-bad-token']) assert.ok(!all.includes(t));
  });

  test('shutdown: readiness fails and new requests get 503 while an upload drains, then it completes', async () => {
    const s = await startTestServer();
    const socket = connect(s.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`PUT /v1/files/acme/app/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.writer}\r\nContent-Length: 10\r\n\r\nhello`);
    await waitFor(() => s.app.inFlight === 1, { what: 'upload in flight' });
    const closing = s.close();
    assert.equal(s.app.closing, true);
    const ready = await rawRequest(s.port, 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(ready.status, 503);
    const other = await rawRequest(s.port, 'GET /v1/files/acme/app/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(other.status, 503);
    assert.equal(other.headers['retry-after'], '1');
    socket.write('world');
    await closing;
    await waitFor(() => Buffer.concat(received).toString().startsWith('HTTP/1.1 201'), { what: 'the drained upload answered 201' });
    socket.destroy();
  });
});

describe('aliases as Minshall+French files (--symlinks mf)', () => {
  test('aliases are written as XSym files, served, swapped with CAS, and protect their version', async () => {
    await using s = await startTestServer({ store: { symlinks: 'mf' } });
    await put(s, '/v1/files/acme/mf/1', 'one');
    await put(s, '/v1/files/acme/mf/2', 'two');
    assert.equal((await put(s, '/v1/files/acme/mf/@latest', JSON.stringify({ version: '1' }))).status, 201);
    const { lstat, readFile } = await import('node:fs/promises');
    const path = join(s.data, 'acme', 'mf', 'aliases', 'latest');
    const st = await lstat(path);
    assert.ok(st.isFile() && st.size === 1067, 'a regular 1067-byte file');
    assert.ok((await readFile(path)).subarray(0, 5).equals(Buffer.from('XSym\n')));
    assert.equal(await (await fetch(`${s.url}/v1/files/acme/mf/@latest`)).text(), 'one');
    assert.equal((await put(s, '/v1/files/acme/mf/@latest', JSON.stringify({ version: '2' }), { 'if-match': `"${sha('two')}"` })).status, 412);
    assert.equal((await put(s, '/v1/files/acme/mf/@latest', JSON.stringify({ version: '2' }), { 'if-match': `"${sha('one')}"` })).status, 200);
    assert.equal(await (await fetch(`${s.url}/v1/files/acme/mf/@latest`)).text(), 'two');
    assert.equal((await fetch(`${s.url}/v1/files/acme/mf/2`, { method: 'DELETE', headers: { authorization: `Bearer ${s.tokens.writer}` } })).status, 409);
    assert.deepEqual(((await (await fetch(`${s.url}/v1/files/acme/mf`)).json()) as { aliases: unknown }).aliases, [{ alias: 'latest', version: '2' }]);
  });
});
