import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assignPartitions, countMoves } from './partition-assignment.js';

const memberSet = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 });
const partitionCount = fc.integer({ min: 1, max: 300 });

function counts(owners: ReadonlyArray<string | null>, members: readonly string[]): number[] {
  const byId = new Map(members.map((m) => [m, 0]));
  for (const o of owners) {
    assert.ok(o !== null && byId.has(o), `partition owned by a non-member ${String(o)}`);
    byId.set(o, (byId.get(o) ?? 0) + 1);
  }
  return [...byId.values()];
}

function assertBalanced(owners: ReadonlyArray<string | null>, members: readonly string[], partitions: number): void {
  assert.equal(owners.length, partitions);
  const lo = Math.floor(partitions / members.length);
  const hi = Math.ceil(partitions / members.length);
  for (const c of counts(owners, members)) assert.ok(c === lo || c === hi, `count ${c} not in {${lo}, ${hi}}`);
}

describe('assignPartitions', () => {
  it('gives every member ⌊P/N⌋ or ⌈P/N⌉ partitions, whatever the current table', () => {
    fc.assert(
      fc.property(memberSet, partitionCount, fc.array(fc.integer({ min: -2, max: 12 })), (members, p, picks) => {
        // Current owners: members, nulls and ghosts (ids that are not members).
        const current = Array.from({ length: p }, (_, i) => {
          const pick = picks[i % Math.max(1, picks.length)] ?? -1;
          return pick === -1 ? null : pick === -2 ? 'ghost' : (members[pick % members.length] ?? null);
        });
        assertBalanced(assignPartitions(members, p), members, p);
        assertBalanced(assignPartitions(members, p, current), members, p);
      }),
    );
  });

  it('depends on the member set only, not its order or duplicates', () => {
    fc.assert(
      fc.property(memberSet, partitionCount, fc.integer(), (members, p, seed) => {
        const shuffled = [...members, ...members.slice(0, 2)].sort(() => (seed % 3) - 1);
        const a = assignPartitions(members, p);
        assert.deepEqual(assignPartitions(shuffled.reverse(), p), a);
        assert.deepEqual(assignPartitions(shuffled, p, a), a);
      }),
    );
  });

  it('moves only the partitions the newcomer takes when a member joins a balanced set', () => {
    fc.assert(
      fc.property(memberSet, partitionCount, fc.string({ minLength: 9, maxLength: 10 }), (members, p, joiner) => {
        const before = assignPartitions(members, p);
        const after = assignPartitions([...members, joiner], p, before);
        assertBalanced(after, [...members, joiner], p);
        const taken = after.filter((o) => o === joiner).length;
        assert.equal(countMoves(before, after), taken);
        assert.equal(taken, Math.floor(p / (members.length + 1)));
      }),
    );
  });

  it('moves only the leaver’s partitions when a member leaves a balanced set', () => {
    fc.assert(
      fc.property(memberSet.filter((m) => m.length >= 2), partitionCount, fc.nat(), (members, p, k) => {
        const before = assignPartitions(members, p);
        const leaver = members[k % members.length] as string;
        const rest = members.filter((m) => m !== leaver);
        const after = assignPartitions(rest, p, before);
        assertBalanced(after, rest, p);
        for (let i = 0; i < p; i += 1) if (before[i] !== leaver) assert.equal(after[i], before[i]);
      }),
    );
  });

  it('keeps the same targets through every intermediate table of a handover', () => {
    fc.assert(
      fc.property(memberSet, partitionCount, fc.string({ minLength: 9, maxLength: 10 }), fc.array(fc.nat(2)), fc.boolean(), (members, p, joiner, steps, leave) => {
        // A join, or the departure of the first member (whose partitions are then unowned).
        const all = leave && members.length > 1 ? members.slice(1) : [...members, joiner];
        const before = assignPartitions(members, p);
        const target = assignPartitions(all, p, before);
        // Each moving partition is still with its old owner, released (null) or taken over.
        const mid = before.map((o, i) => (o === target[i] ? o : [o, null, target[i] ?? null][steps[i % Math.max(1, steps.length)] ?? 0] ?? null));
        assert.deepEqual(assignPartitions(all, p, mid), target);
      }),
    );
  });

  it('moves close to the ideal P/N without a current table (plain bounded-load rendezvous)', () => {
    const members = Array.from({ length: 10 }, (_, i) => `node-${i}`);
    const before = assignPartitions(members, 1024);
    const after = assignPartitions([...members, 'node-10'], 1024);
    const ideal = after.filter((o) => o === 'node-10').length;
    assert.ok(countMoves(before, after) <= 1.5 * ideal, `moved ${countMoves(before, after)} for ideal ${ideal}`);
  });

  it('assigns nothing when there is no member', () => {
    assert.deepEqual(assignPartitions([], 3), [null, null, null]);
  });
});
