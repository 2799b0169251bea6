import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, ElectionError, SessionEndedError } from './errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

function section(markdown: string, name: string): string {
  const start = markdown.indexOf(`## ${name}\n`);
  assert.ok(start >= 0, `docs/errors.md has a "## ${name}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

test('every election error code is documented in docs/errors.md, and every documented code exists', () => {
  const mine = section(doc, 'election');
  for (const code of Object.keys(ERROR_CODES)) assert.ok(mine.includes(`\`${code}\``), `${code} missing from docs/errors.md`);
  const documented = [...mine.matchAll(/\| `(WARDEN_ERR_[A-Z_]+)` \|/g)].map((m) => m[1]);
  for (const code of documented) assert.ok(code !== undefined && code in ERROR_CODES, `${code} documented but not defined`);
  for (const code of Object.keys(ERROR_CODES)) assert.match(code, /^WARDEN_ERR_(SESSION|ELECTION|LOCK|BACKEND)_[A-Z_]+$/);
});

test('session end reasons map to stable codes and retryability', () => {
  const cases = [
    ['closed', 'WARDEN_ERR_SESSION_CLOSED', false],
    ['orphaned', 'WARDEN_ERR_SESSION_CLOSED', false],
    ['expired', 'WARDEN_ERR_SESSION_EXPIRED', true],
    ['deadline', 'WARDEN_ERR_SESSION_DEADLINE', true],
    ['paused', 'WARDEN_ERR_SESSION_PAUSED', true],
  ] as const;
  for (const [reason, code, retryable] of cases) {
    const e = new SessionEndedError(reason, 'x');
    assert.ok(e instanceof ElectionError);
    assert.equal(e.code, code);
    assert.equal(e.retryable, retryable);
    assert.equal(e.reason, reason);
  }
});
