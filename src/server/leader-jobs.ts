/**
 * Leader-only background work of a node: retention (`--keep N`) and the integrity scrub, each
 * applied only to owners whose partition this node leads right now. The cluster wiring (or
 * the single-node default, which leads everything) calls {@link LeaderJobs.lead} for each
 * partition it leads, with the partition's signal; work on that partition's owners stops the
 * moment the signal aborts, and `lead` resolves once it has stopped (so a handover can wait
 * for it). One walk of DATA serves every partition: the node does not scan the tree once per
 * partition.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import {
  DEFAULT_SCRUB_BYTES_PER_SECOND,
  RateLimiter,
  applyRetention,
  listOwners,
  realJobClock,
  scrubStore,
  type JobClock,
  type Store,
} from 'warden/store';

/** Options of {@link LeaderJobs}. */
export interface LeaderJobsOptions {
  store: Store;
  /** Partition of an owner (the documented `partitionOf(owner, P)`). */
  partitionOf: (owner: string) => number;
  /** Logger; the jobs log as `job: retention|scrub`. */
  log: Logger;
  /** Registry for the jobs' counters (the server's). */
  registry: Registry;
  /** Versions kept per name; undefined disables retention. Default undefined. */
  keep?: number | undefined;
  /** Pause between two retention passes, in ms. Default 60000. */
  retentionIntervalMs?: number;
  /** Scrub rate in bytes per second; 0 disables the scrub. Default 8 MiB/s. */
  scrubBytesPerSecond?: number;
  /** Pause between two full scrub passes, in ms. Default 3600000 (1 h). */
  scrubPauseMs?: number;
  /** Pause before the first passes, in ms (lets a starting node settle). Default 1000. */
  startDelayMs?: number;
  /** Clock (tests). Default real time. */
  clock?: JobClock;
}

/** Counters the jobs keep (also exposed on `/metrics`). */
export interface LeaderJobsMetrics {
  readonly retentionDeleted: Counter;
  readonly scrubBytes: Counter;
  readonly scrubVersions: Counter;
  readonly scrubMismatches: Counter<'reason'>;
  readonly quarantined: Counter;
  readonly jobErrors: Counter<'job'>;
}

interface Running {
  readonly partition: number;
  readonly done: Promise<unknown>;
}

/** The background jobs of one node. */
export class LeaderJobs implements AsyncDisposable {
  readonly metrics: LeaderJobsMetrics;
  readonly #options: LeaderJobsOptions;
  readonly #clock: JobClock;
  readonly #led = new Map<number, AbortSignal>();
  readonly #running = new Set<Running>();
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #limiter: RateLimiter | undefined;
  #closed: Promise<void> | undefined;

