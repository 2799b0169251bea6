/**
 * Retention (`--keep N`): keeps the N newest versions of every name (by `createdAt` in their
 * metadata, ties by version name) and every version an alias points to; deletes the rest
 * through {@link Store.deleteVersion}, so each delete is fenced like any other write and is
 * refused if an alias was set on the version meanwhile. Leader-only work: the caller passes
 * the owners it leads and the signal that ends its leadership.
 */
import { StoreError } from './errors.js';
import type { Store } from './store.js';
import { listNames, listOwners } from './walk.js';

/** Which owners a background job works on: an explicit list, or a predicate over all owners. */
export interface OwnerSelection {
  /** Owners to work on. Default: every owner in DATA that `owns` accepts. */
  owners?: Iterable<string>;
  /** Filter applied to the owners walked (e.g. "belongs to a partition this node leads"). Default: all. */
  owns?: (owner: string) => boolean;
}

/** Options of {@link applyRetention}. */
export interface RetentionOptions extends OwnerSelection {
  /** Versions to keep per name (newest first), ≥ 1. Aliased versions are kept in addition. */
  keep: number;
  /** Stops the work: checked before every delete; the call then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Called after each deleted version. */
  onDelete?: (owner: string, name: string, version: string) => void;
  /** Called for a failed delete (the job goes on with the next version). Default: ignored. */
  onError?: (error: StoreError, owner: string, name: string, version: string) => void;
}

/** What a retention pass did. */
export interface RetentionResult {
  /** `OWNER/NAME/VERSION` of every deleted version. */
  readonly deleted: string[];
  /** Versions beyond the N newest kept because an alias points to them. */
  readonly keptAliased: number;
  readonly failed: number;
}

/** Resolves the owners of a selection, walking DATA when no explicit list is given. */
export async function selectOwners(store: Store, selection: OwnerSelection): Promise<string[]> {
  const owners = selection.owners ? [...selection.owners] : await listOwners(store.root);
  return selection.owns ? owners.filter(selection.owns) : owners;
}

/** Applies `keep` to every name of the selected owners. Rejects with `signal.reason` once aborted. */
export async function applyRetention(store: Store, options: RetentionOptions): Promise<RetentionResult> {
  if (!Number.isInteger(options.keep) || options.keep < 1) throw new RangeError(`keep must be an integer ≥ 1, got ${options.keep}`);
  const { signal } = options;
  signal?.throwIfAborted();
  const result = { deleted: [] as string[], keptAliased: 0, failed: 0 };
  for (const owner of await selectOwners(store, options)) {
    for (const name of await listNames(store.root, owner)) {
      signal?.throwIfAborted();
      const versions = await store.listVersions(owner, name);
      if (versions.length <= options.keep) continue;
      const aliased = new Set((await store.listAliases(owner, name)).map((a) => a.version));
      // listVersions is oldest first: everything before the last `keep` is a candidate.
      for (const meta of versions.slice(0, versions.length - options.keep)) {
        if (aliased.has(meta.version)) {
          result.keptAliased++;
          continue;
        }
        signal?.throwIfAborted();
        try {
          await store.deleteVersion(owner, name, meta.version);
          result.deleted.push(`${owner}/${name}/${meta.version}`);
          options.onDelete?.(owner, name, meta.version);
        } catch (error) {
          if (!(error instanceof StoreError)) throw error;
          // Lost the right to write: the rest of this owner's work is not ours any more.
          if (error.code === 'WARDEN_ERR_STORE_NOT_WRITER' || error.code === 'WARDEN_ERR_STORE_CLOSED') throw signal?.aborted ? signal.reason : error;
          // An alias set since we listed: the store refused, as it must.
          if (error.code === 'WARDEN_ERR_STORE_VERSION_ALIASED') result.keptAliased++;
          else if (error.code !== 'WARDEN_ERR_STORE_NOT_FOUND') {
            result.failed++;
            options.onError?.(error, owner, name, meta.version);
          }
        }
      }
    }
  }
  return result;
}
