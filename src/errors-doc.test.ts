import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES as electionCodes, PARTITION_ERROR_CODES } from './election/index.js';
import { ERROR_CODES as mfsymlinkCodes } from './mfsymlink/index.js';
import { ERROR_CODES as storeCodes } from './store/index.js';
import { ERROR_CODES as serverCodes } from './server/index.js';
import { ERROR_CODES as runtimeCodes } from './runtime/index.js';
import { ERROR_CODES as deployCodes } from './deploy/index.js';
import { ERROR_CODES as clusterCodes } from './cluster/index.js';

// One table per section of docs/errors.md: the doc is the reference users switch on, so it
// must list every code a part can raise, with its meaning, and nothing that does not exist.
const sections: Record<string, Readonly<Record<string, string>>> = {
  mfsymlink: mfsymlinkCodes,
  store: storeCodes,
  server: serverCodes,
  runtime: runtimeCodes,
  deploy: deployCodes,
  election: electionCodes,
  'election (partitions)': PARTITION_ERROR_CODES,
  cluster: clusterCodes,
};

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

/** Returns the `| code | meaning |` rows of one `## title` section. */
export function documentedCodes(markdown: string, title: string): Map<string, string> {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.notEqual(start, -1, `docs/errors.md has a "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const text = markdown.slice(start, end === -1 ? undefined : end);
  return new Map([...text.matchAll(/^\| `(WARDEN_ERR_[A-Z_]+)` \| (.*?) \|$/gm)].map((m) => [m[1]!, m[2]!]));
}

for (const [title, codes] of Object.entries(sections)) {
  test(`docs/errors.md "## ${title}" lists exactly the codes the part defines`, () => {
    const documented = documentedCodes(doc, title);
    assert.deepEqual([...documented.keys()].sort(), Object.keys(codes).sort());
    for (const code of Object.keys(codes)) assert.match(code, /^WARDEN_ERR_[A-Z]+_[A-Z_]+$/);
  });
}

test('no code is defined by two parts', () => {
  const seen = new Map<string, string>();
  for (const [title, codes] of Object.entries(sections)) {
    for (const code of Object.keys(codes)) {
      assert.equal(seen.get(code), undefined, `${code} is defined by both ${seen.get(code)} and ${title}`);
      seen.set(code, title);
    }
  }
});

test('the doc parser reads a section and stops at the next one', () => {
  const sample = '\n## a\n| `WARDEN_ERR_A_X` | one |\n\n## b\n| `WARDEN_ERR_B_Y` | two |\n';
  assert.deepEqual([...documentedCodes(sample, 'a')], [['WARDEN_ERR_A_X', 'one']]);
});
