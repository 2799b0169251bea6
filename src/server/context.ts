/** What every route handler gets: the server's collaborators and per-request helpers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Store } from 'warden/store';
import type { Authenticator, Scope } from './auth.js';
import type { FileCache } from './file-cache.js';
import type { ServerMetrics } from './metrics.js';
import { sendError } from './respond.js';

/** Shared state of one server. */
export interface ServerContext {
  readonly store: Store;
  readonly cache: FileCache;
  readonly auth: Authenticator;
  readonly readAuth: boolean;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly maxUploadBytes: number;
}

/** One request being handled. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly id: string;
  readonly log: Logger;
}

/**
 * Checks the bearer token for `scope` on `owner`; on failure answers 401/403 and returns
 * false. Reads pass without a token unless the server runs with `--read-auth`.
 */
export function authorize(ctx: ServerContext, ex: Exchange, scope: Scope, owner: string | undefined): boolean {
  if (scope === 'read' && !ctx.readAuth) return true;
  const result = ctx.auth.check(ex.req.headers.authorization, scope, owner);
  if (result.ok) return true;
  const headers: Record<string, string> = result.code === 'WARDEN_ERR_AUTH_FORBIDDEN' ? {} : { 'WWW-Authenticate': 'Bearer realm="warden"' };
  sendError(ex.res, result.code, result.message, headers);
  return false;
}
