/**
 * An independent model of how the Linux kernel reads a Minshall+French file, for property
 * and fuzz tests of `warden/mfsymlink`. It is written apart from the decoder, as a
 * transliteration of the C: `parse_mf_symlink` (fs/smb/client/link.c), a general `vsscanf`
 * interpreter for the format string (lib/vsprintf.c, with the `simple_strntoull` width
 * limit), the `_ctype` table (lib/ctype.c), `strncmp` and `kstrndup`. Reads past the end of
 * the buffer return NUL (the kernel's behaviour there is undefined).
 */
import { createHash } from 'node:crypto';

const C = 0x08; // _C control
const S = 0x20; // _S white space
const SP = 0x80; // _SP hard space
const D = 0x04; // _D digit

/** lib/ctype.c: only the bits this model needs (white space, digits). */
function ctype(c: number): number {
  if (c >= 0x30 && c <= 0x39) return D;
  if (c === 0x20 || c === 0xa0) return S | SP;
  if (c >= 0x09 && c <= 0x0d) return C | S;
  return 0;
}
const isspace = (c: number): boolean => (ctype(c) & S) !== 0;
const isdigit = (c: number): boolean => (ctype(c) & D) !== 0;

/** A `const char *` into a byte buffer. */
class Ptr {
  constructor(
    readonly buf: Uint8Array,
    readonly at: number,
  ) {}
  get deref(): number {
    return this.at >= 0 && this.at < this.buf.length ? this.buf[this.at]! : 0;
  }
  plus(n: number): Ptr {
    return new Ptr(this.buf, this.at + n);
  }
}

function skipSpaces(p: Ptr): Ptr {
  while (isspace(p.deref)) p = p.plus(1);
  return p;
}

function bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

/** Kernel `vsscanf` restricted to literals, white space and `%<width>u`; returns the converted values. */
export function kernelSscanf(buf: Uint8Array, format: string): number[] {
  let str = new Ptr(buf, 0);
  let fmt = new Ptr(bytes(format), 0);
  const out: number[] = [];
  while (fmt.deref !== 0) {
    if (isspace(fmt.deref)) {
      fmt = skipSpaces(fmt.plus(1));
      str = skipSpaces(str);
    }
    if (fmt.deref !== 0x25 /* % */ && fmt.deref !== 0) {
      const f = fmt.deref;
      const s = str.deref;
      fmt = fmt.plus(1);
      str = str.plus(1);
      if (f !== s) break;
      continue;
    }
    if (fmt.deref === 0) break;
    fmt = fmt.plus(1);
    let width = -1;
    if (isdigit(fmt.deref)) {
      width = 0;
      while (isdigit(fmt.deref)) {
        width = width * 10 + (fmt.deref - 0x30);
        fmt = fmt.plus(1);
      }
      if (width <= 0) break;
    }
    if (fmt.deref === 0) break;
    if (str.deref === 0) break;
    const conv = fmt.deref;
    fmt = fmt.plus(1);
    if (conv !== 0x75 /* u */) throw new Error('model supports %u only');
    str = skipSpaces(str);
    if (str.deref === 0 || !isdigit(str.deref)) break;
    // simple_strntoull(str, &next, 10, width): at most `width` digits.
    let value = 0;
    let next = str;
    const max = width >= 0 ? width : Number.MAX_SAFE_INTEGER;
    while (next.at - str.at < max && isdigit(next.deref)) {
      value = value * 10 + (next.deref - 0x30);
      next = next.plus(1);
    }
    out.push(value);
    str = next;
  }
  return out;
}

function strncmp(a: Ptr, b: Ptr, n: number): number {
  for (let i = 0; i < n; i += 1) {
    const x = a.plus(i).deref;
    const y = b.plus(i).deref;
    if (x !== y) return x - y;
    if (x === 0) return 0;
  }
  return 0;
}

function kstrndup(p: Ptr, n: number): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < n && p.plus(i).deref !== 0; i += 1) out.push(p.plus(i).deref);
  return Uint8Array.from(out);
}

/** The kernel's verdict: the target bytes readlink returns, or `null` (the file stays a regular file). */
export function kernelReadlink(buf: Uint8Array): Uint8Array | null {
  if (buf.length !== 1067) return null; // CIFS_MF_SYMLINK_FILE_SIZE
  const values = kernelSscanf(buf, 'XSym\n%04u\n');
  if (values.length !== 1) return null;
  const linkLen = values[0]!;
  if (linkLen > 1024) return null; // CIFS_MF_SYMLINK_LINK_MAXLEN
  const linkStr = new Ptr(buf, 43);
  const hashed = Uint8Array.from({ length: linkLen }, (_, i) => linkStr.plus(i).deref);
  const md5Str2 = bytes(`${createHash('md5').update(hashed).digest('hex')}\n\0`);
  if (strncmp(new Ptr(buf, 10), new Ptr(md5Str2, 0), 17) !== 0) return null;
  return kstrndup(linkStr, linkLen);
}
