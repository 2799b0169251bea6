/** Parsing of a `Range: bytes=…` header against a known size. */

/** A single satisfiable byte range, inclusive `end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Parses a Range header for content of `size` bytes: a single range → that range; a range
 * that cannot be satisfied → `'unsatisfiable'`; a missing, malformed, non-bytes or multi-range
 * header → `undefined` (serve the whole content with 200, which RFC 9110 allows).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (!Number.isSafeInteger(suffix)) return undefined;
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return undefined;
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * Returns true when an `If-None-Match` header matches `etag` (weak comparison, as RFC 9110
 * requires for If-None-Match; `*` matches anything that exists).
 */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}

/** Returns true when an `If-Match` header matches `etag` (strong comparison; `*` = exists). */
export function matches(header: string, etag: string | null): boolean {
  if (header.trim() === '*') return etag !== null;
  if (etag === null) return false;
  return header.split(',').some((part) => part.trim() === etag);
}
