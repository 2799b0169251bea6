import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from './errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

function section(name: string): string {
  const start = doc.indexOf(`\n## ${name}\n`);
  assert.ok(start >= 0, `docs/errors.md has a section ## ${name}`);
  const next = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, next < 0 ? undefined : next);
}

test('every server error code is documented in docs/errors.md, and every documented one exists', () => {
  const text = section('server');
  for (const code of Object.keys(ERROR_CODES)) assert.ok(text.includes(`\`${code}\``), `${code} is documented`);
  for (const m of text.matchAll(/`(WARDEN_ERR_[A-Z_]+)`/g)) assert.ok(m[1]! in ERROR_CODES, `${m[1]} exists`);
});

test('every code the API can answer with has an HTTP status', async () => {
  const { HTTP_STATUS, ALL_CODES } = await import('./errors.js');
  for (const code of ALL_CODES) assert.ok(code in HTTP_STATUS, `${code} has a status`);
});
