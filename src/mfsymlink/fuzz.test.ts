import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { kernelReadlink } from '../testing/index.js';
import { decode, encode, MfSymlinkError, parseMfSymlink } from './index.js';

const runs = Number(process.env.WARDEN_FUZZ_RUNS ?? 2000);

/** Calls every reader; only MfSymlinkError may escape. Returns the kernel-mode verdict. */
function readAll(input: unknown): Uint8Array | null {
  let kernel: Uint8Array | null = null;
  for (const call of [
    () => (kernel = decode(input as Uint8Array)),
    () => decode(input as Uint8Array, { strict: true }),
    () => parseMfSymlink(input as Uint8Array),
    () => parseMfSymlink(input as Uint8Array, { strict: true }),
  ]) {
    try {
      call();
    } catch (error) {
      if (!(error instanceof MfSymlinkError)) throw new Error(`decoder threw a foreign error: ${String(error)}`, { cause: error });
      assert.ok(error.code.startsWith('WARDEN_ERR_MFSYMLINK_'));
    }
  }
  return kernel;
}

/** Header-ish tokens: the bytes the kernel's scanner treats specially. */
const token = fc.constantFrom(...'XSym \t\n\r\v\f\u00a00123456789-+xabcdefABCDEF\0'.split('').map((c) => c.charCodeAt(0)));

/** A canonical file whose first bytes are replaced by a random mix of header tokens. */
const mutatedHeader = fc
  .tuple(fc.uint8Array({ maxLength: 64 }).map((b) => b.map((x) => x || 1)), fc.array(token, { maxLength: 60 }), fc.boolean())
  .map(([target, head, keepMagic]) => {
    const file = encode(target);
    const prefix = keepMagic ? [0x58, 0x53, 0x79, 0x6d, ...head] : head;
    file.set(prefix.slice(0, 1067));
    return file;
  });

/** A canonical file with random bytes flipped, inserted or deleted (size may change). */
const mutatedFile = fc
  .tuple(
    fc.uint8Array({ maxLength: 1024 }).map((b) => b.map((x) => x || 1)),
    fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete'), fc.nat(1100), fc.nat(255)), { maxLength: 8 }),
  )
  .map(([target, edits]) => {
    const bytes = [...encode(target)];
    for (const [op, at, value] of edits) {
      const i = at % (bytes.length + 1);
      if (op === 'set' && i < bytes.length) bytes[i] = value;
      else if (op === 'insert') bytes.splice(i, 0, value);
      else if (op === 'delete') bytes.splice(i, 1);
    }
    return Uint8Array.from(bytes);
  });

const oddInputs = fc.constantFrom<unknown>(undefined, null, 0, 1067, 'XSym\n', [], {}, new ArrayBuffer(1067), new DataView(new ArrayBuffer(1067)), new Uint16Array(1067), Array(1067).fill(32));

describe('fuzzing the decoder', () => {
  test('random bytes of any size: only the coded error is thrown', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2200 }), fc.uint8Array({ minLength: 1067, maxLength: 1067 })), (bytes) => {
        assert.deepEqual(readAll(bytes), kernelReadlink(bytes));
      }),
      { numRuns: runs },
    );
  });

  test('mutated headers and mutated files: only the coded error, and the kernel model agrees', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(mutatedHeader, mutatedFile), (bytes) => {
        const kernel = readAll(bytes);
        assert.deepEqual(kernel, kernelReadlink(bytes));
        if (kernel !== null) accepted += 1;
      }),
      { numRuns: runs * 2 },
    );
    assert.ok(accepted > 0, 'the mutators also produce files the kernel accepts');
  });

  test('inputs of the wrong type are refused with WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(oddInputs, (input) => {
        assert.throws(() => decode(input as Uint8Array), (e: unknown) => e instanceof MfSymlinkError && e.code === 'WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT');
        readAll(input);
      }),
    );
  });

  test('never reads outside the given view: bytes around a subarray do not change the verdict', () => {
    const surroundings = fc.constantFrom(0x20, 0x30, 0x31, 0x0a, 0xa0, 0x00);
    fc.assert(
      fc.property(fc.oneof(mutatedHeader, mutatedFile), surroundings, fc.nat(64), (bytes, fill, pad) => {
        const big = new Uint8Array(bytes.length + 2 * pad + 2048).fill(fill);
        big.set(bytes, pad);
        const view = big.subarray(pad, pad + bytes.length);
        assert.deepEqual(readAll(view), readAll(bytes.slice()));
      }),
      { numRuns: runs },
    );
    // The one place where the kernel itself runs off its buffer: a whitespace run to the end.
    const allSpace = new Uint8Array(4000).fill(0x31);
    allSpace.set([0x58, 0x53, 0x79, 0x6d]);
    allSpace.fill(0x20, 4, 1067);
    assert.equal(readAll(allSpace.subarray(0, 1067)), null);
  });
});
