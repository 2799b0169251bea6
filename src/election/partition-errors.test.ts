import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ElectionError } from './errors.js';
import { PartitionError } from './partition-errors.js';

test('partition errors are election errors with a code and a retryable flag', () => {
  const error = new PartitionError('WARDEN_ERR_PARTITION_CLOSED', 'closed');
  assert.ok(error instanceof ElectionError);
  assert.equal(error.name, 'PartitionError');
  assert.equal(error.retryable, false);
});
