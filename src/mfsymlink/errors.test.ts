import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MfSymlinkError, isMfSymlinkError } from './index.js';

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
