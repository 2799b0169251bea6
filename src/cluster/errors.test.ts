import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from './errors.js';

test('every cluster error code is documented in docs/errors.md, and the section lists no unknown code', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('cluster'));
  assert.ok(section, 'docs/errors.md has a "## cluster" section');
  for (const code of Object.keys(ERROR_CODES)) assert.ok(section.includes(`\`${code}\``), `${code} documented`);
  for (const [, code] of section.matchAll(/`(WARDEN_ERR_[A-Z_]+)`/g)) assert.ok(code! in ERROR_CODES, `${code} exists`);
});
