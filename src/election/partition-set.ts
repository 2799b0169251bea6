import { setMaxListeners } from 'node:events';
import { delay, linkSignals } from './abort.js';
import type { Backend } from './backend.js';
import { Election, type Leadership } from './election.js';
import { checkName, checkPrefix } from './names.js';
import { assignPartitions } from './partition-assignment.js';
import { PartitionError } from './partition-errors.js';
import { assertPartitionCount, partitionOf } from './partition-of.js';
import {
  PartitionTableWatcher,
  electionsPrefix,
  membersPrefix,
  type PartitionLeaderInfo,
  type PartitionMemberInfo,
  type PartitionTable,
} from './partition-table.js';
import { emit } from './metrics.js';
import type { Session } from './session.js';

/** Options of a {@link PartitionSet}. */
export interface PartitionSetOptions {
  /** The session whose lease carries this node's member key and every partition key. */
  session: Session;
  /** The store; default (and it must be) `session.backend`. */
  backend?: Backend;
  /** Number of partitions P (1…65536). Every member must use the same P. */
  partitions: number;
  /**
   * This node: `id` (unique in the set, `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`), `url` (how others
   * reach it) and any string labels. Registered as JSON under `<prefix>members/<id>`.
   */
  member: PartitionMemberInfo;
  /** Key prefix of the set, '/…/'. Default '/warden/partitions/'. */
  prefix?: string;
  /**
   * Longest time in ms a handover waits for the partition's work to stop (the
   * `onPartitionLeader` promise and the `drain` hook) before resigning anyway. Default 5_000.
   */
  drainTimeoutMs?: number;
  /**
   * Longest time in ms `close()` waits for the new target of each partition to queue up
   * before resigning it (so the successor takes over within one round trip). Default 2_000.
   */
  handoverTimeoutMs?: number;
  /**
   * After joining, wait until the member list has not changed for this long (ms) before the
   * first campaign, at most 5× as long: members that start together then compute the same
   * targets from the start instead of grabbing partitions and handing them over (like
   * Kafka's initial rebalance delay). Failover and handover are not delayed. Default 500.
   */
  settleMs?: number;
  /**
   * Most campaigns this node has in flight before their key is visible in the table: smooths
   * the burst of a cold start or a big rebalance so keepalives keep flowing. Default 16.
   */
  maxPendingCampaigns?: number;
  /** Pause in ms before campaigning again after a failed campaign. Default 500. */
  retryDelayMs?: number;
  /**
   * Called when this node becomes leader of `partition`. `signal` aborts the moment it must
   * stop acting (handover, close, lost lease, deleted key) — strictly before another node can
   * lead it. A returned promise is awaited (up to `drainTimeoutMs`) before a handover resigns.
   */
  onPartitionLeader?(partition: number, signal: AbortSignal, leadership: Leadership): Promise<void> | void;
  /** Called once this node no longer leads `partition` (after resign or loss). */
  onPartitionReleased?(partition: number): void;
  /**
   * Delays a handover's resign until in-flight work of `partition` is done; `signal` aborts
   * after `drainTimeoutMs` or when the leadership ends anyway. Runs after the partition's
   * leader signal aborted, so no new work starts meanwhile.
   */
  drain?(partition: number, signal: AbortSignal): Promise<void> | void;
  /** Receives background errors (campaigns, hooks, watch); default: process warning. */
  onError?(error: unknown): void;
}

type SlotState = 'idle' | 'campaigning' | 'leading' | 'releasing';

interface Slot {
  state: SlotState;
  campaign?: AbortController;
  leadership?: Leadership;
  acting?: AbortController;
  work?: Promise<void>;
  retryAt: number;
}

const DEFAULT_PREFIX = '/warden/partitions/';
const RECONCILE_SPACING_MS = 5;
/**
 * Upper bound of the spacing between reconciles. A run's measured duration includes any time
 * the process was stopped or starved in the middle of it (SIGSTOP, VM pause): 3× a 30 s pause
 * would silence the set, and a close() waiting for its partitions, for 90 s.
 */
const MAX_RECONCILE_SPACING_MS = 1_000;

/**
 * Spreads P partitions over the live members, one leader per partition, balanced (every
 * member leads ⌊P/N⌋ or ⌈P/N⌉) and stable (a join or leave moves only the partitions that
 * must move). Each partition is an {@link Election} on the node's one shared session, so
 * per partition the guarantees are those of a single election: a leader signal that aborts
 * before the lease can expire, a fencing token, `guard()`.
 *
 * Every node watches one prefix (members + partition keys), computes the targets with
 * {@link assignPartitions}, campaigns for the partitions it should own, and hands over the
 * ones it should not own once their target is queued: abort the partition's signal, drain
 * (bounded), resign. See docs/partitions.md.
 */
