import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { couldBeMfSymlink, decode, encode, ERROR_CODES, isKernelSpace, MfSymlinkError, parseMfSymlink } from './index.js';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytesOf = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

function rejects(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MfSymlinkError, `not an MfSymlinkError: ${String(error)}`);
    assert.equal(error.code, code);
    assert.ok(code in ERROR_CODES);
    assert.equal(error.retryable, false);
    return true;
  });
}

function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = value;
  return copy;
}

describe('encode: the layout of section 2', () => {
  test('writes XSym, a 4-digit length, the lower-case MD5, the target, a newline and spaces to 1067 bytes', () => {
    const out = encode('target.txt');
    assert.equal(out.length, 1067);
    assert.equal(latin1(out.subarray(0, 54)), 'XSym\n0010\n4d6f333d2bc24ffddcca34414a0cb12d\ntarget.txt\n');
    assert.equal(latin1(out.subarray(54)), ' '.repeat(1013));
    assert.ok(!out.includes(0), 'no NUL terminator anywhere');
  });

  test('hashes exactly the target bytes, in lower case', () => {
    const target = bytesOf('Some/Target/ABC');
    assert.equal(latin1(encode(target).subarray(10, 42)), md5(target));
    assert.match(latin1(encode(target).subarray(10, 42)), /^[0-9a-f]{32}$/);
  });

  test('at 1022 bytes: newline and one space; 1023: newline, no space; 1024: neither', () => {
    assert.equal(latin1(encode('a'.repeat(1022)).subarray(1065)), '\n ');
    assert.equal(latin1(encode('a'.repeat(1023)).subarray(1066)), '\n');
    const full = encode('a'.repeat(1024));
    assert.equal(latin1(full.subarray(5, 10)), '1024\n');
    assert.equal(full[1066], 0x61);
  });

  test('refuses a target over 1024 bytes (ENAMETOOLONG in the kernel), counting bytes, not characters', () => {
    rejects(() => encode('a'.repeat(1025)), 'WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG');
    rejects(() => encode('é'.repeat(513)), 'WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG'); // 1026 bytes, 513 characters
    assert.equal(encode('é'.repeat(512)).length, 1067);
  });

  test('refuses a NUL byte anywhere in the target', () => {
    rejects(() => encode('a\0b'), 'WARDEN_ERR_MFSYMLINK_TARGET_NUL');
    rejects(() => encode(Uint8Array.of(0x61, 0)), 'WARDEN_ERR_MFSYMLINK_TARGET_NUL');
  });

  test('encodes the empty target as the kernel formatter would: length 0000, MD5 of nothing', () => {
    const out = encode('');
    assert.equal(latin1(out.subarray(0, 44)), 'XSym\n0000\nd41d8cd98f00b204e9800998ecf8427e\n\n');
    assert.equal(decode(out).length, 0);
  });

  test('encodes strings as UTF-8 and stores bytes verbatim (no separator or charset conversion)', () => {
    assert.equal(latin1(encode('日本').subarray(5, 9)), '0006');
    const raw = Uint8Array.of(0xff, 0x5c, 0x2f, 0x80);
    assert.deepEqual(encode(raw).subarray(43, 47), raw);
  });

  test('refuses a string with a lone surrogate rather than writing U+FFFD', () => {
    rejects(() => encode('a\ud800b'), 'WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT');
    rejects(() => encode(42 as unknown as string), 'WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT');
  });
});

describe('couldBeMfSymlink: the size test of section 4.1', () => {
  const stat = (isFile: boolean, size: number | bigint) => ({ isFile: () => isFile, size });
  test('is true only for a regular file of exactly 1067 bytes', () => {
    assert.equal(couldBeMfSymlink(stat(true, 1067)), true);
    assert.equal(couldBeMfSymlink(stat(true, 1067n)), true);
    for (const size of [0, 1066, 1068, 2134]) assert.equal(couldBeMfSymlink(stat(true, size)), false);
    assert.equal(couldBeMfSymlink(stat(false, 1067)), false);
  });
});

