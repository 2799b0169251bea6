/**
 * Traversal corpus, sent as raw bytes over a socket (fetch and new URL() would normalise it),
 * against a server whose DATA sits four directories deep under canary files, plus hostile
 * native symlinks and Minshall+French files planted by hand inside DATA. No response may
 * contain a canary byte, whatever the encoding.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rawRequest, startTestServer, type RawResponse, type TestServer } from './server-harness.js';

const MARK = `CANARY-${randomBytes(6).toString('hex')}`;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A Minshall+French symlink file (XSym), written by hand as an attacker would. */
function xsym(target: string): Buffer {
  const head = `XSym\n${String(Buffer.byteLength(target)).padStart(4, '0')}\n${createHash('md5').update(target).digest('hex')}\n${target}\n`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(1067 - Buffer.byteLength(head), ' ')]);
}

function meta(version: string, content: Buffer): string {
  return JSON.stringify({ version, sha256: sha(content), size: content.length, contentType: 'text/plain', createdAt: new Date().toISOString(), fencingToken: 'x' });
}

const DOT_DOT_SLASH = [
  '../', '..%2f', '..%2F', '%2e%2e/', '%2e%2e%2f', '%2E%2E%2F', '.%2e/', '%2e./', '%252e%252e%252f', '%25252e%25252e%25252f',
  '..%5c', '..\\', '%2e%2e%5c', '..%c0%af', '%c0%ae%c0%ae/', '%c0%ae%c0%ae%c0%af', '%e0%80%ae%e0%80%ae/', '..%c1%9c', '..%u2215',
  '%uff0e%uff0e/', '\xef\xbc\x8e\xef\xbc\x8e\xef\xbc\x8f', '%ef%bc%8e%ef%bc%8e%ef%bc%8f', '\xe2\x80\xa4\xe2\x80\xa4/', '%e2%80%a4%e2%80%a4%2f',
  '..%e2%88%95', '....//', '..;/', '.../', '..%00/', '..\x00/', '%2e%2e%00/', '..%0a/', '..%20/', '.%00./',
];
const PREFIXES = ['/', '/v1/', '/v1/files/', '/v1/files/acme/', '/v1/files/acme/app/', '/v1/files/acme/app/@', '/v1/files/acme/app/1.0/'];
const DEPTHS = [1, 2, 3, 4, 6, 9];

