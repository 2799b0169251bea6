import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElectionError, SessionEndedError } from './errors.js';

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
