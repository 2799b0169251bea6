/**
 * Memory cache of hot versions: metadata, the response headers built from it, and the bytes of
 * small files, so a hot GET costs no system call. Versions are immutable, so an entry is only
 * invalidated by a delete on this node (store change events) or, for changes made by other
 * nodes or by hand, by expiring after `ttlMs`. Alias resolutions are cached the same way.
 */
import type { Store, VersionMeta } from 'warden/store';
import { StoreError } from 'warden/store';

/** A cached version: metadata, ETag, precomputed headers and (small files only) the bytes. */
export interface CachedVersion {
  readonly meta: VersionMeta;
  readonly etag: string;
  /** The content, when it is at most `maxFileBytes`; otherwise read from disk per request. */
  readonly body: Buffer | undefined;
  /** Flat [name, value, …] headers of a 200 answer on the version URL. */
  readonly versionHeaders: readonly string[];
  /** Flat headers of a 200 answer through an alias (short cache, Content-Location). */
  readonly aliasHeaders: readonly string[];
  /**
   * Complete 200 heads (with Content-Length) whose last value is a slot for the request id,
   * filled in just before the synchronous `writeHead` (the hot path allocates nothing).
   */
  readonly full200: { readonly version: string[]; readonly alias: string[] };
  readonly expires: number;
}

/** Options of {@link FileCache}. */
export interface FileCacheOptions {
  /** Largest file whose bytes are kept in memory, in bytes. Default 256 KiB. */
  maxFileBytes?: number;
  /** Total bytes of cached file content. Default 64 MiB. */
  maxBytes?: number;
  /** How long an entry is trusted without looking at the disk again, in ms. Default 1000. */
  ttlMs?: number;
  /** `max-age` of answers through an alias, in seconds. Default 5. */
  aliasMaxAgeS?: number;
  /** Clock in ms (tests). Default `performance.now`. */
  now?: () => number;
}

interface AliasEntry {
  readonly version: string;
  readonly expires: number;
}

/** The cache; one per server. */
export class FileCache {
  readonly #store: Store;
  readonly #maxFileBytes: number;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #aliasMaxAge: number;
  readonly #now: () => number;
  readonly #versions = new Map<string, CachedVersion>();
  readonly #aliases = new Map<string, AliasEntry>();
  readonly #loading = new Map<string, Promise<CachedVersion>>();
  #bytes = 0;
  /** Bumped by every invalidation, so a load that raced with one does not cache stale data. */
  #generation = 0;

