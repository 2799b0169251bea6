/**
 * Versions and aliases on a directory (layout in DESIGN.md). Publishing streams to a temp file
 * in `DATA/.warden/tmp/NODE-ID/` while hashing, fsyncs, then commits under a per-version mutex:
 * content renamed into place, directory fsynced, metadata renamed beside it, directory fsynced.
 * The metadata file is the commit point: content without metadata is invisible and swept at
 * open. Reads go through {@link openConfinedFile}; aliases are read as link text, validated,
 * and resolved by name — never followed.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, realpath, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { readAliasLink, writeAliasLink, type SymlinkMode } from './alias-link.js';
import { assertRealDirs, ensureRealDirs, fsyncDir, openConfinedFile, readConfinedFile, type ConfinedFile } from './confined-fs.js';
import { StoreError, fromFsError } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { assertName, isValidName } from './names.js';
import { receiveToFile, writeDurable } from './durable-write.js';
import { HashThreads } from './hash-offload.js';
import { aliasTargetVersion, parseMeta, type VersionMeta } from './metadata.js';
import { localWriteAuthority, type WriteAuthority, type WriteGuard } from './write-authority.js';

/** An alias as listed: its version, or the corruption code when its link is invalid. */
export interface AliasEntry {
  readonly alias: string;
  readonly version: string | null;
  readonly error?: string;
}

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** The data directory (DATA). Created if missing. */
  root: string;
  /** This node's id; names its temp folder `DATA/.warden/tmp/NODE-ID/`. Default `'local'`. */
  nodeId?: string;
  /** How alias links are written. Default `'auto'`. */
  symlinks?: SymlinkMode;
  /** Largest accepted upload, in bytes. Default 5 GiB. */
  maxUploadBytes?: number;
  /** Who may write for an owner. Default: this node, always ({@link localWriteAuthority}). */
  authority?: WriteAuthority;
  /** Remove content files that have no metadata (uncommitted) at open. Default true (single node). */
  sweepOrphans?: boolean;
  /** Called after a version or alias changes (for caches). */
  onChange?: (change: StoreChange) => void;
  /**
   * Threads that hash uploads larger than 1 MiB, so a publish uses a spare core; 0 hashes on
   * the event loop. Default: one per core beyond the first this process may run on, at most 4.
   */
  hashThreads?: number;
}

/** What changed, for cache invalidation. */
export interface StoreChange {
  readonly kind: 'version' | 'alias';
  readonly owner: string;
  readonly name: string;
  readonly key: string;
}

/** Options of {@link Store.publish}. */
export interface PublishOptions {
  /** Hex sha256 the client announced; a mismatch keeps nothing. */
  sha256?: string;
  /** Content-Type to store (already chosen). Default `application/octet-stream`. */
  contentType?: string;
  signal?: AbortSignal;
}

/** Result of a publish: `created` (201) or `identical` re-publish (200). */
export interface PublishResult {
  readonly status: 'created' | 'identical';
  readonly meta: VersionMeta;
}

/** An open version: descriptor, its metadata; the caller closes the handle. */
export interface OpenVersion extends ConfinedFile {
  readonly meta: VersionMeta;
}

const DEFAULT_MAX_UPLOAD = 5 * 1024 ** 3;
const HEX64 = /^[0-9a-f]{64}$/;

/** Throws a retryable NOT_WRITER when the guard's permission ended (checked synchronously, right before a rename). */
function assertWriter(guard: WriteGuard, owner: string): void {
  if (guard.isValid ? guard.isValid() : !guard.signal.aborted) return;
  throw new StoreError('WARDEN_ERR_STORE_NOT_WRITER', `lost write permission for ${owner}`, { retryable: true });
}

/** A store of immutable versions and movable aliases under one data directory. */
export class Store {
  /** Absolute, symlink-free path of DATA. */
  readonly root: string;
  readonly nodeId: string;
  readonly maxUploadBytes: number;
  readonly #tmp: string;
  readonly #symlinks: SymlinkMode;
  readonly #authority: WriteAuthority;
  readonly #mutex = new KeyedMutex();
  readonly #listeners = new Set<(change: StoreChange) => void>();
  readonly #hashThreads: HashThreads;
  #closed = false;

