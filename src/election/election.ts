import type { KeyValue } from './backend.js';
import { linkSignals, throwIfAborted } from './abort.js';
import { Hold, type Guard } from './hold.js';
import { DEFAULT_PREFIX, checkName, checkPrefix, leaseHex } from './names.js';
import { observeLeader } from './observer.js';
import { runElection, type RunHandlers } from './runner.js';
import type { Session } from './session.js';
import { deleteIfOwned, enqueue, waitTurn, type Enqueued } from './waits.js';

/** Who leads an election. */
export interface LeaderInfo {
  /** Candidate id: the leader's lease id in hex (the last segment of its key). */
  id: string;
  /** The value the leader campaigned with or last proclaimed. */
  value: string;
  /** Decimal create revision of the leader key; strictly increasing from term to term. */
  fencingToken: string;
  /** The leader key. */
  key: string;
}

/** A won election. Ends (its `signal` aborts) on resign, lost session, deleted key or shutdown. */
export interface Leadership extends AsyncDisposable {
  /** Decimal create revision of the leader key, strictly increasing per election. */
  readonly fencingToken: string;
  /** The leader key. */
  readonly key: string;
  /** Aborts the moment leadership ends; `reason` is a LeadershipEndedError. */
  readonly signal: AbortSignal;
  /** Writes a new leader value, guarded by the fencing token. */
  proclaim(value: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Stops leading (signal first), then deletes the key guarded by the fencing token. */
  resign(options?: { signal?: AbortSignal }): Promise<void>;
  /** Returns the comparison "leader key still has this create revision" for backend txns. */
  guard(): Guard;
  /**
   * Resigns in favour of one candidate (its LeaderInfo id), once it is next in line, so that it
   * and no other is elected next; WARDEN_ERR_ELECTION_HANDOVER_FAILED if it is not within
   * `timeoutMs` (default 10_000). See Hold.handoverTo and docs/election.md.
   */
  handoverTo(candidateId: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /** Throws the end reason if leadership ended (checks the session deadline synchronously). */
  check(): void;
  /** Returns true while leading (checks the session deadline synchronously). */
  isHeld(): boolean;
}

/** Options of an Election. */
export interface ElectionOptions {
  /** Key prefix; keys are `<prefix>election/<name>/<leaseIdHex>`. Default '/warden/'. */
  prefix?: string;
}

/** Turns a stored candidate key into a LeaderInfo. */
export function toLeaderInfo(kv: KeyValue): LeaderInfo {
  return { id: kv.key.slice(kv.key.lastIndexOf('/') + 1), value: kv.value, fencingToken: kv.createRevision.toString(), key: kv.key };
}

/**
 * One named election on a session. Candidates queue by create revision of their key (oldest
 * leads); each waits only for the next older candidate to go away.
 */
export class Election {
  /** The election name. */
  readonly name: string;
  /** The session candidates of this object campaign with. */
  readonly session: Session;
  /** Directory of candidate keys, ending with '/'. */
  readonly dir: string;
  /** This session's candidate key in this election. */
  readonly key: string;

  /** Creates an election handle; throws WARDEN_ERR_ELECTION_INVALID_NAME on a bad name or prefix. */
  constructor(session: Session, name: string, options: ElectionOptions = {}) {
    this.session = session;
    this.name = checkName(name, 'WARDEN_ERR_ELECTION_INVALID_NAME');
    const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX, 'WARDEN_ERR_ELECTION_INVALID_NAME');
    this.dir = `${prefix}election/${this.name}/`;
    this.key = `${this.dir}${leaseHex(session.leaseId)}`;
  }

  /**
   * Campaigns with `value` and resolves once elected. A cancelled or failed campaign deletes
   * its key. Rejects with WARDEN_ERR_ELECTION_KEY_LOST when the key vanished while waiting,
   * with the session's reason when the session ends, WARDEN_ERR_ELECTION_BUSY when this
   * session already campaigns here.
   */
  async campaign(value: string, options: { signal?: AbortSignal } = {}): Promise<Leadership> {
    throwIfAborted(options.signal);
    this.session.check();
    const startedAt = this.session.clock.now();
    const release = await this.session.claimKey(this.key, 'WARDEN_ERR_ELECTION_BUSY');
    const { signal, dispose } = linkSignals(options.signal, this.session.signal);
    let created: Enqueued | undefined;
    try {
      created = await enqueue(this.session, this.key, value, signal, this.dir);
      if (created.oldest) this.session.check();
      else await waitTurn(this.session, this.dir, this.key, created.createRevision, created.revision, 'WARDEN_ERR_ELECTION_KEY_LOST', signal);
      return new Hold(this.session, this.key, value, created.createRevision, created.revision, {
        ended: 'WARDEN_ERR_ELECTION_LEADERSHIP_ENDED',
        notHeld: 'WARDEN_ERR_ELECTION_NOT_LEADER',
        what: 'leadership of',
      }, release, { kind: 'election', name: this.name, startedAt });
    } catch (error) {
      release();
      if (!this.session.signal.aborted) await deleteIfOwned(this.session, this.key, created?.createRevision);
      throw error;
    } finally {
      dispose();
    }
  }

  /** Reads the current leader linearizably; null when nobody leads. */
  async leader(options: { signal?: AbortSignal } = {}): Promise<LeaderInfo | null> {
    const r = await this.session.backend.get(this.dir, { prefix: true, sort: 'createAscending', limit: 1, ...options });
    const kv = r.kvs[0];
    return kv === undefined ? null : toLeaderInfo(kv);
  }

  /**
   * Streams leader changes: the current leader first, then every change, `null` while nobody
   * leads. Tokens never go backwards. Ends when `signal` aborts (the iterator returns).
   */
  observe(options: { signal?: AbortSignal } = {}): AsyncIterable<LeaderInfo | null> {
    return observeLeader(this.session.backend, this.dir, options.signal);
  }

  /**
   * Participates until `options.signal` aborts or the session is closed: campaigns, runs
   * `onLeader(signal, leadership)` while leading (signal aborts the moment leadership ends;
   * when the handler settles the candidate resigns and campaigns again), runs
   * `onFollower(signal, leader)` for each observed leader while not leading. A term never
   * starts while the previous handler still runs. Handler errors go to `onError` and
   * participation continues. Rejects with the session's reason if the session is lost.
   */
  run(handlers: RunHandlers, options: { signal?: AbortSignal } = {}): Promise<void> {
    return runElection(this, handlers, options.signal);
  }
}