  /** Creates a cache over `store`. */
  constructor(store: Store, options: FileCacheOptions = {}) {
    this.#store = store;
    this.#maxFileBytes = options.maxFileBytes ?? 256 * 1024;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#ttlMs = options.ttlMs ?? 1000;
    this.#aliasMaxAge = options.aliasMaxAgeS ?? 5;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Returns a fresh cached version synchronously, or undefined (then call {@link load}). */
  peek(owner: string, name: string, version: string): CachedVersion | undefined {
    const entry = this.#versions.get(`${owner}/${name}/${version}`);
    if (entry === undefined) return undefined;
    if (entry.expires < this.#now()) {
      this.#drop(`${owner}/${name}/${version}`);
      return undefined;
    }
    return entry;
  }

  /** Loads a version from the store (deduplicating concurrent loads) and caches it. */
  load(owner: string, name: string, version: string): Promise<CachedVersion> {
    const key = `${owner}/${name}/${version}`;
    let pending = this.#loading.get(key);
    if (!pending) {
      pending = this.#fill(key, owner, name, version).finally(() => this.#loading.delete(key));
      this.#loading.set(key, pending);
    }
    return pending;
  }

  async #fill(key: string, owner: string, name: string, version: string): Promise<CachedVersion> {
    const generation = this.#generation;
    const opened = await this.#store.openVersion(owner, name, version);
    let body: Buffer | undefined;
    try {
      if (opened.meta.size <= this.#maxFileBytes) body = await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
    if (body !== undefined && body.length !== opened.meta.size) {
      throw new StoreError('WARDEN_ERR_STORE_CORRUPT_METADATA', `${key}: read ${body.length} bytes, metadata says ${opened.meta.size}`);
    }
    const entry = this.#build(owner, name, opened.meta, body);
    if (generation !== this.#generation) return entry;
    this.#drop(key);
    this.#versions.set(key, entry);
    this.#bytes += body?.length ?? 0;
    this.#evict();
    return entry;
  }

  #build(owner: string, name: string, meta: VersionMeta, body: Buffer | undefined): CachedVersion {
    const etag = `"${meta.sha256}"`;
    const common = [
      'Content-Type', meta.contentType,
      'ETag', etag,
      'Accept-Ranges', 'bytes',
      'Last-Modified', new Date(meta.createdAt).toUTCString(),
      'X-Content-Type-Options', 'nosniff',
    ];
    const location = `/v1/files/${owner}/${name}/${meta.version}`;
    const versionHeaders = [...common, 'Cache-Control', 'public, max-age=31536000, immutable'];
    const aliasHeaders = [...common, 'Cache-Control', `public, max-age=${this.#aliasMaxAge}`, 'Content-Location', location];
    const tail = ['Content-Length', String(meta.size), 'X-Request-Id', ''];
    return {
      meta,
      etag,
      body,
      versionHeaders,
      aliasHeaders,
      full200: { version: [...versionHeaders, ...tail], alias: [...aliasHeaders, ...tail] },
      expires: this.#now() + this.#ttlMs,
    };
  }

  /** Returns the cached version of an alias when fresh, or undefined. */
  peekAlias(owner: string, name: string, alias: string): string | undefined {
    const hit = this.#aliases.get(`${owner}/${name}/${alias}`);
    return hit && hit.expires >= this.#now() ? hit.version : undefined;
  }

  /** Resolves an alias to a version name, from the cache when fresh. */
  async resolveAlias(owner: string, name: string, alias: string): Promise<string> {
    const key = `${owner}/${name}/${alias}`;
    const hit = this.#aliases.get(key);
    if (hit && hit.expires >= this.#now()) return hit.version;
    const generation = this.#generation;
    const version = await this.#store.resolveAlias(owner, name, alias);
    if (generation !== this.#generation) return version;
    this.#aliases.set(key, { version, expires: this.#now() + this.#ttlMs });
    if (this.#aliases.size > 100_000) this.#aliases.clear();
    return version;
  }

  /** Forgets what a store change made stale. */
  invalidate(kind: 'version' | 'alias', owner: string, name: string, key: string): void {
    this.#generation++;
    if (kind === 'version') this.#drop(`${owner}/${name}/${key}`);
    else this.#aliases.delete(`${owner}/${name}/${key}`);
  }

  /** Forgets everything cached for `owner` (a change announced by another node). */
  invalidateOwner(owner: string): void {
    this.#generation++;
    const prefix = `${owner}/`;
    for (const key of [...this.#versions.keys()]) if (key.startsWith(prefix)) this.#drop(key);
    for (const key of [...this.#aliases.keys()]) if (key.startsWith(prefix)) this.#aliases.delete(key);
  }

  /** Forgets everything (e.g. the change feed was interrupted and changes may be missed). */
  clear(): void {
    this.#generation++;
    for (const key of [...this.#versions.keys()]) this.#drop(key);
    this.#aliases.clear();
  }

  /** Bytes of content held. */
  get bytes(): number {
    return this.#bytes;
  }

  #drop(key: string): void {
    const old = this.#versions.get(key);
    if (old) {
      this.#bytes -= old.body?.length ?? 0;
      this.#versions.delete(key);
    }
  }

  #evict(): void {
    // Oldest insertion first: cheap, and hot entries come back within a TTL anyway.
    for (const [key] of this.#versions) {
      if (this.#bytes <= this.#maxBytes && this.#versions.size <= 100_000) break;
      this.#drop(key);
    }
  }
}