export class PartitionSet implements AsyncDisposable {
  /** This node's member info. */
  readonly member: PartitionMemberInfo;
  /** Partition count P. */
  readonly partitions: number;
  /** Key prefix of the set. */
  readonly prefix: string;
  readonly #session: Session;
  readonly #backend: Backend;
  readonly #options: PartitionSetOptions;
  readonly #drainTimeoutMs: number;
  readonly #handoverTimeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #settleMs: number;
  readonly #maxPending: number;
  #settled = false;
  readonly #watcher: PartitionTableWatcher;
  readonly #slots: Slot[];
  readonly #elections: Array<Election | undefined>;
  readonly #ended = new AbortController();
  readonly #idleWaiters = new Set<() => void>();
  #started = false;
  readonly #sweeping = new Set<string>();
  #registered = false;
  #closing: Promise<void> | undefined;
  #scheduled = false;
  #lastReconcile = -Infinity;
  #reconcileMs = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;
  #owned = 0;

  /** Validates the options; call `start()` to join. Throws WARDEN_ERR_PARTITION_INVALID_OPTIONS. */
  constructor(options: PartitionSetOptions) {
    const invalid = (message: string, cause?: unknown): PartitionError =>
      new PartitionError('WARDEN_ERR_PARTITION_INVALID_OPTIONS', message, cause === undefined ? {} : { cause });
    try {
      assertPartitionCount(options.partitions);
    } catch (error) {
      throw invalid(`invalid partition count ${String(options.partitions)}`, error);
    }
    if (options.partitions > 65_536) throw invalid(`partitions must be at most 65536, got ${options.partitions}`);
    const member = options.member as Partial<PartitionMemberInfo> | undefined;
    try {
      checkName(member?.id, 'WARDEN_ERR_ELECTION_INVALID_NAME');
    } catch (error) {
      throw invalid(`invalid member id ${JSON.stringify(member?.id)}`, error);
    }
    if (typeof member?.url !== 'string') throw invalid('member.url must be a string');
    for (const [k, v] of Object.entries(options.member)) if (typeof v !== 'string') throw invalid(`member label ${k} must be a string`);
    try {
      this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX, 'WARDEN_ERR_ELECTION_INVALID_NAME');
    } catch (error) {
      throw invalid(`invalid prefix ${JSON.stringify(options.prefix)}`, error);
    }
    if (options.backend !== undefined && options.backend !== options.session.backend) {
      throw invalid('backend must be the backend of the session');
    }
    const ms = (name: string, value: number | undefined, fallback: number): number => {
      const v = value ?? fallback;
      if (!Number.isSafeInteger(v) || v < 0) throw invalid(`${name} must be an integer ≥ 0, got ${String(v)}`);
      return v;
    };
    this.#drainTimeoutMs = ms('drainTimeoutMs', options.drainTimeoutMs, 5_000);
    this.#handoverTimeoutMs = ms('handoverTimeoutMs', options.handoverTimeoutMs, 2_000);
    this.#retryDelayMs = ms('retryDelayMs', options.retryDelayMs, 500);
    this.#settleMs = ms('settleMs', options.settleMs, 500);
    this.#maxPending = Math.max(1, ms('maxPendingCampaigns', options.maxPendingCampaigns, 16));
    this.member = Object.freeze({ ...options.member });
    this.partitions = options.partitions;
    this.#session = options.session;
    this.#backend = options.session.backend;
    this.#options = options;
    this.#slots = Array.from({ length: options.partitions }, () => ({ state: 'idle' as SlotState, retryAt: 0 }));
    this.#elections = new Array<Election | undefined>(options.partitions);
    // One election per partition listens to the session's and the set's signals: P listeners
    // are expected, not a leak.
    setMaxListeners(0, this.#ended.signal);
    setMaxListeners(0, options.session.signal);
    this.#watcher = new PartitionTableWatcher(this.#backend, this.prefix, options.partitions, (e) => this.#report(e));
  }

  /** Aborts when the set stops working: closed, or its session ended (create a new set then). */
  get signal(): AbortSignal {
    return this.#ended.signal;
  }