  /** Creates the jobs and starts their loops (idle until a partition is led). */
  constructor(options: LeaderJobsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realJobClock;
    // One listener per led partition and per running job: a fan-out by design, not a leak.
    setMaxListeners(0, this.#stop.signal);
    const registers = [options.registry];
    this.metrics = {
      retentionDeleted: new Counter({ name: 'warden_retention_deleted_total', help: 'versions deleted by retention (--keep)', registers }),
      scrubBytes: new Counter({ name: 'warden_scrub_bytes_total', help: 'bytes re-read and re-hashed by the integrity scrub', registers }),
      scrubVersions: new Counter({ name: 'warden_scrub_versions_total', help: 'versions checked by the integrity scrub', registers }),
      scrubMismatches: new Counter({ name: 'warden_scrub_mismatches_total', help: 'versions whose bytes no longer match their metadata, by reason (sha256, size)', labelNames: ['reason'], registers }),
      quarantined: new Counter({ name: 'warden_quarantined_total', help: 'versions moved to DATA/.warden/quarantine by the scrub', registers }),
      jobErrors: new Counter({ name: 'warden_job_errors_total', help: 'background job failures, by job (retention, scrub)', labelNames: ['job'], registers }),
    };
    const rate = options.scrubBytesPerSecond ?? DEFAULT_SCRUB_BYTES_PER_SECOND;
    this.#limiter = rate > 0 ? new RateLimiter(rate, { clock: this.#clock }) : undefined;
    if (options.keep !== undefined) this.#loops.push(this.#loop('retention', options.retentionIntervalMs ?? 60_000, (owner, signal) => this.#retain(owner, signal)));
    if (this.#limiter) this.#loops.push(this.#loop('scrub', options.scrubPauseMs ?? 3_600_000, (owner, signal) => this.#scrub(owner, signal)));
  }

  /** Partitions the jobs currently work for. */
  get leading(): number[] {
    return [...this.#led.keys()].sort((a, b) => a - b);
  }

  /**
   * Works on `partition`'s owners until `signal` aborts; resolves once the work on them has
   * stopped. Use as (part of) the partition's leader hook.
   */
  async lead(partition: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#stop.signal.aborted) return;
    this.#led.set(partition, signal);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.#stop.signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.#stop.signal.addEventListener('abort', done, { once: true });
    });
    if (this.#led.get(partition) === signal) this.#led.delete(partition);
    await Promise.all([...this.#running].filter((r) => r.partition === partition).map((r) => r.done.catch(() => undefined)));
  }

  /** Stops every loop and waits for them. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort(new Error('leader jobs closed'));
      await Promise.all(this.#loops);
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #loop(job: 'retention' | 'scrub', pauseMs: number, work: (owner: string, signal: AbortSignal) => Promise<void>): Promise<void> {
    const stop = this.#stop.signal;
    const log = this.#options.log.child({ job });
    try {
      await this.#clock.sleep(this.#options.startDelayMs ?? 1000, stop);
      for (;;) {
        let worked = false;
        let owners: string[] = [];
        try {
          owners = this.#led.size === 0 ? [] : await listOwners(this.#options.store.root);
        } catch (error) {
          this.metrics.jobErrors.inc({ job });
          log.error({ err: error }, 'cannot list owners');
        }
        for (const owner of owners) {
          stop.throwIfAborted();
          const partition = this.#options.partitionOf(owner);
          const lead = this.#led.get(partition);
          if (!lead || lead.aborted) continue;
          worked = true;
          const signal = AbortSignal.any([stop, lead]);
          const done = work(owner, signal).catch((error: unknown) => {
            if (signal.aborted) return; // leadership ended or closing: not a failure
            this.metrics.jobErrors.inc({ job });
            log.error({ err: error, owner, partition }, `${job} failed`);
          });
          const running: Running = { partition, done };
          this.#running.add(running);
          await done;
          this.#running.delete(running);
        }
        // Nothing led yet: look again soon rather than after a full pause.
        await this.#clock.sleep(worked ? pauseMs : Math.min(pauseMs, 1000), stop);
      }
    } catch (error) {
      if (!stop.aborted) log.error({ err: error }, `${job} loop ended`);
    }
  }

  async #retain(owner: string, signal: AbortSignal): Promise<void> {
    const log = this.#options.log;
    const result = await applyRetention(this.#options.store, {
      keep: this.#options.keep!,
      owners: [owner],
      signal,
      onDelete: (o, n, v) => {
        this.metrics.retentionDeleted.inc();
        log.info({ job: 'retention', owner: o, name: n, version: v, keep: this.#options.keep }, 'retention deleted a version');
      },
      onError: (error, o, n, v) => {
        this.metrics.jobErrors.inc({ job: 'retention' });
        log.error({ job: 'retention', owner: o, name: n, version: v, code: error.code, err: error }, 'retention could not delete a version');
      },
    });
    if (result.keptAliased > 0) log.debug({ job: 'retention', owner, keptAliased: result.keptAliased }, 'aliased versions kept beyond --keep');
  }

  async #scrub(owner: string, signal: AbortSignal): Promise<void> {
    const log = this.#options.log;
    await scrubStore(this.#options.store, {
      owners: [owner],
      limiter: this.#limiter!,
      signal,
      onVersion: (_o, _n, _v, bytes) => {
        this.metrics.scrubVersions.inc();
        this.metrics.scrubBytes.inc(bytes);
      },
      onMismatch: (m) => {
        this.metrics.scrubMismatches.inc({ reason: m.reason });
        if (m.quarantinedTo) this.metrics.quarantined.inc();
        log.error(
          { job: 'scrub', owner: m.owner, name: m.name, version: m.version, reason: m.reason, expectedSha256: m.expectedSha256, actualSha256: m.actualSha256, quarantinedTo: m.quarantinedTo?.replace(this.#options.store.root, 'DATA') },
          m.quarantinedTo ? 'integrity scrub: content does not match its metadata; version quarantined' : 'integrity scrub: content does not match its metadata',
        );
      },
      onError: (error, o, n, v) => {
        this.metrics.jobErrors.inc({ job: 'scrub' });
        log.error({ job: 'scrub', owner: o, name: n, version: v, code: error.code, err: error }, 'integrity scrub could not check a version');
      },
    });
  }
}
