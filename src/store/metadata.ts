/** Version metadata (`VERSION.json`) and alias link texts: parsing and validation. */
import { isSafeContentType } from './content-type.js';
import { StoreError } from './errors.js';
import { isValidName } from './names.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** Metadata stored beside each version as `VERSION.json`. */
export interface VersionMeta {
  readonly version: string;
  /** Lowercase hex sha256 of the content. */
  readonly sha256: string;
  /** Content length in bytes. */
  readonly size: number;
  readonly contentType: string;
  /** ISO-8601 time of the commit. */
  readonly createdAt: string;
  /** Fencing token of the leadership that committed it. */
  readonly fencingToken: string;
}

/** Returns the version named by an alias link text, or undefined when the text is corrupt. */
export function aliasTargetVersion(target: string): string | undefined {
  const prefix = '../versions/';
  if (!target.startsWith(prefix)) return undefined;
  const version = target.slice(prefix.length);
  return isValidName(version, 'version') ? version : undefined;
}

/** Parses and validates the bytes of `VERSION.json`; throws `WARDEN_ERR_STORE_CORRUPT_METADATA`. */
export function parseMeta(bytes: Buffer, version: string): VersionMeta {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new StoreError('WARDEN_ERR_STORE_CORRUPT_METADATA', `${version}.json does not parse`, { cause: error });
  }
  const m = value as Partial<VersionMeta> | null;
  if (
    !m || typeof m !== 'object' || m.version !== version || typeof m.sha256 !== 'string' || !HEX64.test(m.sha256) ||
    typeof m.size !== 'number' || !Number.isSafeInteger(m.size) || m.size < 0 || typeof m.contentType !== 'string' ||
    typeof m.createdAt !== 'string' || typeof m.fencingToken !== 'string' ||
    // Both end up in response headers: anything odd here is corruption, not a header to send.
    !isSafeContentType(m.contentType) || Number.isNaN(Date.parse(m.createdAt))
  ) {
    throw new StoreError('WARDEN_ERR_STORE_CORRUPT_METADATA', `${version}.json is missing fields`);
  }
  return { version, sha256: m.sha256, size: m.size, contentType: m.contentType, createdAt: m.createdAt, fencingToken: m.fencingToken };
}
