import { Election, Lock, type Session } from 'warden/election';
import type { ElectTarget } from './options.js';

/** One term of leadership (an election won or a lock held), as the supervisor sees it. */
export interface Term {
  /** Decimal create revision of the key: strictly increasing from term to term. */
  readonly fencingToken: string;
  readonly key: string;
  /** Aborts the moment the term ends. */
  readonly signal: AbortSignal;
  /** True while the term holds (checks the session deadline synchronously). */
  isHeld(): boolean;
  /** Resigns the election or releases the lock (guarded delete of the key). */
  end(): Promise<void>;
}

/** Waits for the next term on `session`: campaigns in the election or queues for the lock. */
export type Contend = (options: { signal: AbortSignal }) => Promise<Term>;

/** Builds the way to contend for `target` with candidate `id` on one session. */
export function contender(session: Session, target: ElectTarget, id: string): Contend {
  if (target.kind === 'election') {
    const election = new Election(session, target.name);
    return async ({ signal }) => {
      const leadership = await election.campaign(id, { signal });
      return {
        fencingToken: leadership.fencingToken,
        key: leadership.key,
        signal: leadership.signal,
        isHeld: () => leadership.isHeld(),
        end: () => leadership.resign(),
      };
    };
  }
  const lock = new Lock(session);
  return async ({ signal }) => {
    const handle = await lock.acquire(target.name, { signal });
    return {
      fencingToken: handle.fencingToken,
      key: handle.key,
      signal: handle.signal,
      isHeld: () => handle.isHeld(),
      end: () => handle.release(),
    };
  };
}
