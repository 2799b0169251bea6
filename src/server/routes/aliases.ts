/**
 * PUT of an alias (`{"version": "…"}`), atomically swapped, with `If-Match` as
 * compare-and-set on the ETag of the version it points to now (`*`: it must exist) and
 * `If-None-Match: *` for "create only"; DELETE of an alias.
 */
import type { VersionMeta } from 'warden/store';
import { authorize, type Exchange, type ServerContext } from '../context.js';
import { matches } from '../range.js';
import { sendError, sendJson } from '../respond.js';

const MAX_BODY = 4096;

async function readSmallBody(ex: Exchange): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ex.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function precondition(ex: Exchange): ((current: VersionMeta | null) => boolean) | undefined {
  const ifMatch = ex.req.headers['if-match'];
  const ifNoneMatch = ex.req.headers['if-none-match'];
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return (current) => {
    const etag = current === null ? null : `"${current.sha256}"`;
    if (ifMatch !== undefined && !matches(ifMatch, etag)) return false;
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() === '*' && current !== null) return false;
    return true;
  };
}

/** Handles PUT /v1/files/OWNER/NAME/@ALIAS. */
export async function putAlias(ctx: ServerContext, ex: Exchange, owner: string, name: string, alias: string): Promise<void> {
  if (!authorize(ctx, ex, 'write', owner)) return;
  const text = await readSmallBody(ex);
  let version: unknown;
  try {
    version = text === undefined ? undefined : (JSON.parse(text) as { version?: unknown } | null)?.version;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string') {
    sendError(ex.res, 'WARDEN_ERR_HTTP_BAD_REQUEST', 'body must be JSON {"version": "<version>"} (at most 4 KiB)');
    return;
  }
  const ifMatch = precondition(ex);
  const { previous, meta } = await ctx.store.setAlias(owner, name, alias, version, ifMatch ? { ifMatch } : {});
  ex.log.info({ owner, name, alias, version, previous }, 'alias moved');
  sendJson(ex.res, previous === null ? 201 : 200, { owner, name, alias, version, previous, sha256: meta.sha256 }, {
    ETag: `"${meta.sha256}"`,
    'Content-Location': `/v1/files/${owner}/${name}/${version}`,
  });
}

/** Handles DELETE /v1/files/OWNER/NAME/@ALIAS. */
export async function deleteAlias(ctx: ServerContext, ex: Exchange, owner: string, name: string, alias: string): Promise<void> {
  if (!authorize(ctx, ex, 'write', owner)) return;
  const ifMatch = precondition(ex);
  await ctx.store.deleteAlias(owner, name, alias, ifMatch ? { ifMatch } : {});
  ex.log.info({ owner, name, alias }, 'alias deleted');
  ex.res.writeHead(204);
  ex.res.end();
}

/** Handles GET /v1/files/OWNER/NAME: versions and aliases as JSON. */
export async function listName(ctx: ServerContext, ex: Exchange, owner: string, name: string): Promise<void> {
  if (!authorize(ctx, ex, 'read', owner)) return;
  const [versions, aliases] = await Promise.all([ctx.store.listVersions(owner, name), ctx.store.listAliases(owner, name)]);
  if (versions.length === 0 && aliases.length === 0) {
    sendError(ex.res, 'WARDEN_ERR_STORE_NOT_FOUND', `${owner}/${name}: nothing published`);
    return;
  }
  for (const a of aliases) if (a.error) ex.log.error({ owner, name, alias: a.alias, code: a.error }, 'corrupt alias');
  sendJson(ex.res, 200, {
    owner,
    name,
    versions: versions.map((v) => ({ version: v.version, size: v.size, sha256: v.sha256, contentType: v.contentType, createdAt: v.createdAt })),
    aliases,
  });
}
