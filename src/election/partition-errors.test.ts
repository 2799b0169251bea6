import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ElectionError } from './errors.js';
import { PARTITION_ERROR_CODES, PartitionError } from './partition-errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

test('every partition error code is documented in docs/errors.md, and every documented code exists', () => {
  const start = doc.indexOf('## election (partitions)\n');
  assert.ok(start >= 0, 'docs/errors.md has a "## election (partitions)" section');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  for (const [code, meaning] of Object.entries(PARTITION_ERROR_CODES)) {
    assert.ok(section.includes(`| \`${code}\` | ${meaning} |`), `${code} missing or different in docs/errors.md`);
    assert.match(code, /^WARDEN_ERR_PARTITION_[A-Z_]+$/);
  }
  const documented = [...section.matchAll(/^\| `(WARDEN_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  for (const code of documented) assert.ok(code !== undefined && code in PARTITION_ERROR_CODES, `${code} documented but not defined`);
});

test('partition errors are election errors with a code and a retryable flag', () => {
  const error = new PartitionError('WARDEN_ERR_PARTITION_CLOSED', 'closed');
  assert.ok(error instanceof ElectionError);
  assert.equal(error.name, 'PartitionError');
  assert.equal(error.retryable, false);
});
