import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseElectArgs, type ParsedElectArgs } from './options.js';

const defaults = { hostname: 'host', pid: 42 };
const parse = (argv: string[], env: Record<string, string> = {}): ParsedElectArgs => parseElectArgs(argv, env, defaults);

function errorOf(result: ParsedElectArgs): string {
  assert.equal(result.kind, 'error', JSON.stringify(result));
  return result.kind === 'error' ? result.message : '';
}

describe('parseElectArgs', () => {
  test('maps a full election command line to options', () => {
    const result = parse(['run', '--etcd', 'http://a:2379, http://b:2379', '--name', 'jobs', '--ttl', '3', '--id', 'n1', '--grace', '0.5', '--connect-timeout', '1.5', '--', 'my-job', '--flag', '-x']);
    assert.deepEqual(result, {
      kind: 'run',
      options: {
        endpoints: ['http://a:2379', 'http://b:2379'],
        target: { kind: 'election', name: 'jobs' },
        ttlMs: 3000,
        id: 'n1',
        graceMs: 500,
        connectTimeoutMs: 1500,
        command: 'my-job',
        args: ['--flag', '-x'],
      },
    });
  });

  test('applies defaults: TTL 10 s, grace 5 s, id <hostname>-<pid>, WARDEN_ETCD', () => {
    const result = parse(['run', '--lock', 'db-migrate', '--', 'true'], { WARDEN_ETCD: 'http://127.0.0.1:2379' });
    assert.deepEqual(result, {
      kind: 'run',
      options: { endpoints: ['http://127.0.0.1:2379'], target: { kind: 'lock', name: 'db-migrate' }, ttlMs: 10_000, id: 'host-42', graceMs: 5000, connectTimeoutMs: 10_000, command: 'true', args: [] },
    });
  });

  test('never parses the flags of the command after --', () => {
    const result = parse(['run', '--etcd', 'http://e:1', '--name', 'n', '--', 'cmd', '--help', '--ttl', 'x', '--']);
    assert.equal(result.kind, 'run');
    assert.deepEqual(result.kind === 'run' ? result.options.args : [], ['--help', '--ttl', 'x', '--']);
  });

  test('asks for help', () => {
    assert.deepEqual(parse(['--help']), { kind: 'help' });
    assert.deepEqual(parse(['run', '-h']), { kind: 'help' });
    assert.deepEqual(parse(['run', '--name', 'x', '--help', '--', 'c']), { kind: 'help' });
  });

  test('rejects bad input with a message that names the problem', () => {
    const base = ['--etcd', 'http://e:1'];
    assert.match(errorOf(parse([])), /missing subcommand/);
    assert.match(errorOf(parse(['start'])), /unknown subcommand 'start'/);
    assert.match(errorOf(parse(['run', '--name', 'n', '--', 'c'])), /missing --etcd/);
    assert.match(errorOf(parse(['run', '--etcd', 'etcd:2379', '--name', 'n', '--', 'c'])), /invalid --etcd URL 'etcd:2379'/);
    assert.match(errorOf(parse(['run', '--etcd', 'ftp://e:1', '--name', 'n', '--', 'c'])), /scheme/);
    assert.match(errorOf(parse(['run', '--etcd', 'http://e:1/v3', '--name', 'n', '--', 'c'])), /no path/);
    assert.match(errorOf(parse(['run', ...base, '--', 'c'])), /missing --name/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'a', '--lock', 'b', '--', 'c'])), /exclusive/);
    assert.match(errorOf(parse(['run', ...base, '--name', '../x', '--', 'c'])), /invalid --name '\.\.\/x'/);
    assert.match(errorOf(parse(['run', ...base, '--lock', '', '--', 'c'])), /invalid --lock/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'a'.repeat(129), '--', 'c'])), /invalid --name/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--ttl', '1', '--', 'c'])), /--ttl 1 out of range/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--ttl', '3601', '--', 'c'])), /out of range/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--ttl', '2.5', '--', 'c'])), /invalid --ttl/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--grace', '-1', '--', 'c'])), /grace/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--grace', 'soon', '--', 'c'])), /invalid --grace/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--connect-timeout', 'x', '--', 'c'])), /invalid --connect-timeout/);
    assert.match(errorOf(parse(['run', '--etcd', 'https://e:1', '--name', 'n', '--', 'c'])), /TLS is not supported/);
    assert.match(errorOf(parse(['run', '--etcd', 'http://e', '--name', 'n', '--', 'c'])), /no port/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--id', 'has space', '--', 'c'])), /invalid --id/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n'])), /missing command/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--'])), /missing command/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', 'cmd'])), /unexpected argument 'cmd'.*'--'/);
    assert.match(errorOf(parse(['run', ...base, '--name', 'n', '--verbose', '--', 'c'])), /verbose/);
  });
});
