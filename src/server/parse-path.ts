/**
 * Turns a raw request target into a route. The path is split on `/` while still encoded, each
 * segment is percent-decoded exactly once and then validated as a name, so `%2F`, `%2e%2e`,
 * `%252e`, overlong UTF-8 (`%c0%ae`), backslashes, NUL and non-ASCII look-alikes all fail the
 * name check before any file-system call.
 */
import { isValidName } from 'warden/store';

/** A parsed request target. */
export type Route =
  | { kind: 'version'; owner: string; name: string; version: string }
  | { kind: 'alias'; owner: string; name: string; alias: string }
  | { kind: 'list'; owner: string; name: string }
  | { kind: 'healthz' | 'readyz' | 'metrics' | 'cluster' }
  | { kind: 'bad'; message: string }
  | { kind: 'none' };

/** A parsed request target: route plus the raw query string (without `?`). */
export interface Target {
  readonly route: Route;
  readonly query: string;
}

const FIXED: Record<string, Route> = {
  '/healthz': { kind: 'healthz' },
  '/readyz': { kind: 'readyz' },
  '/metrics': { kind: 'metrics' },
  '/v1/cluster': { kind: 'cluster' },
};

function decodeOnce(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Parses `rawUrl` (origin-form only; anything else is a bad path). */
export function parseTarget(rawUrl: string): Target {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  const fixed = FIXED[path];
  if (fixed) return { route: fixed, query };
  if (!path.startsWith('/v1/files/')) {
    return { route: path.startsWith('/') ? { kind: 'none' } : { kind: 'bad', message: 'request target must be a path' }, query };
  }
  const raw = path.slice('/v1/files/'.length).split('/');
  if (raw.length < 2 || raw.length > 3) return { route: { kind: 'bad', message: 'expected /v1/files/OWNER/NAME[/VERSION|/@ALIAS]' }, query };
  const decoded: string[] = [];
  for (const segment of raw) {
    const value = decodeOnce(segment);
    if (value === undefined) return { route: { kind: 'bad', message: 'bad percent-encoding' }, query };
    decoded.push(value);
  }
  const [owner = '', name = '', last] = decoded;
  if (!isValidName(owner, 'owner')) return { route: { kind: 'bad', message: 'invalid owner' }, query };
  if (!isValidName(name, 'name')) return { route: { kind: 'bad', message: 'invalid name' }, query };
  if (last === undefined) return { route: { kind: 'list', owner, name }, query };
  if (last.startsWith('@')) {
    const alias = last.slice(1);
    if (!isValidName(alias, 'alias')) return { route: { kind: 'bad', message: 'invalid alias' }, query };
    return { route: { kind: 'alias', owner, name, alias }, query };
  }
  if (!isValidName(last, 'version')) return { route: { kind: 'bad', message: 'invalid version' }, query };
  return { route: { kind: 'version', owner, name, version: last }, query };
}

/** Returns the value of a query flag (`force=true` → 'true'), decoded once; undefined if absent. */
export function queryParam(query: string, key: string): string | undefined {
  if (query === '') return undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    if (k === key) {
      const v = eq < 0 ? '' : pair.slice(eq + 1);
      try {
        return decodeURIComponent(v);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
