import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, MfSymlinkError, isMfSymlinkError } from './index.js';

const docs = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../docs/errors.md'), 'utf8');

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.notEqual(start, -1, `docs/errors.md has no "## ${heading}" section`);
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next === -1 ? undefined : next);
}

test('every mfsymlink error code is documented in docs/errors.md, and every documented one exists', () => {
  const ours = section(docs, 'mfsymlink');
  const documented = [...ours.matchAll(/^\| `(WARDEN_ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]!);
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
  for (const code of Object.keys(ERROR_CODES)) assert.match(code, /^WARDEN_ERR_MFSYMLINK_[A-Z_]+$/);
});

test('MfSymlinkError carries code, retryable, name, path and cause', () => {
  const cause = new Error('EIO');
  const error = new MfSymlinkError('WARDEN_ERR_MFSYMLINK_IO', 'boom', { cause, retryable: true, path: '/x' });
  assert.equal(error.name, 'MfSymlinkError');
  assert.equal(error.code, 'WARDEN_ERR_MFSYMLINK_IO');
  assert.equal(error.retryable, true);
  assert.equal(error.path, '/x');
  assert.equal(error.cause, cause);
  assert.ok(isMfSymlinkError(error, 'WARDEN_ERR_MFSYMLINK_IO'));
  assert.ok(!isMfSymlinkError(error, 'WARDEN_ERR_MFSYMLINK_EXISTS'));
  assert.ok(!isMfSymlinkError(new Error('x')));
});