  private constructor(root: string, tmp: string, hashThreads: HashThreads, options: StoreOptions) {
    this.root = root;
    this.#tmp = tmp;
    this.nodeId = options.nodeId ?? 'local';
    this.maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
    this.#symlinks = options.symlinks ?? 'auto';
    this.#authority = options.authority ?? localWriteAuthority();
    if (options.onChange) this.#listeners.add(options.onChange);
    this.#hashThreads = hashThreads;
  }

  /**
   * Opens (creating if needed) a store: resolves DATA once (it may itself be a symlink the
   * operator chose), empties this node's temp folder, and sweeps uncommitted content.
   */
  static async open(options: StoreOptions): Promise<Store> {
    const nodeId = options.nodeId ?? 'local';
    assertName(nodeId, 'name');
    // Validated before anything touches the disk (starts no thread yet).
    const hashThreads = new HashThreads(options.hashThreads === undefined ? {} : { threads: options.hashThreads });
    await mkdir(options.root, { recursive: true });
    const root = await realpath(options.root);
    const tmp = await ensureRealDirs(root, ['.warden', 'tmp', nodeId]);
    for (const entry of await readdir(tmp)) await rm(join(tmp, entry), { recursive: true, force: true });
    const store = new Store(root, tmp, hashThreads, { ...options, nodeId });
    if (options.sweepOrphans ?? true) await store.#sweepOrphans();
    return store;
  }

  /** Closes the store; later calls throw `WARDEN_ERR_STORE_CLOSED`. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#hashThreads.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Calls `listener` after every version or alias change made through this store; returns an unsubscribe function. */
  subscribe(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: StoreChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('WARDEN_ERR_STORE_CLOSED', 'store is closed');
  }

  /**
   * Publishes `body` as OWNER/NAME/VERSION. Streams to a temp file with back-pressure while
   * hashing; enforces the size limit as bytes arrive; commits atomically. Identical bytes for an
   * existing version → `identical`; different bytes → `WARDEN_ERR_STORE_VERSION_CONFLICT`.
   * On any failure nothing is left behind.
   */
  async publish(owner: string, name: string, version: string, body: AsyncIterable<Buffer> | Readable, options: PublishOptions = {}): Promise<PublishResult> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    assertName(version, 'version');
    if (options.sha256 !== undefined && !HEX64.test(options.sha256)) {
      throw new StoreError('WARDEN_ERR_STORE_DIGEST_MISMATCH', 'announced sha256 is not 64 lowercase hex digits');
    }
    this.#assertOpen();
    const guard = await this.#authority.acquire(owner, options.signal ? { signal: options.signal } : {});
    const base = join(this.#tmp, randomBytes(12).toString('hex'));
    const tempContent = `${base}.data`;
    const tempMeta = `${base}.json`;
    try {
      const receive = (): Promise<{ sha256: string; size: number }> => receiveToFile(body, tempContent, { maxBytes: this.maxUploadBytes, signal: options.signal, hashThreads: this.#hashThreads });
      const { sha256, size } = await receive().catch(async (error: unknown) => {
        // Cluster mode: a node that was gone (paused past its lease) may find its temp folder
        // swept by the others; the open failed before any byte was read, so recreate and retry.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await ensureRealDirs(this.root, ['.warden', 'tmp', this.nodeId]);
        return await receive();
      });
      if (options.sha256 !== undefined && options.sha256 !== sha256) {
        throw new StoreError('WARDEN_ERR_STORE_DIGEST_MISMATCH', `sha256 mismatch: announced ${options.sha256}, received ${sha256}`);
      }
      const meta: VersionMeta = {
        version,
        sha256,
        size,
        contentType: options.contentType ?? 'application/octet-stream',
        createdAt: new Date().toISOString(),
        fencingToken: guard.fencingToken,
      };
      await writeDurable(tempMeta, Buffer.from(`${JSON.stringify(meta)}\n`));
      return await this.#mutex.run(`v:${owner}/${name}/${version}`, async () => {
        const existing = await this.readMeta(owner, name, version).catch((error: unknown) => {
          if (error instanceof StoreError && error.code === 'WARDEN_ERR_STORE_NOT_FOUND') return undefined;
          throw error;
        });
        if (existing) {
          if (existing.sha256 === sha256 && existing.size === size) return { status: 'identical', meta: existing } as const;
          throw new StoreError('WARDEN_ERR_STORE_VERSION_CONFLICT', `${owner}/${name}/${version} exists with different content`);
        }
        const dir = await ensureRealDirs(this.root, [owner, name, 'versions']);
        const change = { kind: 'version', owner, name, key: version, addsOnly: true } as const;
        // Fencing: proven against the coordinator, then checked locally before each rename.
        await guard.beforeCommit?.(change);
        assertWriter(guard, owner);
        await rename(tempContent, join(dir, version));
        await fsyncDir(dir);
        assertWriter(guard, owner);
        await rename(tempMeta, join(dir, `${version}.json`));
        await fsyncDir(dir);
        this.#emit(change);
        await guard.afterCommit?.(change);
        return { status: 'created', meta } as const;
      });
    } catch (error) {
      const errno = error as NodeJS.ErrnoException;
      if (errno.code === 'ENOENT' && typeof errno.path === 'string' && errno.path.startsWith(this.#tmp)) {
        // Our temp folder vanished mid-upload: swept by the cluster while this node was away.
        throw new StoreError('WARDEN_ERR_STORE_NOT_WRITER', `temp folder of ${this.nodeId} was swept during the upload; retry`, { retryable: true, cause: error });
      }
      throw fromFsError(error, `${owner}/${name}/${version}`);
    } finally {
      guard.release?.();
      await unlink(tempContent).catch(() => undefined);
      await unlink(tempMeta).catch(() => undefined);
    }
  }

  /** Reads and validates a version's metadata; `WARDEN_ERR_STORE_NOT_FOUND` when uncommitted. */
  async readMeta(owner: string, name: string, version: string): Promise<VersionMeta> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    assertName(version, 'version');
    const bytes = await readConfinedFile(this.root, [owner, name, 'versions', `${version}.json`]);
    return parseMeta(bytes, version);
  }