describe('decode as the Linux kernel reads (section 4.2)', () => {
  const base = encode('target.txt');

  test('rule 1: any size but 1067 is a regular file', () => {
    rejects(() => decode(base.subarray(0, 1066)), 'WARDEN_ERR_MFSYMLINK_BAD_SIZE');
    rejects(() => decode(new Uint8Array(1068)), 'WARDEN_ERR_MFSYMLINK_BAD_SIZE');
    rejects(() => decode('XSym' as unknown as Uint8Array), 'WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT');
  });

  test('rule 2: X, S, y, m match exactly and nothing precedes them', () => {
    for (let offset = 0; offset < 4; offset += 1) {
      for (const value of [0x00, 0x20, base[offset]! ^ 0x20]) {
        rejects(() => decode(withByte(base, offset, value)), 'WARDEN_ERR_MFSYMLINK_BAD_MAGIC');
      }
    }
  });

  test('rule 2: the format newline matches any kernel whitespace (0x09-0x0D, 0x20, 0xA0) and nothing else', () => {
    for (let value = 0; value < 256; value += 1) {
      const file = withByte(base, 4, value);
      const expected = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0].includes(value);
      assert.equal(isKernelSpace(value), expected, `isKernelSpace(0x${value.toString(16)})`);
      if (expected) assert.equal(text(decode(file)), 'target.txt');
      else assert.throws(() => decode(file), MfSymlinkError, `byte 0x${value.toString(16)} at offset 4`);
    }
  });

  test('rule 2: whitespace may be absent ("XSym0010")', () => {
    const file = bytesOf(latin1(base));
    file.set(bytesOf('0010\n\n'), 4);
    assert.equal(text(decode(file)), 'target.txt');
  });

  test('rule 2: %04u skips whitespace, reads 1-4 digits and stops at the first non-digit', () => {
    for (const field of ['0010', '  10', '10ab', '10\n\n', '\t010', '010 ']) {
      const file = base.slice();
      file.set(bytesOf(field), 5);
      assert.equal(text(decode(file)), 'target.txt', JSON.stringify(field));
    }
    for (const field of ['-010', '+010', 'a010', '\x00010', 'x10 ']) {
      const file = base.slice();
      file.set(bytesOf(field), 5);
      rejects(() => decode(file), 'WARDEN_ERR_MFSYMLINK_BAD_LENGTH');
    }
  });

  test('rule 2: "0x0c" reads as 0, and a fifth digit is not read', () => {
    const empty = encode('');
    empty.set(bytesOf('0x0c'), 5);
    assert.equal(decode(empty).length, 0);
    const one = encode('t');
    one.set(bytesOf('00010'), 5);
    assert.equal(text(decode(one)), 't');
  });

  test('rule 2: byte 9 may be anything', () => {
    for (const value of [0x00, 0x41, 0xff, 0x30]) assert.equal(text(decode(withByte(base, 9, value))), 'target.txt');
  });

  test('rule 2: a blank length field makes the scan read digits from the hash field', () => {
    // Find a target whose MD5 starts with its own length followed by a letter.
    let target = '';
    for (let n = 0; ; n += 1) {
      target = `t${n}`;
      const hash = md5(bytesOf(target));
      if (hash.startsWith(String(target.length)) && /[a-f]/.test(hash[String(target.length).length]!)) break;
    }
    const file = encode(target);
    file.set(bytesOf('    '), 5);
    assert.equal(text(decode(file)), target);
  });

  test('rule 3: a length above 1024 is refused', () => {
    const file = encode('a'.repeat(1024));
    file.set(bytesOf('1025'), 5);
    rejects(() => decode(file), 'WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE');
    file.set(bytesOf('9999'), 5);
    rejects(() => decode(file), 'WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE');
  });

  test('rules 4-5: the first 17 hash characters must be the lower-case MD5 of exactly length bytes', () => {
    for (let offset = 10; offset < 27; offset += 1) {
      const other = base[offset] === 0x30 ? 0x31 : 0x30;
      rejects(() => decode(withByte(base, offset, other)), 'WARDEN_ERR_MFSYMLINK_BAD_HASH');
    }
    const upper = base.slice();
    upper.set(bytesOf(latin1(base.subarray(10, 42)).toUpperCase()), 10);
    rejects(() => decode(upper), 'WARDEN_ERR_MFSYMLINK_BAD_HASH');
    const longer = base.slice();
    longer.set(bytesOf('0011'), 5);
    rejects(() => decode(longer), 'WARDEN_ERR_MFSYMLINK_BAD_HASH');
  });

  test('rule 5: hash characters 18-32 and the newline at offset 42 are never checked', () => {
    const file = base.slice();
    file.set(bytesOf('ZZZZZZZZZZZZZZZ\0'), 27);
    assert.equal(text(decode(file)), 'target.txt');
    assert.equal(parseMfSymlink(file).canonical, false);
  });

  test('rule 6: nothing after the target is checked', () => {
    const file = base.slice();
    file.fill(0, 53);
    assert.equal(text(decode(file)), 'target.txt');
  });

  test('rule 7: the target is cut at the first NUL, while the length field stays the reported size', () => {
    const raw = bytesOf('abc\0def');
    const file = encode('abcXdef');
    file.set(raw, 43);
    file.set(bytesOf(md5(raw)), 10);
    const info = parseMfSymlink(file);
    assert.equal(text(info.target), 'abc');
    assert.equal(info.length, 7);
    assert.equal(info.canonical, false);
  });

  test('rule 7: the target may hold newline, CR, tab, backslash and bytes >= 0x80', () => {
    const raw = Uint8Array.of(0x0a, 0x0d, 0x09, 0x5c, 0x80, 0xff, 0xa0);
    assert.deepEqual(decode(encode(raw)), raw);
  });

  test('returns a copy: changing the input later does not change the target', () => {
    const file = base.slice();
    const target = decode(file);
    file[43] = 0x54;
    assert.equal(text(target), 'target.txt');
  });
});

