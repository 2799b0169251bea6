import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode, parseMfSymlink, MfSymlinkError } from './index.js';

// tsc does not copy the golden files to dist/: read them from the source tree.
const goldenDir = join(dirname(fileURLToPath(import.meta.url)), '../../src/mfsymlink/golden');

interface Side {
  targetHex?: string;
  error?: string;
}
interface GoldenCase {
  name: string;
  file: string;
  size: number;
  kernel: Side;
  strict: Side;
  canonical: boolean;
  note: string;
}

const manifest = JSON.parse(readFileSync(join(goldenDir, 'manifest.json'), 'utf8')) as { cases: GoldenCase[] };

function check(bytes: Uint8Array, expected: Side, strict: boolean): void {
  if (expected.targetHex !== undefined) {
    assert.equal(Buffer.from(decode(bytes, { strict })).toString('hex'), expected.targetHex);
  } else {
    assert.throws(
      () => decode(bytes, { strict }),
      (error: unknown) => error instanceof MfSymlinkError && error.code === expected.error,
    );
  }
}

describe('golden files derived from the specification (src/mfsymlink/golden/derive.py)', () => {
  test('the manifest holds canonical, kernel-only and rejected cases', () => {
    assert.ok(manifest.cases.length >= 40);
    assert.ok(manifest.cases.some((c) => c.canonical));
    assert.ok(manifest.cases.some((c) => c.kernel.targetHex !== undefined && c.strict.error !== undefined));
    assert.ok(manifest.cases.some((c) => c.kernel.error !== undefined));
  });

  for (const golden of manifest.cases) {
    test(`${golden.name}${golden.note ? ` (${golden.note})` : ''}`, () => {
      const bytes = new Uint8Array(readFileSync(join(goldenDir, golden.file)));
      assert.equal(bytes.length, golden.size);
      check(bytes, golden.kernel, false);
      check(bytes, golden.strict, true);
      if (golden.kernel.targetHex !== undefined) {
        assert.equal(parseMfSymlink(bytes).canonical, golden.canonical);
      }
      if (golden.canonical) {
        // The encoder writes exactly the golden bytes.
        assert.deepEqual(encode(Buffer.from(golden.kernel.targetHex!, 'hex')), bytes);
      }
    });
  }
});