describe('traversal: no request reaches a byte outside DATA', () => {
  let s: TestServer;
  let top: string;
  let outside: string;
  const canaries: string[] = [];
  const statuses = new Map<number, number>();

  before(async () => {
    top = await mkdtemp(join(tmpdir(), 'warden-trav-'));
    // Canaries at every depth above DATA: top/secret, top/d1/secret, … top/d1/d2/d3/d4/secret; DATA = top/d1/d2/d3/d4/data.
    let dir = top;
    for (let depth = 0; depth <= 4; depth++) {
      if (depth > 0) dir = join(dir, `d${depth}`);
      await mkdir(dir, { recursive: true });
      for (const name of ['secret', 'token', 'passwd', '1.0', 'app', 'acme']) {
        const path = join(dir, name);
        await writeFile(path, `${MARK} ${path}\n`);
        canaries.push(path);
      }
    }
    outside = join(top, 'outside');
    await mkdir(join(outside, 'versions'), { recursive: true });
    await mkdir(join(outside, 'aliases'), { recursive: true });
    const secret = Buffer.from(`${MARK} outside/versions/1\n`);
    await writeFile(join(outside, 'versions', '1'), secret);
    await writeFile(join(outside, 'versions', '1.json'), meta('1', secret));
    await writeFile(join(outside, 'versions', 'x'), secret);
    await writeFile(join(outside, 'versions', 'x.json'), meta('x', secret));
    await writeFile(join(outside, 'm.json'), meta('m', Buffer.from('inner')));
    await symlink('../versions/1', join(outside, 'aliases', 'latest'));
    s = await startTestServer({ dir: join(dir) });
    const writer = s.tokens.writer;
    const ok = await fetch(`${s.url}/v1/files/acme/app/1.0`, { method: 'PUT', body: 'legit 1.0', headers: { authorization: `Bearer ${writer}` } });
    assert.equal(ok.status, 201);
    await fetch(`${s.url}/v1/files/acme/app/@latest`, { method: 'PUT', body: '{"version":"1.0"}', headers: { authorization: `Bearer ${writer}` } });

    // Hostile plants inside DATA.
    const data = s.data;
    const versions = join(data, 'acme', 'app', 'versions');
    const aliases = join(data, 'acme', 'app', 'aliases');
    const canary0 = join(top, 'secret');
    const canaryBytes = Buffer.from(`${MARK} ${canary0}\n`);
    await symlink(canary0, join(versions, 'evil'));
    await writeFile(join(versions, 'evil.json'), meta('evil', canaryBytes));
    await symlink('../../../../../secret', join(versions, 'evil2'));
    await writeFile(join(versions, 'evil2.json'), meta('evil2', canaryBytes));
    await writeFile(join(versions, 'mf'), xsym('../../../../../secret'));
    await writeFile(join(versions, 'mf.json'), meta('mf', canaryBytes));
    await writeFile(join(versions, 'm'), 'inner');
    await symlink(join(outside, 'm.json'), join(versions, 'm.json'));
    for (const [name, target] of [
      ['up', '../../../../../../secret'],
      ['abs', canary0],
      ['outv', `../../../../../outside/versions/1`],
      ['dotdot', '../versions/../../../../../../secret'],
    ] as const) {
      await symlink(target, join(aliases, `n-${name}`));
      await writeFile(join(aliases, `m-${name}`), xsym(target));
    }
    await writeFile(join(aliases, 'm-valid-evil'), xsym('../versions/evil'));
    await symlink(top, join(data, 'escape'));
    await symlink('../..', join(data, 'acme', 'linked'));
    await mkdir(join(data, 'acme', 'vdir'));
    await symlink(join(outside, 'versions'), join(data, 'acme', 'vdir', 'versions'));
    await mkdir(join(data, 'acme', 'adir'));
    await symlink(join(outside, 'aliases'), join(data, 'acme', 'adir', 'aliases'));
    await writeFile(join(data, 'mfowner'), xsym(top));
  });

  after(async () => {
    await s.close();
    await rm(top, { recursive: true, force: true });
  });

  function check(target: string, res: RawResponse): void {
    const text = res.raw.toString('latin1');
    assert.ok(!text.includes(MARK), `canary leaked for ${JSON.stringify(target)}: ${text.slice(0, 300)}`);
    assert.ok(!/root:[x*]?:0:0/.test(text), `/etc/passwd leaked for ${JSON.stringify(target)}`);
    for (const c of canaries) assert.ok(!text.includes(c), `a canary path was echoed for ${JSON.stringify(target)}`);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500) assert.match(text, /WARDEN_ERR_STORE_CORRUPT_(ALIAS|METADATA)/, `${target} → ${res.status}`);
  }

  async function hit(target: string, method = 'GET', extra = ''): Promise<RawResponse> {
    const res = await rawRequest(s.port, Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`, 'latin1'));
    check(target, res);
    return res;
  }

  test('the legitimate file is served (the setup works)', async () => {
    const res = await hit('/v1/files/acme/app/1.0');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'legit 1.0');
    assert.equal((await hit('/v1/files/acme/app/@latest')).status, 200);
  });

  test('encoded ../ in every family, at every depth, under every prefix, never escapes', async (t) => {
    const targets: string[] = [];
    for (const prefix of PREFIXES) {
      for (const unit of DOT_DOT_SLASH) {
        for (const depth of DEPTHS) {
          for (const file of ['secret', 'd1/d2/token', 'etc/passwd']) targets.push(prefix + unit.repeat(depth) + file);
        }
      }
    }
    const queue = [...targets];
    const workers = Array.from({ length: 8 }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await hit(t);
    });
    await Promise.all(workers);
    assert.ok(targets.length > 4000, `corpus of ${targets.length}`);
    t.diagnostic(`${targets.length} requests; statuses ${JSON.stringify([...statuses].sort())}`);
    assert.ok((statuses.get(0) ?? 0) < targets.length / 10, 'most requests get an HTTP answer (not a dropped connection)');
    assert.ok((statuses.get(200) ?? 0) <= 2, `no traversal request is answered 200: ${JSON.stringify([...statuses])}`);
  });

  test('.. in every segment position, absolute forms, and odd request targets', async () => {
    const dots = ['..', '%2e%2e', '%2E%2e', '.%2e', '%252e%252e', '%c0%ae%c0%ae', '\xef\xbc\x8e\xef\xbc\x8e', '..%00', '.', '%2e', ''];
    const targets: string[] = [];
    for (const d of dots) {
      targets.push(`/v1/files/${d}/app/1.0`, `/v1/files/acme/${d}/1.0`, `/v1/files/acme/app/${d}`, `/v1/files/acme/app/@${d}`, `/v1/files/${d}/${d}/${d}`, `/v1/files/${d}/${d}`, `/v1/${d}/files/acme/app/1.0`);
    }
    const abs = encodeURIComponent(join(top, 'secret'));
    targets.push(
      `http://127.0.0.1/v1/files/../../secret`, `http://x/${top}/secret`, `//etc/passwd`, `///etc/passwd`, `/v1/files/acme/app//etc/passwd`,
      `/v1/files/acme/app/${abs}`, `/v1/files/acme/app/%2F${abs}`, `/v1/files/%2F/app/1.0`, `file:///etc/passwd`, `C:\\secret`, `\\\\server\\share\\secret`,
      `*`, `/v1/files/acme/app/1.0?../../../secret`, `/v1/files/acme/app/1.0#/../../secret`, `/v1/files/acme/app/1.0%3f/../../secret`,
      `/v1/files/escape/d1/secret`, `/v1/files/escape/d1`, `/v1/files/acme/linked/secret`, `/v1/files/acme/linked`, `/v1/files/mfowner/x/secret`,
      `/v1/files/acme/vdir/x`, `/v1/files/acme/vdir/1`, `/v1/files/acme/vdir`, `/v1/files/acme/adir/@latest`, `/v1/files/acme/adir`,
      `/v1/files/.warden/tmp/test`, `/v1/files/acme/app/versions`, `/v1/files/acme/app/1.0.json`, `/v1/files/acme/app/@..%2f1.0`,
    );
    for (const t of targets) for (const method of ['GET', 'HEAD']) await hit(t, method);
  });

  test('hand-planted native symlinks and Minshall+French files inside DATA are never followed out', async () => {
    for (const v of ['evil', 'evil2', 'm']) assert.equal((await hit(`/v1/files/acme/app/${v}`)).status, 404, v);
    // An XSym file published as a version is just bytes: served as such, never followed.
    const mf = await hit('/v1/files/acme/app/mf');
    assert.notEqual(mf.status, 200, 'its metadata (sha of the canary) does not match the XSym bytes');
    for (const name of ['up', 'abs', 'outv', 'dotdot']) {
      assert.equal((await hit(`/v1/files/acme/app/@n-${name}`)).status, 500, `native ${name}`);
      assert.equal((await hit(`/v1/files/acme/app/@m-${name}`)).status, 500, `mf ${name}`);
    }
    const viaValid = await hit('/v1/files/acme/app/@m-valid-evil');
    assert.ok(viaValid.status === 404 || viaValid.status === 500, `an alias to a planted version symlink: ${viaValid.status}`);
    const list = await hit('/v1/files/acme/app');
    assert.equal(list.status, 200);
    for (const path of ['/v1/files/escape/d1', '/v1/files/acme/vdir', '/v1/files/acme/adir']) assert.equal((await hit(path)).status, 404, path);
  });

  test('writes with traversal names are refused and create nothing outside DATA', async () => {
    const before = await snapshot(top, s.data);
    const auth = `Authorization: Bearer ${s.tokens.admin}\r\nContent-Length: 5\r\n`;
    for (const unit of DOT_DOT_SLASH.slice(0, 20)) {
      for (const prefix of ['/v1/files/', '/v1/files/acme/', '/v1/files/acme/app/', '/v1/files/acme/app/@']) {
        const res = await rawRequest(s.port, Buffer.from(`PUT ${prefix}${unit.repeat(3)}pwned HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\nhello`, 'latin1'));
        assert.ok(res.status === 400 || res.status === 404 || res.status === 0, `${prefix}${unit}: ${res.status}`);
      }
    }
    for (const [path, body] of [
      ['/v1/files/escape/d1/x', 'hello'],
      ['/v1/files/acme/linked/x', 'hello'],
      ['/v1/files/acme/vdir/new', 'hello'],
      ['/v1/files/acme/adir/@latest', '{"version":"1"}'],
      ['/v1/files/acme/app/@n-up', '{"version":"../../../secret"}'],
    ] as const) {
      const res = await rawRequest(s.port, Buffer.from(`PUT ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.tokens.admin}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
      check(path, res);
      assert.ok(res.status >= 400, `${path}: ${res.status}`);
    }
    assert.deepEqual(await snapshot(top, s.data), before);
  });
});

async function snapshot(dir: string, skip: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (path === skip) continue;
    out.push(path);
    if (entry.isDirectory()) out.push(...(await snapshot(path, skip)));
  }
  return out.sort();
}
