/**
 * Durable writes: stream a body into a new read-only temp file while hashing it, with the size
 * limit enforced as bytes arrive, then fsync; and small whole-file writes the same way.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StoreError } from './errors.js';
import { inlineHash, type HashThreads, type UploadHash } from './hash-offload.js';

const WRITE_BATCH = 1024 * 1024;
/**
 * Flush written data every this many bytes while the upload is still arriving, so the disk
 * works during the upload instead of after it and the final fsync waits for the tail only
 * (256 MiB upload: final fsync ~140 ms → ~5 ms; see bench/serve).
 */
const FLUSH_EVERY = 8 * 1024 * 1024;
/** Bytes written but not yet hashed before receiving pauses (hash threads only; see also their shared cap). */
const MAX_HASH_BACKLOG = 4 * 1024 * 1024;

/**
 * Streams `body` into a new file at `path` (created 0444, `O_EXCL | O_NOFOLLOW`), hashing it;
 * fsyncs before resolving. Throws `WARDEN_ERR_STORE_TOO_LARGE` as soon as more than `maxBytes`
 * arrived and `WARDEN_ERR_STORE_UPLOAD_ABORTED` when the stream fails; the caller removes the file.
 */
export async function receiveToFile(
  body: AsyncIterable<Buffer> | Readable,
  path: string,
  options: { maxBytes: number; signal?: AbortSignal | undefined; hashThreads?: HashThreads | undefined },
): Promise<{ sha256: string; size: number }> {
  const { maxBytes, signal } = options;
  // Chosen at the first full batch: an upload smaller than one batch is hashed inline.
  let hash: UploadHash | undefined;
  let size = 0;
  // Read-only from birth: the descriptor may still write, nobody else can.
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o444);
  // One batch is written while the next is received and hashed: disk and network overlap.
  let writing: Promise<void> | undefined;
  // At most one background flush at a time; awaited (and its error raised) before the end.
  let flushing: Promise<void> | undefined;
  let flushed = true;
  let unflushed = 0;
  try {
    let batch: Buffer[] = [];
    let batched = 0;
    // Do not destroy the request when we stop early (413): the server still answers on it.
    const readable = body as Readable;
    const chunks: AsyncIterable<Buffer> = typeof readable.iterator === 'function' ? readable.iterator({ destroyOnReturn: false }) : body;
    for await (const chunk of chunks) {
      signal?.throwIfAborted();
      size += chunk.length;
      if (size > maxBytes) {
        throw new StoreError('WARDEN_ERR_STORE_TOO_LARGE', `upload exceeds ${maxBytes} bytes`);
      }
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= WRITE_BATCH) {
        hash ??= options.hashThreads?.start() ?? inlineHash();
        await writing;
        writing = writeAndHash(handle, batch, batched, hash);
        writing.catch(() => undefined);
        unflushed += batched;
        batch = [];
        batched = 0;
        // While the previous flush still runs the disk is the limit: let the next one wait.
        if (unflushed >= FLUSH_EVERY && flushed) {
          await flushing; // settled already; raises its error, if any
          flushed = false;
          flushing = writing.then(() => handle.datasync()).finally(() => {
            flushed = true;
          });
          flushing.catch(() => undefined);
          unflushed = 0;
        }
        await hash.whenBacklogAtMost(MAX_HASH_BACKLOG);
      }
    }
    signal?.throwIfAborted();
    hash ??= inlineHash();
    await writing;
    if (batch.length > 0) await writeAndHash(handle, batch, batched, hash);
    await flushing;
    await handle.sync();
    return { sha256: await hash.digest(), size };
  } catch (error) {
    hash?.discard();
    if (error instanceof StoreError) throw error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === undefined || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR') {
      throw new StoreError('WARDEN_ERR_STORE_UPLOAD_ABORTED', 'upload ended before completion', { cause: error });
    }
    throw error;
  } finally {
    await writing?.catch(() => undefined);
    await flushing?.catch(() => undefined);
    await handle.close();
  }
}

/** Writes a batch, then hands the written bytes to the hash: what is hashed is what was written. */
async function writeAndHash(handle: FileHandle, batch: Buffer[], total: number, hash: UploadHash): Promise<void> {
  await writeAll(handle, batch);
  hash.update(batch, total);
}

/** Writes every byte of `chunks` (writev may write less than asked). */
export async function writeAll(handle: FileHandle, chunks: Buffer[]): Promise<void> {
  let pending = chunks;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    let left = bytesWritten;
    const rest: Buffer[] = [];
    for (const chunk of pending) {
      if (left >= chunk.length) {
        left -= chunk.length;
      } else {
        rest.push(left > 0 ? chunk.subarray(left) : chunk);
        left = 0;
      }
    }
    pending = rest;
  }
}

/** Writes `bytes` to a new read-only file at `path` and fsyncs it. */
export async function writeDurable(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o444);
  try {
    await writeAll(handle, [bytes]);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
