import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionOf } from './partition-of.js';

// Golden values: the first 4 bytes of SHA-256(UTF-8 key), big-endian, mod P. Computed
// independently with Python's hashlib; any other implementation must give the same.
const GOLDEN: Array<[key: string, hex: string, p64: number, p1024: number]> = [
  ['alice', '2bd806c9', 9, 713],
  ['bob', '81b637d8', 24, 984],
  ['', 'e3b0c442', 2, 66],
  ['é', '4a99557e', 62, 382],
  ['user-42', '6d894aa3', 35, 675],
  ['Ω漢字', '5eab119c', 28, 412],
];

describe('partitionOf', () => {
  it('matches the documented hash on golden values', () => {
    for (const [key, hex, p64, p1024] of GOLDEN) {
      assert.equal(partitionOf(key, 64), p64, key);
      assert.equal(partitionOf(key, 1024), p1024, key);
      assert.equal(partitionOf(key, 2 ** 31), Number.parseInt(hex, 16) % 2 ** 31, key);
    }
  });

  it('maps everything to partition 0 when there is one partition', () => {
    assert.equal(partitionOf('anything', 1), 0);
  });

  it('spreads keys over every partition', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i += 1) seen.add(partitionOf(`owner-${i}`, 64));
    assert.equal(seen.size, 64);
  });

  it('rejects a partition count that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31 + 1]) {
      assert.throws(() => partitionOf('k', bad), RangeError);
    }
  });
});
