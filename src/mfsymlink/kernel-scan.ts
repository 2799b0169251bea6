/**
 * The Linux kernel's `sscanf(buf, "XSym\n%04u\n", &link_len)` (lib/vsprintf.c `vsscanf`,
 * lib/ctype.c `isspace`), modelled byte for byte. It differs from libc: a format
 * whitespace matches any run of kernel whitespace — including none, and including 0xA0 —
 * and `%04u` skips whitespace again, then reads one to four ASCII digits.
 */

/** Bytes the kernel's `isspace()` accepts: 0x09–0x0D, 0x20 and (Latin-1 NBSP) 0xA0. */
export function isKernelSpace(byte: number): boolean {
  return (byte >= 0x09 && byte <= 0x0d) || byte === 0x20 || byte === 0xa0;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** Outcome of {@link scanKernelHeader}. */
export type KernelScan =
  | { readonly ok: true; readonly length: number; readonly digitsAt: number; readonly digitCount: number }
  | { readonly ok: false; readonly reason: 'magic' | 'digit' };

/**
 * Scans the header as the kernel does. The kernel's buffer is not NUL-terminated, so a
 * whitespace run reaching its end makes the kernel read past it (undefined heap bytes);
 * this model never reads past `bytes` and treats its end as a NUL, which makes sscanf stop.
 */
export function scanKernelHeader(bytes: Uint8Array): KernelScan {
  const at = (i: number): number => (i < bytes.length ? bytes[i]! : 0);
  // Literal "XSym": each byte must match exactly, nothing may precede it.
  if (at(0) !== 0x58 || at(1) !== 0x53 || at(2) !== 0x79 || at(3) !== 0x6d) return { ok: false, reason: 'magic' };
  // Format "\n" → skip any whitespace run; then %04u skips whitespace again (same run).
  let i = 4;
  while (i < bytes.length && isKernelSpace(bytes[i]!)) i += 1;
  if (!isDigit(at(i))) return { ok: false, reason: 'digit' };
  // Field width 4 limits the digits read (simple_strntoull since the 2021 vsscanf fix).
  const digitsAt = i;
  let length = 0;
  while (i < bytes.length && i - digitsAt < 4 && isDigit(bytes[i]!)) {
    length = length * 10 + (bytes[i]! - 0x30);
    i += 1;
  }
  // The trailing "\n" of the format only skips whitespace: nothing after the digits is checked.
  return { ok: true, length, digitsAt, digitCount: i - digitsAt };
}
