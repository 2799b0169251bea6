/**
 * GET/HEAD of a version or an alias: strong ETag (the sha256), If-None-Match → 304, a single
 * Range → 206 (416 when unsatisfiable), small hot files from memory, large ones streamed from
 * a descriptor opened with O_NOFOLLOW, with back-pressure.
 */
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedVersion } from '../file-cache.js';
import type { Exchange, ServerContext } from '../context.js';
import { noneMatch, parseRange } from '../range.js';
import { sendError } from '../respond.js';

const STREAM_CHUNK = 256 * 1024;

/** Serves OWNER/NAME/VERSION, or the version an alias points to when `alias` is given. */
export async function readFile(ctx: ServerContext, ex: Exchange, owner: string, name: string, version: string | undefined, alias?: string): Promise<void> {
  const resolved = version ?? (await ctx.cache.resolveAlias(owner, name, alias ?? ''));
  let entry = ctx.cache.peek(owner, name, resolved);
  if (entry) ctx.metrics.cacheHits.inc();
  else {
    ctx.metrics.cacheMisses.inc();
    entry = await ctx.cache.load(owner, name, resolved);
  }
  await send(ctx, ex, owner, name, entry, alias !== undefined);
}

/**
 * Answers a plain GET/HEAD (no Range, no If-None-Match match) of a cached small file
 * synchronously, writing the request id into the precomputed head. Returns false when the
 * request needs the general path.
 */
export function sendFromMemory(req: IncomingMessage, res: ServerResponse, entry: CachedVersion, viaAlias: boolean, id: string): boolean {
  if (entry.body === undefined || req.headers.range !== undefined) return false;
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && noneMatch(inm, entry.etag)) return false;
  const head = viaAlias ? entry.full200.alias : entry.full200.version;
  head[head.length - 1] = id;
  res.writeHead(200, head);
  res.end(req.method === 'HEAD' ? undefined : entry.body);
  return true;
}

async function send(ctx: ServerContext, ex: Exchange, owner: string, name: string, entry: CachedVersion, viaAlias: boolean): Promise<void> {
  const { req, res } = ex;
  const headers = viaAlias ? entry.aliasHeaders : entry.versionHeaders;
  if (noneMatch(req.headers['if-none-match'], entry.etag)) {
    res.writeHead(304, headers as string[]);
    res.end();
    return;
  }
  const size = entry.meta.size;
  let start = 0;
  let end = size - 1;
  let status = 200;
  const rangeHeader = req.headers.range;
  if (rangeHeader !== undefined && (req.headers['if-range'] === undefined || req.headers['if-range'] === entry.etag)) {
    const range = parseRange(rangeHeader, size);
    if (range === 'unsatisfiable') {
      sendError(res, 'WARDEN_ERR_HTTP_RANGE_NOT_SATISFIABLE', `range not satisfiable for ${size} bytes`, { 'Content-Range': `bytes */${size}` });
      return;
    }
    if (range) {
      ({ start, end } = range);
      status = 206;
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  const out = status === 206 ? [...headers, 'Content-Range', `bytes ${start}-${end}/${size}`, 'Content-Length', String(length)] : [...headers, 'Content-Length', String(length)];
  if (req.method === 'HEAD' || length === 0) {
    res.writeHead(status, out);
    res.end();
    return;
  }
  if (entry.body) {
    res.writeHead(status, out);
    res.end(status === 206 ? entry.body.subarray(start, end + 1) : entry.body);
    ctx.metrics.bytesOut.inc(length);
    return;
  }
  const opened = await ctx.store.openVersion(owner, name, entry.meta.version);
  if (opened.meta.sha256 !== entry.meta.sha256) {
    // Deleted and re-published by another node since we cached it: drop and retry once.
    await opened.handle.close();
    ctx.cache.invalidate('version', owner, name, entry.meta.version);
    const fresh = await ctx.cache.load(owner, name, entry.meta.version);
    return await send(ctx, ex, owner, name, fresh, viaAlias);
  }
  res.writeHead(status, out);
  try {
    await streamRange(opened.handle, res, start, end, (n) => ctx.metrics.bytesOut.inc(n));
  } catch (error) {
    // The client went away or the file failed mid-way: nothing more can be answered.
    ex.log.debug({ err: error }, 'download interrupted');
    res.destroy();
  } finally {
    await opened.handle.close();
  }
}

/**
 * Copies bytes `start..end` (inclusive) of a descriptor to the response with two reusable
 * buffers: one is read while the other is being written, and a buffer is only refilled once
 * the socket has taken it. Memory stays at two chunks whatever the file size, and a slow
 * client slows the reads (back-pressure) instead of growing buffers.
 */
async function streamRange(handle: FileHandle, res: ServerResponse, start: number, end: number, sent: (n: number) => void): Promise<void> {
  const buffers = [Buffer.allocUnsafe(STREAM_CHUNK), Buffer.allocUnsafe(STREAM_CHUNK)];
  const writes: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  let closed = false;
  let onClose!: () => void;
  // A destroyed socket may never call back pending writes: 'close' ends the wait instead.
  const gone = new Promise<never>((_, reject) => {
    onClose = () => {
      closed = true;
      reject(new Error('client closed the connection'));
    };
  });
  gone.catch(() => undefined);
  res.once('close', onClose);
  try {
    let position = start;
    for (let i = 0; position <= end; i ^= 1) {
      await Promise.race([writes[i], gone]);
      if (closed) throw new Error('client closed the connection');
      const buffer = buffers[i]!;
      const { bytesRead } = await handle.read(buffer, 0, Math.min(STREAM_CHUNK, end - position + 1), position);
      if (bytesRead === 0) throw new Error('file shorter than its metadata');
      position += bytesRead;
      const last = position > end;
      writes[i] = new Promise<void>((resolve, reject) => {
        const done = (error?: Error | null): void => (error ? reject(error) : resolve());
        if (last) res.end(buffer.subarray(0, bytesRead), done);
        else res.write(buffer.subarray(0, bytesRead), done);
      });
      writes[i]!.catch(() => undefined);
      sent(bytesRead);
      if (closed) throw new Error('client closed the connection');
    }
    await Promise.race([Promise.all(writes), gone]);
  } catch (error) {
    if (!res.writableFinished) throw error;
  } finally {
    res.off('close', onClose);
  }
}