  /**
   * Loads the table, registers this member under the session's lease and starts taking part.
   * Waits while a previous incarnation's member key with the same id is still alive.
   * Rejects with `signal.reason`, WARDEN_ERR_PARTITION_STARTED or WARDEN_ERR_PARTITION_CLOSED.
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#throwIfEnded();
    if (this.#started) throw new PartitionError('WARDEN_ERR_PARTITION_STARTED', 'start() was already called');
    this.#started = true;
    const link = linkSignals(options.signal, this.#ended.signal, this.#session.signal);
    try {
      await this.#watcher.start({ signal: link.signal });
      this.#unwatch = this.#watcher.onChange(() => this.#schedule());
      await this.#register(link.signal);
      this.#registered = true;
      this.#settle();
    } catch (error) {
      link.dispose();
      if (!this.#ended.signal.aborted) await this.close().catch(() => undefined);
      throw options.signal?.aborted === true ? options.signal.reason : error;
    }
    link.dispose();
    const onSessionEnd = (): void => this.#end(this.#session.signal.reason);
    if (this.#session.signal.aborted) onSessionEnd();
    else this.#session.signal.addEventListener('abort', onSessionEnd, { once: true });
    this.#ended.signal.addEventListener('abort', () => this.#session.signal.removeEventListener('abort', onSessionEnd), { once: true });
    this.#schedule();
  }

  /** Returns the partition of `key` (see {@link partitionOf}). */
  partitionOf(key: string): number {
    return partitionOf(key, this.partitions);
  }

  /** Returns the leader of a partition from the watched table (id, url, fencing token), or null. */
  leaderOf(partition: number): PartitionLeaderInfo | null {
    return this.#watcher.leaderOf(partition);
  }

  /** Returns a snapshot of the members and the leader of every partition. */
  table(): PartitionTable {
    return this.#watcher.table();
  }

