/**
 * GET/HEAD of a version or an alias: strong ETag (the sha256), If-None-Match → 304, a single
 * Range → 206 (416 when unsatisfiable), small hot files from memory, large ones streamed from
 * a descriptor opened with O_NOFOLLOW, with back-pressure.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
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
  const stream = createReadStream('', { fd: opened.handle, start, end, highWaterMark: STREAM_CHUNK, autoClose: true });
  stream.on('data', (chunk) => ctx.metrics.bytesOut.inc(chunk.length));
  try {
    await pipeline(stream, res);
  } catch (error) {
    // The client went away: nothing to answer; the descriptor is closed by the stream.
    ex.log.debug({ err: error }, 'download interrupted');
  }
}