  /**
   * Opens a committed version for reading (confined, `O_NOFOLLOW`). The caller closes
   * `handle`. Content whose size disagrees with its metadata is reported corrupt.
   */
  async openVersion(owner: string, name: string, version: string): Promise<OpenVersion> {
    this.#assertOpen();
    const meta = await this.readMeta(owner, name, version);
    const file = await openConfinedFile(this.root, [owner, name, 'versions', version]);
    if (file.stat.size !== meta.size) {
      await file.handle.close();
      throw new StoreError('WARDEN_ERR_STORE_CORRUPT_METADATA', `${owner}/${name}/${version}: size ${file.stat.size} differs from metadata ${meta.size}`);
    }
    return { ...file, meta };
  }

  /**
   * Returns the version an alias points to. The link text must be exactly
   * `../versions/<valid version>`; anything else is `WARDEN_ERR_STORE_CORRUPT_ALIAS` and is
   * never followed.
   */
  async resolveAlias(owner: string, name: string, alias: string): Promise<string> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    assertName(alias, 'alias');
    this.#assertOpen();
    await assertRealDirs(this.root, [owner, name, 'aliases']);
    const path = join(this.root, owner, name, 'aliases', alias);
    let target: string;
    try {
      target = await readAliasLink(path);
    } catch (error) {
      if (error instanceof StoreError) {
        throw new StoreError(error.code as 'WARDEN_ERR_STORE_IO', `${owner}/${name}/@${alias}: ${error.message}`, { cause: error, retryable: error.retryable });
      }
      throw fromFsError(error, `${owner}/${name}/@${alias}`);
    }
    const version = aliasTargetVersion(target);
    if (version === undefined) {
      throw new StoreError('WARDEN_ERR_STORE_CORRUPT_ALIAS', `${owner}/${name}/@${alias}: target ${JSON.stringify(target.slice(0, 300))} is not ../versions/<version>`);
    }
    return version;
  }

  /**
   * Points an alias at an existing version, atomically (temp link + rename). `ifMatch`, when
   * given, sees the current target (null if none or corrupt) under the alias's mutex and
   * decides whether the move may go on (compare-and-set).
   */
  async setAlias(
    owner: string,
    name: string,
    alias: string,
    version: string,
    options: { ifMatch?: (current: VersionMeta | null) => boolean; signal?: AbortSignal } = {},
  ): Promise<{ previous: string | null; meta: VersionMeta }> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    assertName(alias, 'alias');
    assertName(version, 'version');
    this.#assertOpen();
    const guard = await this.#authority.acquire(owner, options.signal ? { signal: options.signal } : {});
    try {
      return await this.#setAlias(guard, owner, name, alias, version, options.ifMatch);
    } finally {
      guard.release?.();
    }
  }

  async #setAlias(
    guard: WriteGuard,
    owner: string,
    name: string,
    alias: string,
    version: string,
    ifMatch: ((current: VersionMeta | null) => boolean) | undefined,
  ): Promise<{ previous: string | null; meta: VersionMeta }> {
    const options = { ifMatch };
    return await this.#mutex.run(`a:${owner}/${name}/${alias}`, async () => {
      const previous = await this.resolveAlias(owner, name, alias).catch(() => null);
      if (options.ifMatch) {
        const current = previous === null ? null : await this.readMeta(owner, name, previous).catch(() => null);
        if (!options.ifMatch(current)) {
          throw new StoreError('WARDEN_ERR_STORE_PRECONDITION_FAILED', `@${alias} does not match If-Match (now ${previous ?? 'unset'})`);
        }
      }
      // Hold the version's mutex until the link lands, so a concurrent delete sees the alias.
      const meta = await this.#mutex.run(`v:${owner}/${name}/${version}`, async () => {
        const target = await this.readMeta(owner, name, version);
        const dir = await ensureRealDirs(this.root, [owner, name, 'aliases']);
        await guard.beforeCommit?.({ kind: 'alias', owner, name, key: alias });
        assertWriter(guard, owner);
        try {
          await writeAliasLink(`../versions/${version}`, join(dir, alias), this.#symlinks);
          await fsyncDir(dir);
        } catch (error) {
          throw fromFsError(error, `${owner}/${name}/@${alias}`);
        }
        return target;
      });
      const change = { kind: 'alias', owner, name, key: alias } as const;
      this.#emit(change);
      await guard.afterCommit?.(change);
      return { previous, meta };
    });
  }

  /** Removes an alias; `WARDEN_ERR_STORE_NOT_FOUND` when it does not exist. */
  async deleteAlias(owner: string, name: string, alias: string, options: { ifMatch?: (current: VersionMeta | null) => boolean } = {}): Promise<void> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    assertName(alias, 'alias');
    this.#assertOpen();
    const guard = await this.#authority.acquire(owner);
    try {
      await this.#deleteAlias(guard, owner, name, alias, options);
    } finally {
      guard.release?.();
    }
  }

  async #deleteAlias(guard: WriteGuard, owner: string, name: string, alias: string, options: { ifMatch?: (current: VersionMeta | null) => boolean }): Promise<void> {
    await this.#mutex.run(`a:${owner}/${name}/${alias}`, async () => {
      await assertRealDirs(this.root, [owner, name, 'aliases']);
      const path = join(this.root, owner, name, 'aliases', alias);
      if (options.ifMatch) {
        const previous = await this.resolveAlias(owner, name, alias).catch(() => null);
        const current = previous === null ? null : await this.readMeta(owner, name, previous).catch(() => null);
        if (!options.ifMatch(current)) throw new StoreError('WARDEN_ERR_STORE_PRECONDITION_FAILED', `@${alias} does not match If-Match`);
      }
      const change = { kind: 'alias', owner, name, key: alias } as const;
      await guard.beforeCommit?.(change);
      assertWriter(guard, owner);
      try {
        const stat = await lstat(path);
        if (stat.isDirectory()) throw new StoreError('WARDEN_ERR_STORE_CORRUPT_ALIAS', `@${alias} is a directory`);
        await unlink(path);
      } catch (error) {
        throw fromFsError(error, `${owner}/${name}/@${alias}`);
      }
      this.#emit(change);
      await guard.afterCommit?.(change);
    });
  }

  /**
   * Deletes a version. Refused with `WARDEN_ERR_STORE_VERSION_ALIASED` while an alias points
   * to it, unless `force` (the aliases then dangle and answer 404). Metadata goes first, so a
   * crash in between leaves an invisible orphan, never a half version.
   */
  async deleteVersion(owner: string, name: string, version: string, options: { force?: boolean } = {}): Promise<void> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    assertName(version, 'version');
    this.#assertOpen();
    const guard = await this.#authority.acquire(owner);
    try {
      await this.#deleteVersion(guard, owner, name, version, options);
    } finally {
      guard.release?.();
    }
  }

  async #deleteVersion(guard: WriteGuard, owner: string, name: string, version: string, options: { force?: boolean }): Promise<void> {
    await this.#mutex.run(`v:${owner}/${name}/${version}`, async () => {
      await this.readMeta(owner, name, version);
      if (!options.force) {
        const holders = (await this.listAliases(owner, name)).filter((a) => a.version === version).map((a) => a.alias);
        if (holders.length > 0) {
          throw new StoreError('WARDEN_ERR_STORE_VERSION_ALIASED', `${version} is the target of @${holders.join(', @')}; use force to delete anyway`);
        }
      }
      const change = { kind: 'version', owner, name, key: version } as const;
      await guard.beforeCommit?.(change);
      assertWriter(guard, owner);
      const dir = join(this.root, owner, name, 'versions');
      try {
        await unlink(join(dir, `${version}.json`));
        await fsyncDir(dir);
        await unlink(join(dir, version)).catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        });
      } catch (error) {
        throw fromFsError(error, `${owner}/${name}/${version}`);
      }
      this.#emit(change);
      await guard.afterCommit?.(change);
    });
  }

  /**
   * Moves a version out of the tree into `DATA/.warden/quarantine/OWNER/NAME/VERSION.<time>/`
   * (its content, its metadata, and `report.json` with `report` plus the aliases that pointed
   * at it), so it is no longer served: reads answer 404, aliases pointing at it are left in
   * place and answer 404 until the version is published again or they are moved. Fenced like
   * a delete. Metadata moves first (the commit point), so a crash in between leaves an
   * invisible orphan. Resolves the quarantine folder, or null when the version is gone or its
   * metadata no longer has `expectSha256` (it changed since it was checked).
   */
  async quarantineVersion(
    owner: string,
    name: string,
    version: string,
    options: { expectSha256: string; report?: Record<string, unknown>; signal?: AbortSignal },
  ): Promise<string | null> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    assertName(version, 'version');
    this.#assertOpen();
    const guard = await this.#authority.acquire(owner, options.signal ? { signal: options.signal } : {});
    try {
      return await this.#quarantine(guard, owner, name, version, options);
    } finally {
      guard.release?.();
    }
  }

  async #quarantine(guard: WriteGuard, owner: string, name: string, version: string, options: { expectSha256: string; report?: Record<string, unknown> }): Promise<string | null> {
    return await this.#mutex.run(`v:${owner}/${name}/${version}`, async () => {
      const meta = await this.readMeta(owner, name, version).catch((error: unknown) => {
        if (error instanceof StoreError && error.code === 'WARDEN_ERR_STORE_NOT_FOUND') return undefined;
        throw error;
      });
      if (!meta || meta.sha256 !== options.expectSha256) return null;
      const aliases = (await this.listAliases(owner, name)).filter((a) => a.version === version).map((a) => a.alias);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const dest = await ensureRealDirs(this.root, ['.warden', 'quarantine', owner, name, `${version}.${stamp}-${randomBytes(3).toString('hex')}`]);
      const report = { ...options.report, owner, name, version, node: this.nodeId, fencingToken: guard.fencingToken, quarantinedAt: new Date().toISOString(), aliases, meta };
      const change = { kind: 'version', owner, name, key: version } as const;
      const dir = join(this.root, owner, name, 'versions');
      try {
        await writeDurable(join(dest, 'report.json'), Buffer.from(`${JSON.stringify(report, null, 2)}\n`));
        await guard.beforeCommit?.(change);
        assertWriter(guard, owner);
        await rename(join(dir, `${version}.json`), join(dest, `${version}.json`));
      } catch (error) {
        // Nothing moved: leave no half quarantine behind.
        await rm(dest, { recursive: true, force: true });
        throw fromFsError(error, `${owner}/${name}/${version}`);
      }
      try {
        await fsyncDir(dir);
        await rename(join(dir, version), join(dest, version)).catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        });
        await fsyncDir(dir);
        await fsyncDir(dest);
      } catch (error) {
        throw fromFsError(error, `${owner}/${name}/${version}`);
      }
      this.#emit(change);
      await guard.afterCommit?.(change);
      return dest;
    });
  }

  /** Lists the names of versions that have metadata (committed), without checking their content. */
  async listVersionNames(owner: string, name: string): Promise<string[]> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    this.#assertOpen();
    const entries = await this.#readdirConfined([owner, name, 'versions']);
    return entries.filter((e) => e.endsWith('.json')).map((e) => e.slice(0, -'.json'.length)).filter((v) => isValidName(v, 'version'));
  }

  /** Lists committed versions (metadata), oldest first by creation time. */
  async listVersions(owner: string, name: string): Promise<VersionMeta[]> {
    assertName(owner, 'owner');
    assertName(name, 'name');
    this.#assertOpen();
    await assertRealDirs(this.root, [owner, name]);
    const entries = await this.#readdirConfined([owner, name, 'versions']);
    const metas: VersionMeta[] = [];
    for (const entry of entries) {
      if (!entry.endsWith('.json')) continue;
      const version = entry.slice(0, -'.json'.length);
      if (!isValidName(version, 'version')) continue;
      try {
        const meta = await this.readMeta(owner, name, version);
        const content = await lstat(join(this.root, owner, name, 'versions', version));
        if (content.isFile() && content.size === meta.size) metas.push(meta);
      } catch {
        // Unreadable or racing with a delete: not a committed version.
      }
    }
    return metas.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.version.localeCompare(b.version)));
  }

  /** Lists aliases with their versions; corrupt ones carry `error` and `version: null`. */
  async listAliases(owner: string, name: string): Promise<AliasEntry[]> {
    const entries = await this.#readdirConfined([owner, name, 'aliases']);
    const aliases: AliasEntry[] = [];
    for (const alias of entries.sort()) {
      if (!isValidName(alias, 'alias')) continue;
      try {
        aliases.push({ alias, version: await this.resolveAlias(owner, name, alias) });
      } catch (error) {
        const code = error instanceof StoreError ? error.code : 'WARDEN_ERR_STORE_IO';
        if (code !== 'WARDEN_ERR_STORE_NOT_FOUND') aliases.push({ alias, version: null, error: code });
      }
    }
    return aliases;
  }

  async #readdirConfined(parts: string[]): Promise<string[]> {
    try {
      await assertRealDirs(this.root, parts);
      return await readdir(join(this.root, ...parts));
    } catch (error) {
      const converted = fromFsError(error, parts.join('/'));
      if (converted.code === 'WARDEN_ERR_STORE_NOT_FOUND') return [];
      throw converted;
    }
  }

  async #sweepOrphans(): Promise<void> {
    for (const owner of await readdir(this.root)) {
      if (isValidName(owner, 'owner')) await this.sweepOrphans(owner);
    }
  }

  /**
   * Removes uncommitted content of `owner` (a content file without its metadata: a commit cut
   * between its two renames) whose last change is older than `olderThanMs` (default 0).
   * Cluster mode: only the owner's partition leader calls it, with an age no commit in
   * progress can reach. Returns how many files went.
   */
  async sweepOrphans(owner: string, options: { olderThanMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    assertName(owner, 'owner');
    const cutoff = Date.now() - (options.olderThanMs ?? 0);
    let removed = 0;
    for (const name of await this.#readdirConfined([owner]).catch(() => [])) {
      if (!isValidName(name, 'name')) continue;
      const files = new Set(await this.#readdirConfined([owner, name, 'versions']).catch(() => []));
      for (const file of files) {
        options.signal?.throwIfAborted();
        if (!isValidName(file, 'version') || files.has(`${file}.json`)) continue;
        const path = join(this.root, owner, name, 'versions', file);
        const info = await lstat(path).catch(() => undefined);
        // ctime: a rename updates it, so an orphan's age counts from the interrupted commit.
        if (!info?.isFile() || info.ctimeMs > cutoff) continue;
        await unlink(path).then(() => removed++, () => undefined);
      }
    }
    return removed;
  }
}

