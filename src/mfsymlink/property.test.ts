import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { kernelReadlink } from '../testing/index.js';
import { decode, encode, MfSymlinkError, parseMfSymlink } from './index.js';

const runs = Number(process.env.WARDEN_PROPERTY_RUNS ?? 300);

/** Target bytes without NUL, 0-1024 long (NUL bytes are mapped to 0x01). */
const targetArb = fc.uint8Array({ minLength: 0, maxLength: 1024 }).map((b) => b.map((x) => (x === 0 ? 1 : x)));

/** decode() as a verdict: the target or null, failing on anything but a coded error. */
function verdict(bytes: Uint8Array, strict = false): Uint8Array | null {
  try {
    return decode(bytes, { strict });
  } catch (error) {
    assert.ok(error instanceof MfSymlinkError, `threw ${String(error)}`);
    return null;
  }
}

describe('property: round trip', () => {
  test('any byte target (including non-UTF-8) round-trips, for both readers and the kernel model', () => {
    fc.assert(
      fc.property(targetArb, (target) => {
        const file = encode(target);
        assert.equal(file.length, 1067);
        assert.deepEqual(decode(file), target);
        assert.deepEqual(decode(file, { strict: true }), target);
        assert.deepEqual(kernelReadlink(file), target);
        assert.equal(parseMfSymlink(file).canonical, true);
      }),
      { numRuns: runs },
    );
  });

  test('any string target round-trips as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const target = text.replaceAll('\0', '');
        fc.pre(Buffer.byteLength(target) <= 1024);
        assert.equal(Buffer.from(decode(encode(target))).toString('utf8'), target);
      }),
      { numRuns: runs },
    );
  });

  test('targets over 1024 bytes are refused', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1025, maxLength: 3000 }).map((b) => b.map((x) => x || 1)), (target) => {
        assert.throws(() => encode(target), (e: unknown) => e instanceof MfSymlinkError && e.code === 'WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG');
      }),
      { numRuns: 50 },
    );
  });
});

describe('property: single-byte corruption of the header and the first 17 hash characters', () => {
  test('is rejected unless the kernel model accepts it, and then yields the kernel target', () => {
    fc.assert(
      fc.property(targetArb, fc.integer({ min: 0, max: 26 }), fc.integer({ min: 1, max: 255 }), (target, offset, delta) => {
        const file = encode(target);
        file[offset] = (file[offset]! + delta) & 0xff;
        const kernel = kernelReadlink(file);
        assert.deepEqual(verdict(file), kernel);
        assert.equal(verdict(file, true), null, 'strict never accepts a corrupted header');
      }),
      { numRuns: runs * 10 },
    );
  });

  for (const [name, target] of [
    ['target.txt', 'target.txt'],
    ['an empty target', ''],
    ['a 1024-byte target', 'z'.repeat(1024)],
    ['a 7-byte target', 'abcdefg'],
  ] as const) {
    test(`exhaustively for ${name}: all 27 x 255 corruptions agree with the kernel model`, () => {
      const base = encode(target);
      let accepted = 0;
      let rejected = 0;
      for (let offset = 0; offset < 27; offset += 1) {
        for (let value = 0; value < 256; value += 1) {
          if (value === base[offset]) continue;
          const file = base.slice();
          file[offset] = value;
          const kernel = kernelReadlink(file);
          assert.deepEqual(verdict(file), kernel, `offset ${offset} value 0x${value.toString(16)}`);
          if (kernel === null) rejected += 1;
          else accepted += 1;
        }
      }
      // Whitespace for the newline at offset 4, any byte at 9, spaces before short lengths…
      assert.ok(accepted >= 6 + 255, `accepted ${accepted}`);
      assert.ok(rejected > (27 * 255) / 2, `rejected ${rejected}`);
    });
  }
});

describe('property: any corruption anywhere', () => {
  test('the decoder agrees with the kernel model, and strict accepts only canonical files', () => {
    const mutation = fc.record({ offset: fc.integer({ min: 0, max: 1066 }), value: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(targetArb, fc.array(mutation, { minLength: 1, maxLength: 6 }), (target, mutations) => {
        const file = encode(target);
        for (const { offset, value } of mutations) file[offset] = value;
        assert.deepEqual(verdict(file), kernelReadlink(file));
        const strict = verdict(file, true);
        if (strict !== null) assert.deepEqual(file, encode(strict));
      }),
      { numRuns: runs * 3 },
    );
  });
});
