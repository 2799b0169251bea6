/**
 * Bearer-token authentication from a tokens file holding only sha256 hashes (format in
 * DESIGN.md). The presented token is hashed and compared with every entry in constant time;
 * tokens are never stored, logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ServerError } from './errors.js';

/** What a token may do. `admin` implies `write` and `read`; `write` implies `read`. */
export type Scope = 'read' | 'write' | 'admin';

/** One entry of the tokens file. */
export interface TokenEntry {
  /** Lowercase hex sha256 of the token. */
  readonly sha256: string;
  /** Owner names, or `'*'` for every owner. */
  readonly owners: readonly string[];
  readonly scopes: readonly Scope[];
}

interface LoadedEntry {
  readonly hash: Buffer;
  readonly owners: ReadonlySet<string>;
  readonly scopes: ReadonlySet<Scope>;
}

/** Who a request is, once its token matched. */
export interface Principal {
  /** First 8 hex digits of the token's hash: safe to log. */
  readonly id: string;
  readonly owners: ReadonlySet<string>;
  readonly scopes: ReadonlySet<Scope>;
}

/** Outcome of {@link Authenticator.check}: a principal, or the error code to answer with. */
export type AuthResult = { ok: true; principal: Principal } | { ok: false; code: 'WARDEN_ERR_AUTH_MISSING' | 'WARDEN_ERR_AUTH_INVALID' | 'WARDEN_ERR_AUTH_FORBIDDEN'; message: string };

const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

/** Parses and validates the JSON of a tokens file; throws `WARDEN_ERR_SERVER_TOKENS_FILE`. */
export function parseTokensFile(text: string): TokenEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ServerError('WARDEN_ERR_SERVER_TOKENS_FILE', 'tokens file is not JSON', { cause: error });
  }
  const tokens = (value as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(tokens)) throw new ServerError('WARDEN_ERR_SERVER_TOKENS_FILE', 'tokens file needs {"tokens": [...]}');
  return tokens.map((raw: unknown, i) => {
    const e = raw as Partial<TokenEntry> | null;
    if (!e || typeof e.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(e.sha256)) {
      throw new ServerError('WARDEN_ERR_SERVER_TOKENS_FILE', `tokens[${i}].sha256 must be 64 hex digits`);
    }
    if (!Array.isArray(e.owners) || e.owners.length === 0 || !e.owners.every((o) => typeof o === 'string')) {
      throw new ServerError('WARDEN_ERR_SERVER_TOKENS_FILE', `tokens[${i}].owners must be a non-empty list of owners or "*"`);
    }
    if (!Array.isArray(e.scopes) || !e.scopes.every((s) => SCOPES.includes(s))) {
      throw new ServerError('WARDEN_ERR_SERVER_TOKENS_FILE', `tokens[${i}].scopes must list read, write or admin`);
    }
    return { sha256: e.sha256.toLowerCase(), owners: e.owners, scopes: e.scopes };
  });
}

/** Returns the hex sha256 of a token, as stored in the tokens file. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Checks bearer tokens against a fixed list of hashed entries. */
export class Authenticator {
  readonly #entries: readonly LoadedEntry[];

  /** Creates an authenticator over `entries` (an empty list refuses every token). */
  constructor(entries: readonly TokenEntry[]) {
    this.#entries = entries.map((e) => ({ hash: Buffer.from(e.sha256, 'hex'), owners: new Set(e.owners), scopes: new Set(e.scopes) }));
  }

  /** Loads a tokens file; throws `WARDEN_ERR_SERVER_TOKENS_FILE` when unreadable or invalid. */
  static async fromFile(path: string): Promise<Authenticator> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ServerError('WARDEN_ERR_SERVER_TOKENS_FILE', `cannot read tokens file ${path}`, { cause: error });
    }
    return new Authenticator(parseTokensFile(text));
  }

  /** Number of configured tokens. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Authenticates an `Authorization` header and authorises `scope` on `owner`
   * (`owner` undefined = any owner is fine). 401 codes for missing/unknown tokens, 403 for a
   * known token without the right.
   */
  check(authorization: string | undefined, scope: Scope, owner: string | undefined): AuthResult {
    if (authorization === undefined) return { ok: false, code: 'WARDEN_ERR_AUTH_MISSING', message: 'this request needs Authorization: Bearer <token>' };
    const m = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(authorization);
    if (!m || m[1] === undefined) return { ok: false, code: 'WARDEN_ERR_AUTH_MISSING', message: 'malformed Authorization header; expected Bearer <token>' };
    const presented = createHash('sha256').update(m[1], 'utf8').digest();
    let found: LoadedEntry | undefined;
    // Compare with every entry, without an early exit, so timing says nothing about which.
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.hash, presented) && found === undefined) found = entry;
    }
    if (!found) return { ok: false, code: 'WARDEN_ERR_AUTH_INVALID', message: this.#entries.length === 0 ? 'no tokens are configured on this server (--tokens)' : 'unknown token' };
    const principal: Principal = { id: presented.subarray(0, 4).toString('hex'), owners: found.owners, scopes: found.scopes };
    const scopeOk = found.scopes.has('admin') || found.scopes.has(scope) || (scope === 'read' && found.scopes.has('write'));
    const ownerOk = owner === undefined || found.owners.has('*') || found.owners.has(owner);
    if (!scopeOk || !ownerOk) {
      return { ok: false, code: 'WARDEN_ERR_AUTH_FORBIDDEN', message: !scopeOk ? `token lacks the ${scope} scope` : `token is not valid for owner ${owner}` };
    }
    return { ok: true, principal };
  }
}
