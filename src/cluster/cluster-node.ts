/**
 * One node of a Warden cluster: an etcd backend, one session, one PartitionSet (member
 * `{id, url, zone?}`), the write authority, the write router, the cache-invalidation feed and
 * the per-partition leader work. When the session ends (etcd unreachable past the deadline,
 * lease lost), the node keeps serving reads, answers writes with retryable 503s, reports
 * not-ready, and rejoins by itself with a new session and a new set once etcd answers again.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createEtcdBackend, PartitionSet, Session, type Backend, type PartitionTable } from 'warden/election';
import type { ClusterView, Readiness, WriteRoute } from 'warden/server';
import { isValidName, type Store, type WriteAuthority } from 'warden/store';
import { ClusterError } from './errors.js';
import { GenerationFeed, type GenerationChange } from './generation-feed.js';
import { partitionAuthority, type LiveMembership } from './partition-authority.js';

/** What leader-only work of one partition gets (see {@link ClusterNodeOptions.partitionJobs}). */
export interface PartitionJobContext {
  /** The node's store; writes through it are fenced by this partition's leadership. */
  readonly store: Store;
  /** This node's id. */
  readonly nodeId: string;
  /** Fencing token of this leadership term (strictly higher than any earlier term's). */
  readonly fencingToken: string;
  /** Partition count P. */
  readonly partitions: number;
  /** Lists the owners under DATA whose partition is this one (read afresh at each call). */
  owners(): Promise<string[]>;
  /** Child logger bound to `{partition}`. */
  readonly log: Logger;
}

/**
 * Leader-only background work for one partition: started each time this node becomes the
 * partition's leader; `signal` aborts the moment it must stop (handover, lost session,
 * shutdown) — strictly before another node can lead the partition. Return (or reject) once
 * stopped; a handover waits for the returned promise (bounded by the drain timeout).
 */
export type PartitionJobs = (partition: number, signal: AbortSignal, ctx: PartitionJobContext) => Promise<void>;

/** Options of {@link ClusterNode.start}. */
export interface ClusterNodeOptions {
  /** etcd client URLs. Required, at least one. */
  endpoints: string[];
  /** This node's id (`--node-id`), also its member id. */
  nodeId: string;
  /** URL other nodes reach this node at (`--advertise`). */
  url: string;
  /** Zone label shown in `/v1/cluster`; default none. */
  zone?: string | undefined;
  /** Partition count P, the same on every node. Default 64. */
  partitions?: number;
  /** Session TTL in ms. Default 10_000. */
  ttlMs?: number;
  /** The node's store (opened with this authority; see {@link ClusterNode.authority}). */
  store: Store;
  log: Logger;
  /** Key prefix of everything Warden keeps in etcd, '/…/'. Default '/warden/'. */
  prefix?: string;
  /** Called for each change another node (or this one) announced: drop cached copies. */
  onChange?(change: GenerationChange): void;
  /** Called when announced changes may have been missed: drop every cached copy. */
  onReset?(): void;
  /** Leader-only work per partition (the hook the cluster jobs plug into). */
  partitionJobs?: PartitionJobs;
  /** Backend factory (tests); default etcd over `endpoints`. */
  backend?: Backend;
  /** Deadline of the fencing transaction before a commit, ms. Default 700. */
  fenceTimeoutMs?: number;
}

/** Longest wait for a lost incarnation's partition set to close before rejoining anyway, ms. */
const LOST_CLOSE_BOUND_MS = 10_000;

interface Incarnation extends LiveMembership {
  readonly feed: GenerationFeed;
  readonly waiters: Map<number, Set<() => void>>;
}

