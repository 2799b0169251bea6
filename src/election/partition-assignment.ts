import { createHash } from 'node:crypto';
import { assertPartitionCount } from './partition-of.js';

/**
 * Scores of one member for partitions 0..P-1, cached by member id: a membership change
 * hashes only the newcomer's row.
 */
const scoreCache = new Map<string, Uint32Array>();
const SCORE_CACHE_LIMIT = 4096;
/** Sort keys pack `score * 2^21 + (2^21 - 1 - index)` exactly into a double (< 2^53). */
const INDEX_SPACE = 2 ** 21;

/**
 * Returns the rendezvous score of `member` for every partition: the first 4 bytes of
 * SHA-256(`<member id>` NUL `<partition in decimal>`), big-endian, as an unsigned integer.
 */
export function memberScores(member: string, partitions: number): Uint32Array {
  const cached = scoreCache.get(member);
  if (cached && cached.length >= partitions) return cached;
  const scores = new Uint32Array(partitions);
  for (let p = 0; p < partitions; p += 1) {
    scores[p] = createHash('sha256').update(`${member}\u0000${p}`, 'utf8').digest().readUInt32BE(0);
  }
  if (scoreCache.size >= SCORE_CACHE_LIMIT) scoreCache.clear();
  scoreCache.set(member, scores);
  return scores;
}

/**
 * Returns the indexes 0..count-1 ordered by `score(index)` descending, ties by index
 * ascending. Uses a native numeric sort of packed keys (no comparator callback): this runs on
 * every table change, on up to P × N pairs.
 */
function orderByScore(count: number, score: (index: number) => number): Uint32Array {
  const order = new Uint32Array(count);
  if (count <= INDEX_SPACE) {
    const keys = new Float64Array(count);
    for (let i = 0; i < count; i += 1) keys[i] = score(i) * INDEX_SPACE + (INDEX_SPACE - 1 - i);
    keys.sort();
    for (let k = 0; k < count; k += 1) order[k] = INDEX_SPACE - 1 - ((keys[count - 1 - k] as number) % INDEX_SPACE);
    return order;
  }
  for (let i = 0; i < count; i += 1) order[i] = i;
  return order.sort((a, b) => score(b) - score(a) || a - b);
}

/**
 * Computes the target owner of every partition from the live member set and, optionally,
 * the current owners.
 *
 * Quotas: every member gets ⌊P/N⌋ partitions and P mod N members get one more — first the
 * members that already hold more than ⌊P/N⌋, then the others, by id — so every member ends with ⌊P/N⌋ or
 * ⌈P/N⌉ partitions.
 *
 * Sticky: a live member keeps the partitions it currently owns, up to its quota (the ones
 * it scores highest on). Only the partitions left free (no live owner, or shed by a member
 * above its quota) move, so a join moves only what the newcomer takes and a leave only what
 * the leaver held: the minimum. The free partitions go out by rendezvous hashing with
 * bounded load: every (partition, member with room) pair gets a score, pairs are granted
 * from the highest score down (ties: lower partition first) while the partition is free and
 * the member has room. That
 * greedy order is the unique stable matching of the scores, so as a handover proceeds (a
 * partition resigned, then taken by its target) recomputing from the intermediate tables
 * gives the same targets.
 *
 * Without `current` (or with an empty table) it is plain bounded-load rendezvous hashing,
 * a function of the member set alone. The result depends only on the set of ids (not their
 * order or duplicates), `partitions` and `current`.
 *
 * @param members - ids of the live members.
 * @param partitions - the partition count P.
 * @param current - current owner id of each partition (`null` = no leader); owners that are
 *   not live members count as no owner.
 * @returns an array of length P: the target member id of each partition, or `null` for
 *   every partition when there is no member.
 */
export function assignPartitions(
  members: Iterable<string>,
  partitions: number,
  current?: ReadonlyArray<string | null | undefined>,
): Array<string | null> {
  assertPartitionCount(partitions);
  const ids = [...new Set(members)].sort();
  const owners: Array<string | null> = new Array<string | null>(partitions).fill(null);
  const n = ids.length;
  if (n === 0) return owners;
  const index = new Map(ids.map((id, m) => [id, m]));
  const rows = ids.map((id) => memberScores(id, partitions));
  const score = (m: number, p: number): number => (rows[m] as Uint32Array)[p] as number;

  // What every member holds now.
  const held: number[][] = ids.map(() => []);
  for (let p = 0; p < partitions; p += 1) {
    const owner = current?.[p];
    const m = owner === null || owner === undefined ? undefined : index.get(owner);
    if (m !== undefined) (held[m] as number[]).push(p);
  }

  // Quotas: the extra slots go first to the members holding more than ⌊P/N⌋, then to the
  // others, by id within each group. (Not "most first": counts shift unevenly while members
  // shed, and the holder of an extra slot must not change half-way through a handover.)
  const quota = Math.floor(partitions / n);
  const caps = new Array<number>(n).fill(quota);
  const over = (m: number): number => ((held[m] as number[]).length > quota ? 0 : 1);
  const byLoad = ids.map((_, m) => m).sort((a, b) => over(a) - over(b) || a - b);
  for (let i = 0; i < partitions % n; i += 1) caps[byLoad[i] as number] = quota + 1;

  // Keep up to the quota, preferring the highest scores; the rest is free.
  const room = new Array<number>(n).fill(0);
  for (let m = 0; m < n; m += 1) {
    const mine = held[m] as number[];
    const keep = Math.min(mine.length, caps[m] as number);
    const order = keep < mine.length ? orderByScore(mine.length, (i) => score(m, mine[i] as number)) : undefined;
    for (let k = 0; k < keep; k += 1) owners[mine[order ? (order[k] as number) : k] as number] = ids[m] as string;
    room[m] = (caps[m] as number) - keep;
  }
  const free: number[] = [];
  for (let p = 0; p < partitions; p += 1) if (owners[p] === null) free.push(p);
  if (free.length === 0) return owners;

  // Bounded-load rendezvous over the free partitions, members with room only:
  // pair index = i * k + j for the i-th free partition and the j-th member with room.
  const open: number[] = [];
  for (let m = 0; m < n; m += 1) if ((room[m] as number) > 0) open.push(m);
  const k = open.length;
  const pairs = orderByScore(free.length * k, (i) => score(open[i % k] as number, free[Math.floor(i / k)] as number));
  let left = free.length;
  for (const pair of pairs) {
    const p = free[Math.floor(pair / k)] as number;
    const m = open[pair % k] as number;
    if (owners[p] !== null || (room[m] as number) === 0) continue;
    room[m] = (room[m] as number) - 1;
    owners[p] = ids[m] as string;
    left -= 1;
    if (left === 0) break;
  }
  return owners;
}

/** Counts how many partitions change owner between two assignments of the same length. */
export function countMoves(before: ReadonlyArray<string | null>, after: ReadonlyArray<string | null>): number {
  let moved = 0;
  for (let p = 0; p < after.length; p += 1) if (before[p] !== after[p]) moved += 1;
  return moved;
}
