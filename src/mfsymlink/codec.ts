/**
 * The Minshall+French codec: pure functions from target bytes to the 1067 bytes the Linux
 * kernel writes, and back, reading exactly as the kernel's `parse_mf_symlink` reads.
 */
import { createHash } from 'node:crypto';
import { MfSymlinkError } from './errors.js';
import {
  MF_FILE_SIZE,
  MF_HASH_OFFSET,
  MF_KERNEL_HASH_CHARS,
  MF_MAGIC,
  MF_MAX_TARGET_LENGTH,
  MF_TARGET_OFFSET,
} from './format.js';
import { scanKernelHeader } from './kernel-scan.js';

/** Options of {@link decode} and {@link parseMfSymlink}. */
export interface DecodeOptions {
  /**
   * Accept only canonical files — byte for byte what the Linux kernel and macOS write — instead
   * of everything the Linux kernel shows as a symlink. Default: `false` (read as Linux does).
   * @example decode(bytes, { strict: true }) // rejects "XSym 0010…", upper-case hashes, bad padding
   */
  strict?: boolean;
}

/** What {@link parseMfSymlink} found in a valid file. */
export interface MfSymlinkInfo {
  /** The target as the kernel's readlink returns it: the hashed bytes, cut at the first NUL. */
  readonly target: Uint8Array;
  /** The length field's value (what the kernel reports as `st_size`), 0–1024. */
  readonly length: number;
  /** Whether the file is byte for byte what {@link encode} writes for its target. */
  readonly canonical: boolean;
}

const encoder = new TextEncoder();
const LONE_SURROGATE = /\p{Cs}/u;

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

function describeBytes(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes).toString('latin1'));
}

/** Converts a target argument to its bytes (strings as UTF-8), refusing what no link can hold. */
export function targetBytes(target: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof target === 'string') {
    if (LONE_SURROGATE.test(target)) {
      throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT', 'target string has a lone surrogate, so it has no UTF-8 bytes; pass bytes instead');
    }
    bytes = encoder.encode(target);
  } else if (target instanceof Uint8Array) {
    bytes = target;
  } else {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT', 'target must be a string or a Uint8Array');
  }
  if (bytes.includes(0)) {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_TARGET_NUL', 'target contains a NUL byte');
  }
  return bytes;
}

/**
 * Encodes `target` as the 1067 bytes the Linux kernel writes for `ln -s TARGET` on a share
 * mounted with `mfsymlinks`: `XSym\n`, the length as 4 decimal digits, `\n`, the lower-case
 * MD5 of the target, `\n`, the target, `\n` (if room), then spaces.
 *
 * Strings are encoded as UTF-8; pass bytes for targets that are not UTF-8. An empty target is
 * encoded as the kernel's formatter would (length `0000`); see docs/mfsymlink.md.
 * @throws {MfSymlinkError} `WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG` over 1024 bytes,
 *   `WARDEN_ERR_MFSYMLINK_TARGET_NUL` when it contains NUL.
 * @example encode('../versions/1.2.0').length // 1067
 */
export function encode(target: Uint8Array | string): Uint8Array {
  const bytes = targetBytes(target);
  if (bytes.length > MF_MAX_TARGET_LENGTH) {
    throw new MfSymlinkError(
      'WARDEN_ERR_MFSYMLINK_TARGET_TOO_LONG',
      `target is ${bytes.length} bytes; a Minshall+French link holds at most ${MF_MAX_TARGET_LENGTH}`,
    );
  }
  const out = new Uint8Array(MF_FILE_SIZE).fill(0x20);
  const header = `XSym\n${String(bytes.length).padStart(4, '0')}\n${md5Hex(bytes)}\n`;
  encoder.encodeInto(header, out);
  out.set(bytes, MF_TARGET_OFFSET);
  const end = MF_TARGET_OFFSET + bytes.length;
  if (end < MF_FILE_SIZE) out[end] = 0x0a;
  return out;
}

/** Returns whether a stat result is a Minshall+French candidate: a regular file of exactly 1067 bytes. */
export function couldBeMfSymlink(stat: { isFile(): boolean; size: number | bigint }): boolean {
  return stat.isFile() && Number(stat.size) === MF_FILE_SIZE;
}

function fail(code: string, message: string): never {
  throw new MfSymlinkError(code, message);
}

function parseKernel(bytes: Uint8Array): { target: Uint8Array; length: number; raw: Uint8Array } {
  const scan = scanKernelHeader(bytes);
  if (!scan.ok) {
    if (scan.reason === 'magic') fail('WARDEN_ERR_MFSYMLINK_BAD_MAGIC', `no XSym magic: file starts with ${describeBytes(bytes.subarray(0, 5))}`);
    fail('WARDEN_ERR_MFSYMLINK_BAD_LENGTH', 'no decimal digit after the XSym magic and whitespace');
  }
  if (scan.length > MF_MAX_TARGET_LENGTH) {
    fail('WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE', `length field is ${scan.length}, above ${MF_MAX_TARGET_LENGTH}`);
  }
  const raw = bytes.subarray(MF_TARGET_OFFSET, MF_TARGET_OFFSET + scan.length);
  const expected = md5Hex(raw);
  for (let i = 0; i < MF_KERNEL_HASH_CHARS; i += 1) {
    if (bytes[MF_HASH_OFFSET + i] !== expected.charCodeAt(i)) {
      fail(
        'WARDEN_ERR_MFSYMLINK_BAD_HASH',
        `MD5 mismatch: file has ${describeBytes(bytes.subarray(MF_HASH_OFFSET, MF_HASH_OFFSET + MF_KERNEL_HASH_CHARS))}, ` +
          `the ${scan.length}-byte target hashes to "${expected.slice(0, MF_KERNEL_HASH_CHARS)}…"`,
      );
    }
  }
  const nul = raw.indexOf(0);
  return { target: nul === -1 ? raw.slice() : raw.slice(0, nul), length: scan.length, raw };
}

