import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { clientOptions, parseRef, readText, send } from './http-client.js';

test('send retries 503 answers after Retry-After, then returns the final answer; the token goes in Authorization', async () => {
  let calls = 0;
  const seen: Array<string | undefined> = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    calls++;
    seen.push(req.headers.authorization);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      if (calls < 3) {
        res.writeHead(503, { 'Retry-After': '0' });
        res.end();
      } else {
        res.writeHead(201);
        res.end('done');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await send(clientOptions({ server: url, token: 'tok' }, {}), { method: 'PUT', path: '/x', body: () => 'payload' });
    assert.equal(res.statusCode, 201);
    assert.equal(await readText(res), 'done');
    assert.equal(calls, 3);
    assert.deepEqual(seen, ['Bearer tok', 'Bearer tok', 'Bearer tok']);
    assert.deepEqual(bodies, ['payload', 'payload', 'payload'], 'the body is sent again on each attempt');
    calls = -10;
    const gaveUp = await send(clientOptions({ server: url }, {}), { method: 'GET', path: '/x', attempts: 2 });
    assert.equal(gaveUp.statusCode, 503);
    gaveUp.resume();
  } finally {
    server.close();
  }
});

test('refs and client options', () => {
  assert.deepEqual(parseRef('a/b@c'), { owner: 'a', name: 'b', ref: 'c' });
  assert.deepEqual(parseRef('a/b'), { owner: 'a', name: 'b', ref: undefined });
  for (const bad of ['a', 'a/b/c', 'a/b@', '/b', 'a/b@c@d']) assert.equal(parseRef(bad), undefined, bad);
  assert.deepEqual(clientOptions({}, {}), { server: 'http://127.0.0.1:8080', token: undefined });
});
