/**
 * PUT of a version: the body streams into the store (back-pressure, sha256 as it goes, size
 * limit enforced as bytes arrive, 413 at once when Content-Length already says too much);
 * 201 new, 200 identical re-publish, 409 different content. DELETE of a version: 204, 409 when
 * an alias points to it unless `?force=true` (which needs the admin scope).
 */
import { chooseContentType, StoreError } from 'warden/store';
import { authorize, type Exchange, type ServerContext } from '../context.js';
import { queryParam } from '../parse-path.js';
import { sendError, sendJson } from '../respond.js';

/** Header carrying the client's sha256 (64 hex digits) of the upload. */
export const SHA256_HEADER = 'x-warden-sha256';

/** Handles PUT /v1/files/OWNER/NAME/VERSION. */
export async function writeFile(ctx: ServerContext, ex: Exchange, owner: string, name: string, version: string): Promise<void> {
  const { req, res } = ex;
  if (!authorize(ctx, ex, 'write', owner)) return;
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > ctx.maxUploadBytes) {
    res.shouldKeepAlive = false;
    sendError(res, 'WARDEN_ERR_STORE_TOO_LARGE', `upload of ${declared} bytes exceeds the limit of ${ctx.maxUploadBytes}`, { Connection: 'close' });
    return;
  }
  const announced = req.headers[SHA256_HEADER];
  let sha256: string | undefined;
  if (announced !== undefined) {
    sha256 = String(announced).trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      res.shouldKeepAlive = false;
      sendError(res, 'WARDEN_ERR_HTTP_BAD_REQUEST', `${SHA256_HEADER} must be 64 hex digits`, { Connection: 'close' });
      return;
    }
  }
  const contentType = chooseContentType(req.headers['content-type'], version, name);
  try {
    const result = await ctx.store.publish(owner, name, version, req, { contentType, ...(sha256 ? { sha256 } : {}) });
    ctx.metrics.publishes.inc({ result: result.status });
    ctx.metrics.bytesIn.inc(result.meta.size);
    ex.log.info({ owner, name, version, size: result.meta.size, sha256: result.meta.sha256, result: result.status }, 'publish');
    sendJson(res, result.status === 'created' ? 201 : 200, { owner, name, ...result.meta }, {
      ETag: `"${result.meta.sha256}"`,
      Location: `/v1/files/${owner}/${name}/${version}`,
    });
  } catch (error) {
    ctx.metrics.publishes.inc({ result: 'failed' });
    // The body was not (fully) read: do not try to reuse the connection.
    if (!req.complete) {
      res.shouldKeepAlive = false;
      res.setHeader('Connection', 'close');
    }
    if (error instanceof StoreError && error.code === 'WARDEN_ERR_STORE_UPLOAD_ABORTED' && (req.destroyed || res.destroyed)) {
      ex.log.info({ owner, name, version }, 'upload aborted by client; nothing kept');
      return;
    }
    throw error;
  }
}

/** Handles DELETE /v1/files/OWNER/NAME/VERSION[?force=true]. */
export async function deleteVersion(ctx: ServerContext, ex: Exchange, owner: string, name: string, version: string, query: string): Promise<void> {
  const force = queryParam(query, 'force');
  if (force !== undefined && force !== 'true' && force !== 'false') {
    sendError(ex.res, 'WARDEN_ERR_HTTP_BAD_REQUEST', 'force must be true or false');
    return;
  }
  const forced = force === 'true';
  if (!authorize(ctx, ex, forced ? 'admin' : 'write', owner)) return;
  await ctx.store.deleteVersion(owner, name, version, { force: forced });
  ex.log.info({ owner, name, version, forced }, 'version deleted');
  ex.res.writeHead(204);
  ex.res.end();
}