describe('decode with strict: canonical bytes only', () => {
  const base = encode('target.txt');
  test('accepts exactly what encode writes, including the empty and 1024-byte targets', () => {
    for (const target of ['target.txt', '', 'x'.repeat(1023), 'y'.repeat(1024)]) {
      assert.equal(text(decode(encode(target), { strict: true })), target);
      assert.equal(parseMfSymlink(encode(target)).canonical, true);
    }
  });

  test('rejects what only the kernel accepts, each with its reason', () => {
    rejects(() => decode(withByte(base, 4, 0x20), { strict: true }), 'WARDEN_ERR_MFSYMLINK_BAD_MAGIC');
    rejects(() => decode(withByte(base, 5, 0x20), { strict: true }), 'WARDEN_ERR_MFSYMLINK_BAD_LENGTH');
    rejects(() => decode(withByte(base, 9, 0x20), { strict: true }), 'WARDEN_ERR_MFSYMLINK_BAD_LENGTH');
    rejects(() => decode(withByte(base, 41, 0x5a), { strict: true }), 'WARDEN_ERR_MFSYMLINK_BAD_HASH');
    rejects(() => decode(withByte(base, 42, 0x20), { strict: true }), 'WARDEN_ERR_MFSYMLINK_BAD_HASH');
    rejects(() => decode(withByte(base, 53, 0x20), { strict: true }), 'WARDEN_ERR_MFSYMLINK_NOT_CANONICAL');
    rejects(() => decode(withByte(base, 1066, 0x00), { strict: true }), 'WARDEN_ERR_MFSYMLINK_NOT_CANONICAL');
    for (const file of [withByte(base, 4, 0x20), withByte(base, 53, 0x20)]) assert.equal(parseMfSymlink(file).canonical, false);
  });
});
