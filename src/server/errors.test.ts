import assert from 'node:assert/strict';
import { test } from 'node:test';

test('every code the API can answer with has an HTTP status', async () => {
  const { HTTP_STATUS, ALL_CODES } = await import('./errors.js');
  for (const code of ALL_CODES) assert.ok(code in HTTP_STATUS, `${code} has a status`);
});
