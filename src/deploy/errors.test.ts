import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from './errors.js';

const docs = readFileSync(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');

function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`## ${title}\n`);
  assert.notEqual(start, -1, `docs/errors.md has a '## ${title}' section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

test('every deploy error code is documented in docs/errors.md, and only those', () => {
  const text = section(docs, 'deploy');
  for (const code of Object.keys(ERROR_CODES)) assert.match(text, new RegExp(`\\| \`${code}\` \\|`), code);
  const documented = [...text.matchAll(/`(WARDEN_ERR_[A-Z_]+)`/g)].map((m) => m[1]!);
  for (const code of documented) assert.ok(code in ERROR_CODES, `${code} is documented but not defined`);
});
