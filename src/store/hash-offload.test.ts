import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTmpDir } from '../testing/index.js';
import { receiveToFile } from './durable-write.js';
import { StoreError } from './errors.js';
import { HashThreads } from './hash-offload.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const hasCode = (code: string) => (error: unknown) => error instanceof StoreError && error.code === code;

/** Splits `bytes` into uneven views of itself (none owns its memory). */
function views(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = [65536, 17, 300_000, 1][i % 4] ?? 1;
    out.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

test('hash threads: concurrent uploads spread over threads each get their own correct digest; callers keep their buffers', async () => {
  await using threads = new HashThreads({ threads: 2 });
  const bodies = [randomBytes(3 * MiB + 5), randomBytes(MiB), Buffer.alloc(0), randomBytes(2 * MiB)];
  const hashes = bodies.map(() => threads.start());
  const parts = bodies.map(views);
  // Interleave the uploads piece by piece, the way concurrent requests arrive.
  for (let round = 0; parts.some((p) => round < p.length); round++) {
    parts.forEach((p, i) => {
      const piece = p[round];
      if (piece) hashes[i]?.update([piece], piece.length);
    });
  }
  const digests = await Promise.all(hashes.map((hash) => hash.digest()));
  assert.deepEqual(digests, bodies.map(sha256));
  // The threads received copies: every caller buffer is intact (not detached by a transfer).
  assert.equal(bodies[0]?.length, 3 * MiB + 5);
  assert.equal(sha256(Buffer.concat(parts[0] ?? [])), digests[0]);
});

test('hash threads: the backlog drains, so a sender can wait for the thread to catch up', async () => {
  await using threads = new HashThreads({ threads: 1 });
  const hash = threads.start();
  const body = randomBytes(16 * MiB);
  for (const piece of views(body)) hash.update([piece], piece.length);
  await hash.whenBacklogAtMost(0);
  assert.equal(await hash.digest(), sha256(body));
});

test('hash threads: one upload waits while the thread it shares has more than its cap queued by others', async () => {
  await using threads = new HashThreads({ threads: 1 });
  const flood = threads.start();
  const small = threads.start();
  const big = randomBytes(40 * MiB);
  for (const piece of views(big)) flood.update([piece], piece.length);
  const mine = Buffer.from('one small batch');
  small.update([mine], mine.length);
  // Its own backlog is far under the limit, but the shared thread is 40 MiB behind.
  let released = false;
  const wait = small.whenBacklogAtMost(64 * MiB).then(() => {
    released = true;
  });
  // Replies from the thread arrive as events, never between microtasks: without the cap the
  // wait would be over after these ticks.
  for (let tick = 0; tick < 5; tick++) await Promise.resolve();
  assert.equal(released, false, 'the small upload is held back while the thread is over its cap');
  await wait;
  assert.equal(await small.digest(), sha256(mine));
  assert.equal(await flood.digest(), sha256(big));
});

test('hash threads: a thread that dies mid-upload fails that upload (retryable) and the next upload gets a new thread', async () => {
  await using threads = new HashThreads({ threads: 1, threadScript: new URL('./fixtures/dying-hash-thread.js', import.meta.url) });
  const doomed = threads.start();
  doomed.update([randomBytes(MiB)], MiB);
  const poison = Buffer.from([0xde, 0xad]);
  doomed.update([poison], poison.length);
  await assert.rejects(doomed.digest(), (error: unknown) => hasCode('WARDEN_ERR_STORE_HASH_THREAD')(error) && (error as StoreError).retryable);
  doomed.discard();
  const next = threads.start();
  const body = Buffer.from('after the crash');
  next.update([body], body.length);
  assert.equal(await next.digest(), sha256(body));
});

test('hash threads: close fails uploads still hashing and refuses new ones; bad thread counts are refused', async () => {
  const threads = new HashThreads({ threads: 1 });
  const pending = threads.start();
  pending.update([randomBytes(MiB)], MiB);
  const waiting = assert.rejects(pending.whenBacklogAtMost(-1), hasCode('WARDEN_ERR_STORE_CLOSED'));
  await threads.close();
  await waiting;
  assert.throws(() => threads.start(), hasCode('WARDEN_ERR_STORE_CLOSED'));
  await threads.close();
  for (const bad of [-1, 1.5, 65, Number.NaN]) assert.throws(() => new HashThreads({ threads: bad }), hasCode('WARDEN_ERR_STORE_INVALID_OPTIONS'));
  assert.ok(HashThreads.defaultThreads() >= 0 && HashThreads.defaultThreads() <= 4);
});

test('receiveToFile on hash threads: what is hashed is what was written, small bodies included', async () => {
  await using tmp = await makeTmpDir();
  await using threads = new HashThreads({ threads: 1 });
  for (const [i, size] of [0, 1000, MiB, 20 * MiB + 3].entries()) {
    const body = randomBytes(size);
    const path = join(tmp.path, `f${i}`);
    async function* arrive(): AsyncGenerator<Buffer> {
      yield* views(body);
    }
    const result = await receiveToFile(arrive(), path, { maxBytes: 64 * MiB, hashThreads: threads });
    assert.deepEqual(result, { sha256: sha256(body), size });
  }
});
