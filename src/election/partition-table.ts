import type { Backend, KeyValue, Watch, WatchEvent } from './backend.js';

/** A member of a partition set, as registered in the store. */
export interface PartitionMemberInfo {
  /** Member id (unique in the set), e.g. the node id. */
  readonly id: string;
  /** URL other nodes and clients use to reach it (e.g. its advertised HTTP URL). */
  readonly url: string;
  /** Free-form labels (datacenter, zone, version…). */
  readonly [label: string]: string;
}

/** The leader of one partition, as the routing table sees it. */
export interface PartitionLeaderInfo {
  /** Member id of the leader. */
  readonly id: string;
  /** Its URL ('' when its member key is not (yet) visible). */
  readonly url: string;
  /** Decimal create revision of its leader key: rises strictly from one term to the next. */
  readonly fencingToken: string;
}

/** One row of the routing table. */
export interface PartitionRow {
  readonly partition: number;
  /** Member id of the leader, or null while the partition has no leader. */
  readonly leader: string | null;
  /** URL of the leader, or null. */
  readonly url: string | null;
  /** Fencing token of the current term, or null. */
  readonly fencingToken: string | null;
}

/** A consistent snapshot of a partition set: members and the leader of every partition. */
export interface PartitionTable {
  /** Store revision the snapshot reflects. */
  readonly revision: bigint;
  /** Live members, sorted by id. */
  readonly members: readonly PartitionMemberInfo[];
  /** One row per partition, in partition order. */
  readonly partitions: readonly PartitionRow[];
}

interface Candidate {
  id: string;
  key: string;
  lease: string;
  createRevision: bigint;
}

/** Returns the key prefix of member keys under a partition-set prefix. */
export function membersPrefix(prefix: string): string {
  return `${prefix}members/`;
}

/** Returns the key prefix of the per-partition elections under a partition-set prefix. */
export function electionsPrefix(prefix: string): string {
  return `${prefix}election/`;
}

/**
 * Keeps a live copy of a partition set's members and candidates from one prefix read plus
 * one prefix watch (O(1) watches whatever P), and derives the routing table from it.
 *
 * Candidate keys are the per-partition election keys `<prefix>election/<p>/<lease hex>`
 * whose value is the member id; the leader of a partition is its candidate with the lowest
 * create revision, and that revision is the fencing token. When the watch breaks (store
 * unreachable, compaction) the copy is re-read and the watch restarted.
 */
export class PartitionTableWatcher {
  readonly #backend: Backend;
  readonly #prefix: string;
  readonly #partitions: number;
  readonly #members = new Map<string, PartitionMemberInfo>();
  /** Per partition: candidate key → candidate. */
  readonly #candidates: Array<Map<string, Candidate>>;
  readonly #listeners = new Set<() => void>();
  readonly #closed = new AbortController();
  #revision = 0n;
  #watch: Watch | undefined;
  #snapshot: PartitionTable | undefined;
  #retryMs = 100;
  #onError: (error: unknown) => void;

  /** Creates a watcher; call `start()` to load and follow the table. */
  constructor(backend: Backend, prefix: string, partitions: number, onError: (error: unknown) => void = () => undefined) {
    this.#backend = backend;
    this.#prefix = prefix;
    this.#partitions = partitions;
    this.#candidates = Array.from({ length: partitions }, () => new Map());
    this.#onError = onError;
  }