/** A running cluster node. Create with {@link ClusterNode.create}, then `start()`. */
export class ClusterNode implements AsyncDisposable {
  readonly nodeId: string;
  readonly partitions: number;
  readonly endpoints: readonly string[];
  /** The authority to open the store with: grants guards only for partitions this node leads. */
  readonly authority: WriteAuthority;
  readonly #options: ClusterNodeOptions;
  readonly #backend: Backend;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #stopped = new AbortController();
  #store: Store | undefined;
  #live: Incarnation | undefined;
  #lastTable: PartitionTable | undefined;
  #loop: Promise<void> | undefined;
  #firstJoin: { resolve(): void; promise: Promise<void> };
  #closing: Promise<void> | undefined;
  #leaving: Promise<void> | undefined;
  #lastReason = 'joining the cluster';
  /** What the membership loop is doing now, and since when (performance.now()): shown by readiness while not ready. */
  #phase = { what: 'starting', since: performance.now() };

  private constructor(options: ClusterNodeOptions) {
    if (options.endpoints.length === 0 && !options.backend) throw new ClusterError('WARDEN_ERR_CLUSTER_INVALID_OPTIONS', 'at least one etcd endpoint is required');
    if (!/^https?:\/\//.test(options.url)) throw new ClusterError('WARDEN_ERR_CLUSTER_INVALID_OPTIONS', `advertise URL must be http(s)://…, got ${JSON.stringify(options.url)}`);
    this.#options = options;
    this.nodeId = options.nodeId;
    this.partitions = options.partitions ?? 64;
    this.endpoints = [...options.endpoints];
    this.#prefix = options.prefix ?? '/warden/';
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#backend = options.backend ?? createEtcdBackend({ endpoints: options.endpoints, rpcTimeoutMs: Math.min(5_000, this.#ttlMs), dialTimeoutMs: 1_000 });
    this.#store = options.store;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstJoin = { resolve, promise };
    this.authority = partitionAuthority({
      current: () => this.#live,
      genPrefix: `${this.#prefix}gen/`,
      nodeId: this.nodeId,
      fenceTimeoutMs: options.fenceTimeoutMs ?? 700,
      onError: (e) => options.log.warn({ err: e }, 'post-commit announcement failed'),
    });
  }

  /** Validates options and creates the node (not yet joined). */
  static create(options: Omit<ClusterNodeOptions, 'store'> & { store?: Store }): ClusterNode {
    return new ClusterNode(options as ClusterNodeOptions);
  }

  /** Sets the store (opened with {@link authority}) before `start()`. */
  attachStore(store: Store): void {
    this.#store = store;
  }

  /**
   * Starts the membership loop and resolves once the node joined for the first time, or
   * when `signal` aborts (the loop keeps trying in the background either way).
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#leaving) throw new ClusterError('WARDEN_ERR_CLUSTER_CLOSED', 'cluster node was closed');
    if (!this.#store) throw new ClusterError('WARDEN_ERR_CLUSTER_INVALID_OPTIONS', 'attach the store before start()');
    this.#loop ??= this.#run();
    const aborted = new Promise<void>((resolve) => {
      if (options.signal?.aborted) resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([this.#firstJoin.promise, aborted]);
  }

  async #run(): Promise<void> {
    const log = this.#options.log;
    let backoff = 250;
    while (!this.#stopped.signal.aborted) {
      let session: Session | undefined;
      let live: Incarnation | undefined;
      try {
        this.#enter('granting a lease');
        session = await Session.create(this.#backend, { ttlMs: this.#ttlMs, signal: this.#stopped.signal });
        live = this.#incarnation(session);
        this.#enter('registering as a member');
        await live.set.start({ signal: this.#stopped.signal });
        this.#enter('joined');
        this.#live = live;
        backoff = 250;
        log.info({ lease: session.leaseId, partitions: this.partitions }, 'cluster: joined');
        this.#firstJoin.resolve();
        await new Promise<void>((resolve) => {
          if (live!.set.signal.aborted || this.#stopped.signal.aborted) return resolve();
          live!.set.signal.addEventListener('abort', () => resolve(), { once: true });
          this.#stopped.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        if (this.#stopped.signal.aborted) return; // close() tears this incarnation down in order
        const reason = (live.set.signal.reason as Error | undefined)?.message ?? 'session ended';
        this.#lastReason = `cluster session lost: ${reason}`;
        log.warn({ reason }, 'cluster: session lost; writes answer 503 until rejoined');
      } catch (error) {
        if (this.#stopped.signal.aborted) return;
        this.#lastReason = `cannot join the cluster: ${(error as Error).message}`;
        log.warn({ err: error }, 'cluster: join failed; retrying');
      }
      if (this.#live === live) this.#live = undefined;
      this.#enter('closing the lost incarnation');
      await this.#teardown(live, session, false);
      this.#enter(`waiting ${backoff} ms before rejoining`);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2_000);
    }
  }

  #enter(what: string): void {
    this.#phase = { what, since: performance.now() };
  }

  #incarnation(session: Session): Incarnation {
    const waiters = new Map<number, Set<() => void>>();
    const inflight = new Int32Array(this.partitions);
    const log = this.#options.log;
    const set = new PartitionSet({
      session,
      partitions: this.partitions,
      member: { id: this.nodeId, url: this.#options.url, ...(this.#options.zone ? { zone: this.#options.zone } : {}) },
      prefix: `${this.#prefix}partitions/`,
      settleMs: 300,
      drainTimeoutMs: 5_000,
      onPartitionLeader: (p, signal, leadership) => {
        log.info({ partition: p, fencingToken: leadership.fencingToken }, 'partition: leading');
        return this.#leaderWork(p, signal, leadership.fencingToken);
      },
      onPartitionReleased: (p) => log.info({ partition: p }, 'partition: released'),
      // A handover waits for this partition's in-flight writes: their guards stay valid until the resign.
      drain: (p, signal) =>
        new Promise<void>((resolve) => {
          if ((inflight[p] ?? 0) <= 0 || signal.aborted) return resolve();
          let set = waiters.get(p);
          if (!set) waiters.set(p, (set = new Set()));
          const done = (): void => {
            set.delete(done);
            resolve();
          };
          set.add(done);
          signal.addEventListener('abort', done, { once: true });
        }),
      onError: (e) => log.warn({ err: e }, 'partition set'),
    });
    const feed = new GenerationFeed({
      backend: this.#backend,
      prefix: `${this.#prefix}gen/`,
      onChange: (c) => this.#options.onChange?.(c),
      onReset: () => this.#options.onReset?.(),
      onError: (e) => log.debug({ err: e }, 'generation watch broke; re-watching'),
    });
    const unwatchTable = (): void => {
      this.#lastTable = set.table();
    };
    set.signal.addEventListener('abort', unwatchTable, { once: true });
    return {
      session,
      set,
      inflight,
      feed,
      waiters,
      idle: (p) => {
        for (const w of [...(waiters.get(p) ?? [])]) w();
      },
    };
  }

  async #leaderWork(p: number, signal: AbortSignal, fencingToken: string): Promise<void> {
    const store = this.#store as Store;
    const log = this.#options.log.child({ partition: p });
    const work: Array<Promise<void>> = [];
    if (p === 0) work.push(this.#sweepDeparted(signal, log));
    work.push(this.#sweepOrphans(p, signal, log));
    const jobs = this.#options.partitionJobs;
    if (jobs) {
      const ctx: PartitionJobContext = {
        store,
        nodeId: this.nodeId,
        fencingToken,
        partitions: this.partitions,
        log,
        owners: async () => (await readdir(store.root).catch(() => [] as string[])).filter((o) => isValidName(o, 'owner') && this.#live?.set.partitionOf(o) === p),
      };
      work.push(jobs(p, signal, ctx).catch((e: unknown) => void (signal.aborted ? undefined : log.warn({ err: e }, 'partition job failed'))));
    }
    await Promise.all(work);
  }

  /**
   * Once per term, after 2 TTLs: removes content without metadata of the partition's owners
   * (a commit cut between its two renames by a crash). Only this leader commits for these
   * owners now, and its own commits finish their renames within milliseconds.
   */
  async #sweepOrphans(p: number, signal: AbortSignal, log: Logger): Promise<void> {
    const store = this.#store as Store;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2 * this.#ttlMs);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    try {
      const owners = (await readdir(store.root).catch(() => [] as string[])).filter((o) => isValidName(o, 'owner') && this.#live?.set.partitionOf(o) === p);
      let removed = 0;
      for (const owner of owners) {
        if (signal.aborted) return;
        removed += await store.sweepOrphans(owner, { olderThanMs: Math.max(60_000, 2 * this.#ttlMs), signal });
      }
      if (removed > 0) log.info({ removed }, 'swept uncommitted content');
    } catch (error) {
      if (!signal.aborted) log.warn({ err: error }, 'orphan sweep');
    }
  }

  /** Leader of partition 0: removes temp folders of nodes that are no longer members. */
  async #sweepDeparted(signal: AbortSignal, log: Logger): Promise<void> {
    const store = this.#store as Store;
    const tmpRoot = join(store.root, '.warden', 'tmp');
    const seenGone = new Set<string>();
    while (!signal.aborted) {
      try {
        const members = new Set((this.#live?.set.table().members ?? []).map((m) => m.id));
        for (const id of await readdir(tmpRoot)) {
          if (id === this.nodeId || members.has(id)) {
            seenGone.delete(id);
            continue;
          }
          // Gone for two rounds in a row (one TTL apart) and untouched for 5 TTLs (at least 30 s):
          // a dead node's leftovers. A node that merely paused finds its folder gone and its
          // writes fenced anyway; it recreates the folder on its next upload.
          const info = await stat(join(tmpRoot, id)).catch(() => undefined);
          if (seenGone.has(id) && info && Date.now() - info.mtimeMs > Math.max(30_000, 5 * this.#ttlMs) && !signal.aborted) {
            await rm(join(tmpRoot, id), { recursive: true, force: true });
            log.info({ departed: id }, 'swept temp folder of a departed node');
            seenGone.delete(id);
          } else seenGone.add(id);
        }
      } catch (error) {
        log.debug({ err: error }, 'temp sweep');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#ttlMs);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  }

  async #revokeLater(leaseId: string): Promise<void> {
    for (let attempt = 0; attempt < 10 && !this.#stopped.signal.aborted; attempt++) {
      try {
        await this.#backend.revokeLease(leaseId, { timeoutMs: 1_000 });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(this.#ttlMs, 500 * 2 ** attempt)));
      }
    }
  }

  /** Decides where a write for `owner` goes now (see `WriteRouter` in warden/server). */
  route(owner: string): WriteRoute {
    const live = this.#live;
    if (!live || live.set.signal.aborted || !live.session.isLive()) return { kind: 'unavailable', reason: this.#lastReason };
    const p = live.set.partitionOf(owner);
    if (live.set.leadership(p)) return { kind: 'local' };
    const leader = live.set.leaderOf(p);
    if (!leader) return { kind: 'unavailable', reason: `partition ${p} has no leader (election under way)` };
    if (leader.id === this.nodeId) return { kind: 'unavailable', reason: `partition ${p} is being handed over` };
    if (!leader.url) return { kind: 'unavailable', reason: `leader ${leader.id} of partition ${p} has no URL yet` };
    return { kind: 'forward', leader: leader.id, url: leader.url };
  }

  /** Ready while the node has a live session and membership. */
  readiness(): Readiness {
    const live = this.#live;
    if (this.#leaving) return { ready: false, reason: 'shutting down' };
    if (live && !live.set.signal.aborted && live.session.isLive()) return { ready: true };
    if (live) {
      // Ended a moment ago; the membership loop has not noticed yet.
      const ended = (live.set.signal.reason ?? live.session.signal.reason) as Error | undefined;
      return { ready: false, reason: `cluster session lost: ${ended?.message ?? 'session ended'}` };
    }
    // Name the step the rejoin is in and for how long: a rejoin that stalls says where.
    const seconds = ((performance.now() - this.#phase.since) / 1000).toFixed(1);
    return { ready: false, reason: `${this.#lastReason} (${this.#phase.what} for ${seconds} s)` };
  }

  /** Returns the `/v1/cluster` table: members with the count of partitions they lead, every partition's leader and token, etcd health. */
  view(): ClusterView {
    const live = this.#live;
    const table = live && !live.set.signal.aborted ? live.set.table() : this.#lastTable;
    const healthy = live !== undefined && !live.set.signal.aborted && live.session.isLive();
    const counts = new Map<string, number>();
    for (const row of table?.partitions ?? []) if (row.leader) counts.set(row.leader, (counts.get(row.leader) ?? 0) + 1);
    return {
      node: this.nodeId,
      members: (table?.members ?? []).map((m) => ({ ...m, partitions: counts.get(m.id) ?? 0 })),
      partitions: table
        ? table.partitions.map((r) => ({ partition: r.partition, leader: r.leader, fencingToken: r.fencingToken }))
        : Array.from({ length: this.partitions }, (_, partition) => ({ partition, leader: null, fencingToken: null })),
      etcd: { endpoints: this.endpoints, healthy },
    };
  }

  /** The partitions this node leads now. */
  leading(): number[] {
    return this.#live?.set.leading() ?? [];
  }

  async #teardown(live: Incarnation | undefined, session: Session | undefined, graceful: boolean): Promise<void> {
    live?.feed.close();
    if (live) {
      const closed = live.set.close().catch((e: unknown) => this.#options.log.warn({ err: e }, 'partition set close'));
      // A lost incarnation's close is bounded (drain timeout + one resign per partition); if it
      // still hangs, rejoining must not wait for it: nothing of it can commit any more (its
      // session ended, so every guard it held is fenced), and a node stuck here would stay
      // out of the cluster for good. Say so loudly instead.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), LOST_CLOSE_BOUND_MS)));
      const outcome = graceful ? await closed : await Promise.race([closed, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        this.#options.log.error({ boundMs: LOST_CLOSE_BOUND_MS, leading: live.set.leading() }, 'cluster: the lost incarnation did not close in time; rejoining without it');
        void closed.then(() => this.#options.log.warn('cluster: the lost incarnation closed late'));
      }
    }
    if (session) {
      if (graceful) await session.close().catch(() => undefined);
      else {
        session.orphan();
        // The lease may outlive our local deadline (etcd renews every lease when it elects a
        // new raft leader): its keys would hold the partitions for up to a TTL after etcd is
        // back. Nothing acts under it any more, so revoke it, best effort, in the background.
        void this.#revokeLater(session.leaseId);
      }
    }
  }

  /**
   * Hands every partition over (after each partition's in-flight writes finished, bounded by
   * the drain timeout) and deregisters; the session stays open so requests already forwarded
   * or running can finish. Step 2 of the shutdown order (docs/shutdown.md). Idempotent.
   */
  leave(): Promise<void> {
    this.#leaving ??= (async () => {
      this.#stopped.abort(new ClusterError('WARDEN_ERR_CLUSTER_CLOSED', 'cluster node closed'));
      const live = this.#live;
      live?.feed.close();
      if (live) await live.set.close().catch((e: unknown) => this.#options.log.warn({ err: e }, 'partition set close'));
      this.#options.log.info('cluster: partitions handed over');
    })();
    return this.#leaving;
  }

  /** Leaves (if not yet), then closes the session and the etcd client. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.leave();
      const live = this.#live;
      this.#live = undefined;
      await live?.session.close().catch(() => undefined);
      await this.#loop?.catch(() => undefined);
      await this.#backend.close().catch(() => undefined);
      this.#options.log.info('cluster: session closed');
    })();
    return this.#closing;
  }

  /** Same as close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