  /** Returns the partitions this node leads and acts for now, ascending. */
  leading(): number[] {
    const out: number[] = [];
    this.#slots.forEach((slot, p) => {
      if (slot.state === 'leading') out.push(p);
    });
    return out;
  }

  /** Returns the leadership of a partition this node leads now, or undefined. */
  leadership(partition: number): Leadership | undefined {
    const slot = this.#slots[partition];
    return slot?.state === 'leading' ? slot.leadership : undefined;
  }

  /** Returns the target owner of every partition as this node computes it now. */
  targets(): Array<string | null> {
    return assignPartitions(this.#watcher.memberIds(), this.partitions, this.#ownersForAssignment());
  }

  /**
   * Yields the table now and after every change (coalesced: a slow consumer gets the latest).
   * Ends when the set ends; rejects with `signal.reason` when `signal` aborts.
   */
  async *changes(options: { signal?: AbortSignal } = {}): AsyncGenerator<PartitionTable, void, undefined> {
    const { signal } = options;
    let last: PartitionTable | undefined;
    for (;;) {
      if (signal?.aborted === true) throw signal.reason;
      if (this.#ended.signal.aborted) return;
      const table = this.#watcher.table();
      if (table !== last) {
        last = table;
        yield table;
        continue;
      }
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          remove();
          this.#ended.signal.removeEventListener('abort', done);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          remove();
          this.#ended.signal.removeEventListener('abort', done);
          reject(signal?.reason);
        };
        const remove = this.#watcher.onChange(done);
        this.#ended.signal.addEventListener('abort', done, { once: true });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /**
   * Leaves the set gracefully: deregisters (so the other members retarget and queue for this
   * node's partitions), hands every partition over (signal, drain, resign — waiting up to
   * `handoverTimeoutMs` for the successor to queue), then stops watching. Idempotent. Does
   * not close the session.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Same as close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    const wasStarted = this.#started && !this.#ended.signal.aborted;
    this.#started = true;
    if (wasStarted && !this.#session.signal.aborted) {
      // Deregister first: peers retarget and campaign, and #reconcile hands over to them.
      await this.#backend
        .txn({
          compare: [{ key: this.#memberKey(), target: 'lease', op: '=', value: this.#session.leaseId }],
          success: [{ type: 'delete', key: this.#memberKey() }],
        })
        .catch((e: unknown) => this.#report(e));
      this.#schedule();
      const forced = setTimeout(() => this.#forceRelease(), this.#handoverTimeoutMs);
      await this.#whenIdle();
      clearTimeout(forced);
    }
    this.#end(new PartitionError('WARDEN_ERR_PARTITION_CLOSED', 'the partition set was closed'));
    this.#forceRelease();
    await this.#whenIdle();
    if (wasStarted && !this.#session.signal.aborted) await this.#sweepAll().catch((e: unknown) => this.#report(e));
    this.#unwatch?.();
    this.#watcher.close();
  }

  #end(reason: unknown): void {
    if (this.#ended.signal.aborted) return;
    this.#ended.abort(reason);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#forceRelease();
  }

  /** Cancels every campaign and releases every partition now. */
  #forceRelease(): void {
    this.#slots.forEach((slot, p) => {
      if (slot.state === 'campaigning') slot.campaign?.abort(new PartitionError('WARDEN_ERR_PARTITION_CLOSED', 'closing'));
      if (slot.state === 'leading') void this.#release(p, 'closing');
    });
  }

  #whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#slots.every((s) => s.state === 'idle')) {
          this.#idleWaiters.delete(check);
          resolve();
        }
      };
      this.#idleWaiters.add(check);
      check();
    });
  }

  #memberKey(): string {
    return `${membersPrefix(this.prefix)}${this.member.id}`;
  }

  /** Puts the member key under the session lease once no other lease holds it. */
  async #register(signal: AbortSignal): Promise<void> {
    const key = this.#memberKey();
    for (;;) {
      signal.throwIfAborted();
      const r = await this.#backend.txn(
        {
          compare: [{ key, target: 'createRevision', op: '=', value: 0n }],
          success: [{ type: 'put', key, value: JSON.stringify(this.member), lease: this.#session.leaseId }],
          failure: [{ type: 'get', key }],
        },
        { signal },
      );
      if (r.succeeded) return;
      const got = r.results[0];
      const existing = got?.type === 'get' ? got.kvs[0] : undefined;
      if (existing?.lease === this.#session.leaseId) {
        if (existing.value === JSON.stringify(this.member)) return;
        await this.#backend.put(key, JSON.stringify(this.member), { lease: this.#session.leaseId, signal });
        return;
      }
      // A previous incarnation (or a duplicate id) holds the key: wait until it is gone. The
      // watch usually tells; re-checking with the transaction every quarter TTL as well means a
      // watch that misses the deletion (or a stream that went quiet after a pause) cannot keep
      // this member out of the set for good: the old lease expires within its TTL anyway.
      await new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (this.#watcher.member(this.member.id) === undefined) finish();
        };
        const onAbort = (): void => {
          clearTimeout(recheck);
          remove();
          reject(signal.reason);
        };
        const finish = (): void => {
          clearTimeout(recheck);
          remove();
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const recheck = setTimeout(finish, Math.max(100, Math.floor(this.#session.ttlMs / 4)));
        const remove = this.#watcher.onChange(check);
        signal.addEventListener('abort', onAbort, { once: true });
        check();
      });
    }
  }

  /** Sets #settled once the member list was stable for settleMs (at most 5 × settleMs). */
  #settle(): void {
    if (this.#settleMs === 0) {
      this.#settled = true;
      return;
    }
    const startedAt = performance.now();
    let signature = this.#watcher.memberIds().sort().join('\n');
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer) clearTimeout(timer);
      remove();
      this.#ended.signal.removeEventListener('abort', done);
      this.#settled = true;
      this.#schedule();
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      const left = startedAt + 5 * this.#settleMs - performance.now();
      timer = setTimeout(done, Math.max(0, Math.min(this.#settleMs, left)));
    };
    const remove = this.#watcher.onChange(() => {
      const now = this.#watcher.memberIds().sort().join('\n');
      if (now === signature) return;
      signature = now;
      arm();
    });
    this.#ended.signal.addEventListener('abort', done, { once: true });
    arm();
  }

  #schedule(): void {
    // A close() waiting for every slot to go idle learns it now, not at the next reconcile.
    if (this.#idleWaiters.size > 0) for (const check of [...this.#idleWaiters]) check();
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Coalesce bursts (a rebalance of 1024 partitions is thousands of watch events): run on
    // a macrotask so a whole batch lands first, and leave at least RECONCILE_SPACING_MS, or
    // 3× the last run's duration, between runs, so reconciling takes at most ~25% of a core.
    const spacing = Math.min(MAX_RECONCILE_SPACING_MS, Math.max(RECONCILE_SPACING_MS, 3 * this.#reconcileMs));
    const wait = Math.max(0, this.#lastReconcile + spacing - performance.now());
    const run = (): void => {
      this.#scheduled = false;
      const t0 = performance.now();
      try {
        this.#reconcile();
      } catch (error) {
        this.#report(error);
      }
      this.#lastReconcile = performance.now();
      this.#reconcileMs = this.#lastReconcile - t0;
    };
    if (wait === 0) setImmediate(run);
    else setTimeout(run, wait);
  }

  #ownersForAssignment(): Array<string | null> {
    // A partition this node is handing over still counts as its own, so the targets stay put
    // until the resign is visible.
    return this.#watcher.leaders();
  }

  #reconcile(): void {
    for (const check of [...this.#idleWaiters]) check();
    if (!this.#started || this.#ended.signal.aborted || this.#session.signal.aborted) return;
    const me = this.member.id;
    const closing = this.#closing !== undefined;
    const members = this.#watcher.memberIds();
    if (!this.#registered) return;
    // Until the member list settled after joining, campaign for nothing (see settleMs).
    const settling = !this.#settled && !closing;
    const target = assignPartitions(members, this.partitions, this.#ownersForAssignment());
    const now = performance.now();
    let retryIn = Infinity;
    let pending = 0;
    this.#slots.forEach((slot, p) => {
      if (slot.state === 'campaigning' && this.#watcher.candidateOf(p, this.#session.leaseId) === undefined) pending += 1;
    });
    for (let p = 0; p < this.partitions; p += 1) {
      const slot = this.#slots[p] as Slot;
      const mine = !closing && target[p] === me;
      switch (slot.state) {
        case 'idle':
          if (!mine) {
            this.#sweep(p);
            break;
          }
          if (settling) break;
          if (slot.retryAt > now) retryIn = Math.min(retryIn, slot.retryAt - now);
          else if (pending < this.#maxPending) {
            pending += 1;
            this.#campaign(p);
          }
          break;
        case 'campaigning':
          if (!mine) slot.campaign?.abort(new PartitionError('WARDEN_ERR_PARTITION_RELEASED', `partition ${p} targets another member`));
          break;
        case 'leading': {
          if (mine) break;
          const next = target[p] ?? null;
          if (next === me) break; // closing, but the deregistration is not visible yet
          // Hand over once the target is queued, so it takes over one round trip after the resign.
          if (next === null || this.#watcher.candidates(p).includes(next)) void this.#release(p, 'handover');
          break;
        }
        case 'releasing':
          break;
      }
    }
    if (retryIn !== Infinity && this.#retryTimer === undefined) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#schedule();
      }, retryIn + 1);
      this.#retryTimer.unref();
    }
  }

  /**
   * Deletes a candidate key of this session for a partition it does not campaign for: the
   * leftover of a campaign cancelled while its put was in flight. Left alone it would become
   * leader one day with nobody acting for it.
   */
  #sweep(p: number): void {
    const own = this.#watcher.candidateOf(p, this.#session.leaseId);
    if (own === undefined || this.#sweeping.has(own.key)) return;
    this.#sweeping.add(own.key);
    this.#backend
      .txn({
        compare: [{ key: own.key, target: 'createRevision', op: '=', value: own.createRevision }],
        success: [{ type: 'delete', key: own.key }],
      })
      .catch((e: unknown) => this.#report(e))
      .finally(() => {
        this.#sweeping.delete(own.key);
        this.#schedule();
      });
  }

  /** Deletes every candidate key of this session under the set's prefix (end of close()). */
  async #sweepAll(): Promise<void> {
    const r = await this.#backend.get(electionsPrefix(this.prefix), { prefix: true });
    await Promise.all(
      r.kvs
        .filter((kv) => kv.lease === this.#session.leaseId)
        .map((kv) =>
          this.#backend.txn({
            compare: [{ key: kv.key, target: 'createRevision', op: '=', value: kv.createRevision }],
            success: [{ type: 'delete', key: kv.key }],
          }),
        ),
    );
  }

  #election(p: number): Election {
    let election = this.#elections[p];
    if (!election) {
      election = new Election(this.#session, String(p), { prefix: this.prefix });
      this.#elections[p] = election;
    }
    return election;
  }

  #campaign(p: number): void {
    const slot = this.#slots[p] as Slot;
    const controller = new AbortController();
    slot.state = 'campaigning';
    slot.campaign = controller;
    const link = linkSignals(controller.signal, this.#ended.signal);
    this.#election(p)
      .campaign(this.member.id, { signal: link.signal })
      .then(
        (leadership) => {
          link.dispose();
          slot.campaign = undefined;
          if (controller.signal.aborted || this.#ended.signal.aborted) {
            slot.state = 'releasing';
            slot.leadership = leadership;
            void this.#resign(p, slot, false);
            return;
          }
          this.#lead(p, slot, leadership);
        },
        (error: unknown) => {
          link.dispose();
          slot.campaign = undefined;
          slot.state = 'idle';
          if (!controller.signal.aborted && !this.#ended.signal.aborted) {
            this.#report(error);
            slot.retryAt = performance.now() + this.#retryDelayMs;
          }
          this.#schedule();
        },
      );
  }

  #lead(p: number, slot: Slot, leadership: Leadership): void {
    slot.state = 'leading';
    this.#setOwned(this.#owned + 1);
    slot.leadership = leadership;
    const acting = new AbortController();
    slot.acting = acting;
    const onLost = (): void => {
      acting.abort(leadership.signal.reason);
      if (slot.state === 'leading') void this.#release(p, 'lost');
    };
    if (leadership.signal.aborted) {
      onLost();
      return;
    }
    leadership.signal.addEventListener('abort', onLost, { once: true });
    acting.signal.addEventListener('abort', () => leadership.signal.removeEventListener('abort', onLost), { once: true });
    const hook = this.#options.onPartitionLeader;
    slot.work = hook
      ? (async () => {
          try {
            await hook(p, acting.signal, leadership);
          } catch (error) {
            if (!acting.signal.aborted) this.#report(error);
          }
        })()
      : Promise.resolve();
    // A leadership that is not ours to keep (targets moved meanwhile) is handed over at once.
    this.#schedule();
  }

  /** Stops acting for `p`, drains (bounded), resigns, reports the release. */
  async #release(p: number, why: 'handover' | 'closing' | 'lost'): Promise<void> {
    const slot = this.#slots[p] as Slot;
    if (slot.state !== 'leading') return;
    slot.state = 'releasing';
    this.#setOwned(this.#owned - 1);
    const leadership = slot.leadership as Leadership;
    slot.acting?.abort(
      why === 'lost' ? leadership.signal.reason : new PartitionError('WARDEN_ERR_PARTITION_RELEASED', `partition ${p}: ${why}`),
    );
    const bound = new AbortController();
    const timer = setTimeout(
      () => bound.abort(new PartitionError('WARDEN_ERR_PARTITION_DRAIN_TIMEOUT', `partition ${p}: drain exceeded ${this.#drainTimeoutMs} ms`)),
      this.#drainTimeoutMs,
    );
    const link = linkSignals(bound.signal, leadership.signal);
    try {
      const drain = this.#options.drain;
      const pending = [slot.work ?? Promise.resolve(), why === 'lost' || !drain ? Promise.resolve() : Promise.resolve().then(() => drain(p, link.signal))];
      await Promise.race([
        Promise.all(pending),
        new Promise<void>((_, reject) => bound.signal.addEventListener('abort', () => reject(bound.signal.reason), { once: true })),
      ]);
    } catch (error) {
      this.#report(error);
    } finally {
      clearTimeout(timer);
      link.dispose();
    }
    await this.#resign(p, slot, true);
  }

  async #resign(p: number, slot: Slot, notify: boolean): Promise<void> {
    const leadership = slot.leadership as Leadership;
    // Retry until the key is gone or the leadership ends anyway (session lost): a key left
    // behind would keep the partition leaderless while this node no longer acts for it.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await leadership.resign();
        break;
      } catch (error) {
        if (this.#session.signal.aborted) break;
        this.#report(error);
        await delay(Math.min(100 * 2 ** attempt, 2_000));
      }
    }
    slot.state = 'idle';
    slot.leadership = undefined;
    slot.acting = undefined;
    slot.work = undefined;
    try {
      if (notify) this.#options.onPartitionReleased?.(p);
    } catch (error) {
      this.#report(error);
    }
    this.#schedule();
  }

  #setOwned(owned: number): void {
    this.#owned = owned;
    emit(this.#session.metrics, 'partitionsOwned', { prefix: this.prefix, memberId: this.member.id, owned, partitions: this.partitions });
  }

  #throwIfEnded(): void {
    if (this.#ended.signal.aborted || this.#closing !== undefined) {
      throw new PartitionError('WARDEN_ERR_PARTITION_CLOSED', 'the partition set was closed or its session ended');
    }
  }

  #report(error: unknown): void {
    try {
      if (this.#options.onError) this.#options.onError(error);
      else process.emitWarning(error instanceof Error ? error : new Error(String(error)), { code: 'WARDEN_PARTITION' });
    } catch {
      // reporting must never break the set
    }
  }
}
