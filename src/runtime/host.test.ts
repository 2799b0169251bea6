import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkClock, checkUser } from './host.js';

test('clock: an unset clock (1970) fails, a current one passes', () => {
  assert.equal(checkClock(() => 0).status, 'fail');
  assert.equal(checkClock(() => Date.UTC(2026, 5, 1)).status, 'ok');
  assert.equal(checkClock(() => Date.UTC(2150, 0, 1)).status, 'fail');
});

test('user: root warns, an unprivileged uid is ok', () => {
  assert.equal(checkUser(() => 0).status, 'warn');
  assert.equal(checkUser(() => 10001).status, 'ok');
  assert.equal(checkUser(null).status, 'skip');
});
