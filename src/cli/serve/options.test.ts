import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAliasArgs } from '../commands/alias.js';
import { parseGetArgs } from '../commands/get.js';
import { parseLsArgs } from '../commands/ls.js';
import { parsePublishArgs } from '../commands/publish.js';
import { parseTokenArgs } from '../commands/token.js';
import { defaultNodeId, parseServeArgs, parseSize, SERVE_FLAGS } from './options.js';

test('serve: defaults serve ./data on 0.0.0.0:8080, single node', () => {
  const r = parseServeArgs([], {});
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  assert.equal(r.options.data, './data');
  assert.equal(r.options.port, 8080);
  assert.equal(r.options.host, '0.0.0.0');
  assert.deepEqual(r.options.etcd, []);
  assert.equal(r.options.maxUploadBytes, 5 * 1024 ** 3);
  assert.equal(r.options.symlinks, 'auto');
  assert.equal(r.options.readAuth, false);
  assert.equal(r.options.partitions, 64);
  assert.equal(r.options.ttlS, 10);
  assert.equal(r.options.zone, undefined);
});

test('serve: cluster flags map to options (etcd list, advertise, node id, partitions, ttl, zone)', () => {
  const r = parseServeArgs(['--etcd', 'http://a:1,http://b:2', '--advertise', 'http://10.0.0.1:8080', '--node-id', 'n1', '--partitions', '32', '--ttl', '3'], { WARDEN_ZONE: 'eu-1' });
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  assert.deepEqual(r.options.etcd, ['http://a:1', 'http://b:2']);
  assert.equal(r.options.advertise, 'http://10.0.0.1:8080');
  assert.equal(r.options.nodeId, 'n1');
  assert.equal(r.options.partitions, 32);
  assert.equal(r.options.ttlS, 3);
  assert.equal(r.options.zone, 'eu-1');
  assert.equal(parseServeArgs(['--ttl', '1'], {}).kind, 'error', 'a TTL under 2 s is refused (etcd lease floor)');
});

test('serve: every flag has a WARDEN_* variable, and a flag wins over it', () => {
  for (const [flag, spec] of Object.entries(SERVE_FLAGS)) if (flag !== 'help') assert.match(spec.env, /^WARDEN_[A-Z_]+$/, flag);
  const env = { WARDEN_DATA: '/d', WARDEN_PORT: '9', WARDEN_READ_AUTH: 'true', WARDEN_SYMLINKS: 'mf', WARDEN_MAX_UPLOAD: '10MiB', WARDEN_NODE_ID: 'n1', WARDEN_ETCD: 'http://a:1, http://b:2', WARDEN_TOKENS: '/t.json', WARDEN_HASH_THREADS: '0' };
  const r = parseServeArgs(['--port', '10', '--symlinks', 'native'], env);
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  assert.equal(r.options.port, 10);
  assert.equal(r.options.symlinks, 'native');
  assert.equal(r.options.data, '/d');
  assert.equal(r.options.readAuth, true);
  assert.equal(r.options.maxUploadBytes, 10 * 1024 * 1024);
  assert.equal(r.options.nodeId, 'n1');
  assert.equal(r.options.tokens, '/t.json');
  assert.deepEqual(r.options.etcd, ['http://a:1', 'http://b:2']);
  assert.equal(r.options.hashThreads, 0);
  const defaults = parseServeArgs([], {});
  assert.ok(defaults.kind === 'run' && defaults.options.hashThreads === undefined, 'hash threads default to automatic');
});

test('serve: bad values are usage errors', () => {
  for (const argv of [['--port', 'x'], ['--port', '70000'], ['--symlinks', 'hard'], ['--max-upload', 'lots'], ['--node-id', '../x'], ['--bogus'], ['--log-level', 'loud'], ['--hash-threads', '-1'], ['--hash-threads', 'many'], ['--hash-threads', '65']]) {
    assert.equal(parseServeArgs(argv, {}).kind, 'error', argv.join(' '));
  }
  assert.equal(parseServeArgs([], { WARDEN_READ_AUTH: 'maybe' }).kind, 'error');
  assert.equal(parseServeArgs(['--help'], {}).kind, 'help');
});

test('sizes and node ids', () => {
  assert.equal(parseSize('5GiB'), 5 * 1024 ** 3);
  assert.equal(parseSize('64k'), 65536);
  assert.equal(parseSize('100'), 100);
  assert.equal(parseSize('0'), undefined);
  assert.equal(defaultNodeId('my host.example'), 'my-host.example');
  assert.equal(defaultNodeId('..'), 'node');
});

test('client verbs: argv and WARDEN_SERVER/WARDEN_TOKEN map to options', () => {
  const env = { WARDEN_SERVER: 'http://h:1/', WARDEN_TOKEN: 't' };
  const p = parsePublishArgs(['acme/app', '1.0', 'f.bin'], env);
  assert.deepEqual(p, { client: { server: 'http://h:1', token: 't' }, owner: 'acme', name: 'app', version: '1.0', file: 'f.bin', contentType: undefined });
  assert.equal(typeof parsePublishArgs(['acme/app@x', '1.0', 'f'], env), 'string');
  const g = parseGetArgs(['acme/app@stable', '-o', 'out', '--server', 'http://s:2'], env);
  assert.deepEqual(g, { client: { server: 'http://s:2', token: 't' }, owner: 'acme', name: 'app', ref: 'stable', output: 'out' });
  assert.equal((parseGetArgs(['acme/app'], {}) as { ref: string }).ref, 'latest');
  assert.equal((parseLsArgs(['acme/app', '--json'], {}) as { json: boolean }).json, true);
  assert.deepEqual(parseAliasArgs(['acme/app', '@latest', '2', '--if-match', '*'], {}), { client: { server: 'http://127.0.0.1:8080', token: undefined }, owner: 'acme', name: 'app', alias: 'latest', version: '2', ifMatch: '*' });
  assert.deepEqual(parseTokenArgs(['create', '--owners', 'a,b', '--scopes', 'read,write']), { owners: ['a', 'b'], scopes: ['read', 'write'] });
  assert.equal(typeof parseTokenArgs(['create', '--owners', '*', '--scopes', 'root']), 'string');
});