  /** Reads the current state and starts the watch; resolves once the first snapshot is loaded. */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#load(options.signal);
  }

  /** Stops watching; idempotent. */
  close(): void {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#watch?.close();
    this.#watch = undefined;
    this.#listeners.clear();
  }

  /** Registers a listener called (synchronously) after every change; returns its remover. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Returns the live member ids. */
  memberIds(): string[] {
    return [...this.#members.keys()];
  }

  /** Returns the member info of `id`, if registered. */
  member(id: string): PartitionMemberInfo | undefined {
    return this.#members.get(id);
  }

  /** Returns the member ids of a partition's candidates in queue order (leader first). */
  candidates(partition: number): string[] {
    const map = this.#candidates[partition];
    if (!map) return [];
    return [...map.values()].sort((a, b) => (a.createRevision < b.createRevision ? -1 : 1)).map((c) => c.id);
  }

  /** Returns the candidate key of `partition` attached to `lease`, if any. */
  candidateOf(partition: number, lease: string): { key: string; createRevision: bigint } | undefined {
    const map = this.#candidates[partition];
    if (!map) return undefined;
    for (const c of map.values()) if (c.lease === lease) return { key: c.key, createRevision: c.createRevision };
    return undefined;
  }

  /** Returns the leader of a partition, or null. */
  leaderOf(partition: number): PartitionLeaderInfo | null {
    const map = this.#candidates[partition];
    if (!map) return null;
    let best: Candidate | undefined;
    for (const c of map.values()) if (!best || c.createRevision < best.createRevision) best = c;
    if (!best) return null;
    return { id: best.id, url: this.#members.get(best.id)?.url ?? '', fencingToken: best.createRevision.toString() };
  }

  /** Returns the current leader id of every partition (null = none). */
  leaders(): Array<string | null> {
    return Array.from({ length: this.#partitions }, (_, p) => this.leaderOf(p)?.id ?? null);
  }

  /** Returns a snapshot of the table (cached until the next change). */
  table(): PartitionTable {
    if (this.#snapshot) return this.#snapshot;
    const members = [...this.#members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const partitions = Array.from({ length: this.#partitions }, (_, p): PartitionRow => {
      const leader = this.leaderOf(p);
      return { partition: p, leader: leader?.id ?? null, url: leader ? leader.url : null, fencingToken: leader?.fencingToken ?? null };
    });
    this.#snapshot = Object.freeze({ revision: this.#revision, members: Object.freeze(members), partitions: Object.freeze(partitions) });
    return this.#snapshot;
  }

  async #load(signal?: AbortSignal): Promise<void> {
    const result = await this.#backend.get(this.#prefix, { prefix: true, ...(signal ? { signal } : {}) });
    if (this.#closed.signal.aborted) return;
    this.#members.clear();
    for (const map of this.#candidates) map.clear();
    for (const kv of result.kvs) this.#apply('put', kv);
    this.#revision = result.revision;
    this.#retryMs = 100;
    this.#changed();
    this.#watch = this.#backend.watch(this.#prefix, {
      prefix: true,
      fromRevision: result.revision + 1n,
      onEvents: (events) => this.#onEvents(events),
      onError: (error) => this.#onWatchError(error),
    });
  }

  #onEvents(events: WatchEvent[]): void {
    if (this.#closed.signal.aborted) return;
    for (const event of events) {
      this.#apply(event.type, event.kv);
      if (event.kv.modRevision > this.#revision) this.#revision = event.kv.modRevision;
    }
    this.#changed();
  }

  #onWatchError(error: Error): void {
    this.#watch = undefined;
    if (this.#closed.signal.aborted) return;
    this.#onError(error);
    const retry = (): void => {
      if (this.#closed.signal.aborted) return;
      this.#load(this.#closed.signal).catch((e: unknown) => {
        if (this.#closed.signal.aborted) return;
        this.#onError(e);
        this.#retryMs = Math.min(this.#retryMs * 2, 2_000);
        setTimeout(retry, this.#retryMs).unref();
      });
    };
    setTimeout(retry, this.#retryMs).unref();
  }

  #apply(type: 'put' | 'delete', kv: KeyValue): void {
    const membersAt = membersPrefix(this.#prefix);
    const electionsAt = electionsPrefix(this.#prefix);
    if (kv.key.startsWith(membersAt)) {
      const id = kv.key.slice(membersAt.length);
      if (type === 'delete') this.#members.delete(id);
      else this.#members.set(id, parseMember(id, kv.value));
      return;
    }
    if (!kv.key.startsWith(electionsAt)) return;
    const rest = kv.key.slice(electionsAt.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return;
    const partition = Number(rest.slice(0, slash));
    const map = Number.isInteger(partition) ? this.#candidates[partition] : undefined;
    if (!map) return;
    if (type === 'delete') map.delete(kv.key);
    else map.set(kv.key, { id: kv.value, key: kv.key, lease: kv.lease, createRevision: kv.createRevision });
  }

  #changed(): void {
    this.#snapshot = undefined;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}

function parseMember(id: string, value: string): PartitionMemberInfo {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed !== null && typeof parsed === 'object') {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') labels[k] = v;
      return { ...labels, id, url: labels['url'] ?? '' };
    }
  } catch {
    // a foreign or corrupt value: keep the member, without a URL
  }
  return { id, url: '' };
}
