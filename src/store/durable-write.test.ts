import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTmpDir } from '../testing/index.js';
import { receiveToFile } from './durable-write.js';
import { StoreError } from './errors.js';

const MiB = 1024 * 1024;

/** Yields `bytes` in uneven pieces (like socket reads), optionally failing after `failAfter` bytes. */
async function* pieces(bytes: Buffer, failAfter = Infinity): AsyncGenerator<Buffer> {
  const sizes = [65536, 1000, 300_000, 7, 1 << 20];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    if (offset >= failAfter) throw Object.assign(new Error('peer went away'), { code: 'ECONNRESET' });
    const size = sizes[i % sizes.length] ?? 65536;
    yield bytes.subarray(offset, offset + size);
    offset += size;
    // Let the background writes and flushes interleave with the arrival of the next piece.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const openDescriptors = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

test('receiveToFile: a body spanning several background flushes arrives whole, hashed and read-only', async () => {
  await using tmp = await makeTmpDir();
  const body = randomBytes(40 * MiB + 12345);
  const path = join(tmp.path, 'upload.data');
  const result = await receiveToFile(pieces(body), path, { maxBytes: 64 * MiB });
  assert.equal(result.size, body.length);
  assert.equal(result.sha256, createHash('sha256').update(body).digest('hex'));
  assert.ok((await readFile(path)).equals(body), 'file content equals the body');
  assert.equal((await stat(path)).mode & 0o777, 0o444);
});

test('receiveToFile: failing or oversized after background flushes started → coded error, no descriptor left open', async () => {
  await using tmp = await makeTmpDir();
  const body = randomBytes(30 * MiB);
  const before = await openDescriptors();
  await assert.rejects(
    receiveToFile(pieces(body, 20 * MiB), join(tmp.path, 'cut.data'), { maxBytes: 64 * MiB }),
    (error: unknown) => error instanceof StoreError && error.code === 'WARDEN_ERR_STORE_UPLOAD_ABORTED',
  );
  await assert.rejects(
    receiveToFile(pieces(body), join(tmp.path, 'big.data'), { maxBytes: 25 * MiB }),
    (error: unknown) => error instanceof StoreError && error.code === 'WARDEN_ERR_STORE_TOO_LARGE',
  );
  assert.equal(await openDescriptors(), before, 'every file handle was closed');
});