function isCanonical(bytes: Uint8Array, raw: Uint8Array): boolean {
  if (raw.includes(0)) return false;
  const canonical = encode(raw);
  for (let i = 0; i < MF_FILE_SIZE; i += 1) if (canonical[i] !== bytes[i]) return false;
  return true;
}

function parseStrict(bytes: Uint8Array): MfSymlinkInfo {
  for (let i = 0; i < MF_MAGIC.length; i += 1) {
    if (bytes[i] !== MF_MAGIC[i]) fail('WARDEN_ERR_MFSYMLINK_BAD_MAGIC', `strict: file does not start with "XSym\\n" but ${describeBytes(bytes.subarray(0, 5))}`);
  }
  let length = 0;
  for (let i = 5; i < 9; i += 1) {
    const byte = bytes[i]!;
    if (byte < 0x30 || byte > 0x39) fail('WARDEN_ERR_MFSYMLINK_BAD_LENGTH', `strict: length field ${describeBytes(bytes.subarray(5, 10))} is not 4 digits and a newline`);
    length = length * 10 + (byte - 0x30);
  }
  if (bytes[9] !== 0x0a) fail('WARDEN_ERR_MFSYMLINK_BAD_LENGTH', `strict: length field ${describeBytes(bytes.subarray(5, 10))} is not 4 digits and a newline`);
  if (length > MF_MAX_TARGET_LENGTH) fail('WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE', `length field is ${length}, above ${MF_MAX_TARGET_LENGTH}`);
  const raw = bytes.subarray(MF_TARGET_OFFSET, MF_TARGET_OFFSET + length);
  const expected = `${md5Hex(raw)}\n`;
  for (let i = 0; i < expected.length; i += 1) {
    if (bytes[MF_HASH_OFFSET + i] !== expected.charCodeAt(i)) {
      fail('WARDEN_ERR_MFSYMLINK_BAD_HASH', `strict: MD5 field ${describeBytes(bytes.subarray(MF_HASH_OFFSET, MF_TARGET_OFFSET))} is not "${expected.trimEnd()}\\n"`);
    }
  }
  if (raw.includes(0)) fail('WARDEN_ERR_MFSYMLINK_NOT_CANONICAL', 'strict: target contains a NUL byte');
  const end = MF_TARGET_OFFSET + length;
  for (let i = end; i < MF_FILE_SIZE; i += 1) {
    if (bytes[i] !== (i === end ? 0x0a : 0x20)) {
      fail('WARDEN_ERR_MFSYMLINK_NOT_CANONICAL', `strict: byte ${i} after the target is ${describeBytes(bytes.subarray(i, i + 1))}, expected ${i === end ? 'a newline' : 'a space'}`);
    }
  }
  return { target: raw.slice(), length, canonical: true };
}

function checkInput(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new MfSymlinkError('WARDEN_ERR_MFSYMLINK_INVALID_ARGUMENT', 'bytes must be a Uint8Array');
  }
  if (bytes.length !== MF_FILE_SIZE) {
    fail('WARDEN_ERR_MFSYMLINK_BAD_SIZE', `file is ${bytes.length} bytes, not ${MF_FILE_SIZE}`);
  }
}

/**
 * Parses a Minshall+French file and tells whether it is canonical. Reads as the Linux
 * kernel does unless `options.strict` (see {@link decode}).
 * @throws {MfSymlinkError} with the reason the kernel would show the file as a regular file.
 */
export function parseMfSymlink(bytes: Uint8Array, options: DecodeOptions = {}): MfSymlinkInfo {
  checkInput(bytes);
  if (options.strict === true) return parseStrict(bytes);
  const { target, length, raw } = parseKernel(bytes);
  return { target, length, canonical: isCanonical(bytes, raw) };
}

/**
 * Decodes a Minshall+French file into its target bytes, reading exactly as the Linux kernel
 * does: a file the kernel shows as a symlink decodes to the bytes its `readlink` returns; a
 * file it shows as a regular file is rejected with the reason. The kernel's reading is loose:
 * any whitespace (even none) after `XSym`, 1–4 digits, only 17 hash characters compared,
 * nothing after them checked, the target cut at the first NUL. With `strict: true` only
 * canonical bytes are accepted (the subset every known reader, macOS included, accepts).
 * @throws {MfSymlinkError} `WARDEN_ERR_MFSYMLINK_BAD_SIZE`, `…_BAD_MAGIC`, `…_BAD_LENGTH`,
 *   `…_LENGTH_TOO_LARGE`, `…_BAD_HASH`, `…_NOT_CANONICAL` (strict only), `…_INVALID_ARGUMENT`.
 * @example new TextDecoder().decode(decode(encode('a/b'))) // 'a/b'
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Uint8Array {
  checkInput(bytes);
  if (options.strict === true) return parseStrict(bytes).target;
  return parseKernel(bytes).target;
}
