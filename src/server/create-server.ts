/**
 * The HTTP app, from a factory that does not listen (the CLI listens). Dispatches on the
 * parsed target, authenticates, answers errors as JSON with the code → status table, counts
 * metrics, logs with request ids, and shuts down in the documented order (docs/shutdown.md).
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { StoreError, type Store } from 'warden/store';
import { Authenticator } from './auth.js';
import { authorize, type Exchange, type ServerContext } from './context.js';
import { ServerError } from './errors.js';
import { FileCache, type FileCacheOptions } from './file-cache.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { parseTarget, type Route } from './parse-path.js';
import { errorCodeOf, sendError, sendJson } from './respond.js';
import { deleteAlias, listName, putAlias } from './routes/aliases.js';
import { readFile } from './routes/read-file.js';
import { deleteVersion, writeFile } from './routes/write-file.js';

/** The cluster table `/v1/cluster` answers; single node by default. */
export interface ClusterView {
  readonly node: string;
  readonly members: ReadonlyArray<{ readonly id: string; readonly url: string | null; readonly [k: string]: unknown }>;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly leader: string | null; readonly fencingToken: string | null }>;
}

/** Collaborators and options of {@link createServer}. */
export interface ServerDeps {
  /** The store to serve (the server does not close it unless `closeStore`). */
  store: Store;
  /** Logger. Default: pino NDJSON to stdout at level info. */
  logger?: Logger;
  /** Token checker. Default: no tokens (every write is refused with 401). */
  auth?: Authenticator;
  /** Require a read-scoped token for reads too. Default false. */
  readAuth?: boolean;
  /** Metrics. Default: a fresh registry with process metrics. */
  metrics?: ServerMetrics;
  /** Memory cache options. */
  cache?: FileCacheOptions;
  /** How long `close()` waits for in-flight requests before cutting them, in ms. Default 30000. */
  drainTimeoutMs?: number;
  /** Close the store at the end of `close()`. Default false. */
  closeStore?: boolean;
  /** Answers `/v1/cluster`. Default: this node (`store.nodeId`) leads partition 0. */
  cluster?: () => ClusterView;
}

/** A Warden HTTP server (not listening until the caller listens on `server`). */
export interface WardenServer extends AsyncDisposable {
  /** The node:http server; call `listen` on it. */
  readonly server: Server;
  readonly metrics: ServerMetrics;
  readonly cache: FileCache;
  /** True once `close()` started: readiness fails and new requests get 503. */
  readonly closing: boolean;
  /** Requests being handled now. */
  readonly inFlight: number;
  /**
   * Shuts down gracefully: readiness fails and new requests get 503 → in-flight requests
   * drain (up to `drainTimeoutMs`) → connections close → the store closes (if owned) → logs
   * flush. Idempotent.
   */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Creates the app over a store. Does not listen. */
export function createServer(deps: ServerDeps): WardenServer {
  const log = deps.logger ?? pino({ base: { node: deps.store.nodeId } });
  const metrics = deps.metrics ?? createMetrics();
  const cache = new FileCache(deps.store, deps.cache);
  const unsubscribe = deps.store.subscribe((change) => cache.invalidate(change.kind, change.owner, change.name, change.key));
  const ctx: ServerContext = {
    store: deps.store,
    cache,
    auth: deps.auth ?? new Authenticator([]),
    readAuth: deps.readAuth ?? false,
    metrics,
    log,
    maxUploadBytes: deps.store.maxUploadBytes,
  };
  const cluster =
    deps.cluster ??
    ((): ClusterView => ({ node: deps.store.nodeId, members: [{ id: deps.store.nodeId, url: null }], partitions: [{ partition: 0, leader: deps.store.nodeId, fencingToken: 'local-1' }] }));
  const idPrefix = `${randomBytes(3).toString('hex')}-`;
  let counter = 0;
  let inFlight = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const server = createHttpServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => {
    inFlight++;
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : idPrefix + (++counter).toString(36);
    res.setHeader('X-Request-Id', id);
    const { route, query } = parseTarget(req.url ?? '');
    res.once('close', () => {
      inFlight--;
      const seconds = (performance.now() - started) / 1000;
      const code = errorCodeOf(res);
      metrics.requests.inc({ method: req.method ?? '', route: route.kind, status: res.statusCode });
      metrics.duration.observe({ route: route.kind }, seconds);
      if (code) metrics.errors.inc({ code });
      // Successful reads are the hot path: logged at debug only; everything else at info.
      const level = res.statusCode >= 500 ? 'error' : (req.method === 'GET' || req.method === 'HEAD') && res.statusCode < 400 ? 'debug' : 'info';
      if (log.isLevelEnabled(level)) {
        log[level]({ reqId: id, method: req.method, url: req.url, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10, code, aborted: !res.writableFinished }, 'request');
      }
      if (inFlight === 0 && drained) drained();
    });
    if (closing) {
      res.shouldKeepAlive = false;
      sendError(res, 'WARDEN_ERR_HTTP_CLOSING', 'server is shutting down', { 'Retry-After': '1', Connection: 'close' });
      return;
    }
    const ex: Exchange = { req, res, id, log };
    dispatch(ex, route, query).catch((error: unknown) => fail(ex, error));
  });
  server.on('clientError', (error, socket) => {
    // Requests node:http cannot even parse (NUL, spaces, bad bytes in the target): plain 400.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
    log.debug({ err: { code: (error as NodeJS.ErrnoException).code } }, 'unparsable request');
  });

  function fail(ex: Exchange, error: unknown): void {
    if (error instanceof StoreError || error instanceof ServerError) {
      if (error.code === 'WARDEN_ERR_STORE_CORRUPT_ALIAS' || error.code === 'WARDEN_ERR_STORE_CORRUPT_METADATA' || error.code === 'WARDEN_ERR_STORE_UNSAFE_PATH' || error.code === 'WARDEN_ERR_STORE_IO') {
        ex.log.error({ reqId: ex.id, code: error.code, err: error }, error.message);
      }
      const headers: Record<string, string> = error.retryable || error.code === 'WARDEN_ERR_STORE_NOT_WRITER' ? { 'Retry-After': '1' } : {};
      if (!ex.req.complete) {
        ex.res.shouldKeepAlive = false;
        headers.Connection = 'close';
      }
      // Corrupt aliases are reported with their code; the link text stays in the log only.
      const message = error.code === 'WARDEN_ERR_STORE_CORRUPT_ALIAS' ? 'alias is corrupt; not followed' : error.message.replace(deps.store.root, 'DATA');
      sendError(ex.res, error.code, message, headers);
      return;
    }
    ex.log.error({ reqId: ex.id, err: error }, 'unexpected error');
    sendError(ex.res, 'WARDEN_ERR_HTTP_INTERNAL', `internal error (request id ${ex.id})`);
  }

  async function dispatch(ex: Exchange, route: Route, query: string): Promise<void> {
    const method = ex.req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    switch (route.kind) {
      case 'version':
        if (read) {
          if (!authorize(ctx, ex, 'read', route.owner)) return;
          return await readFile(ctx, ex, route.owner, route.name, route.version);
        }
        if (method === 'PUT') return await writeFile(ctx, ex, route.owner, route.name, route.version);
        if (method === 'DELETE') return await deleteVersion(ctx, ex, route.owner, route.name, route.version, query);
        return notAllowed(ex, 'GET, HEAD, PUT, DELETE');
      case 'alias':
        if (read) {
          if (!authorize(ctx, ex, 'read', route.owner)) return;
          return await readFile(ctx, ex, route.owner, route.name, undefined, route.alias);
        }
        if (method === 'PUT') return await putAlias(ctx, ex, route.owner, route.name, route.alias);
        if (method === 'DELETE') return await deleteAlias(ctx, ex, route.owner, route.name, route.alias);
        return notAllowed(ex, 'GET, HEAD, PUT, DELETE');
      case 'list':
        if (!read) return notAllowed(ex, 'GET, HEAD');
        return await listName(ctx, ex, route.owner, route.name);
      case 'healthz':
        return sendJson(ex.res, 200, { status: 'ok' });
      case 'readyz':
        return sendJson(ex.res, 200, { status: 'ready' });
      case 'metrics': {
        const text = await metrics.registry.metrics();
        ex.res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
        ex.res.end(text);
        return;
      }
      case 'cluster':
        if (!read) return notAllowed(ex, 'GET, HEAD');
        return sendJson(ex.res, 200, cluster());
      case 'bad':
        return sendError(ex.res, 'WARDEN_ERR_HTTP_BAD_PATH', route.message);
      case 'none':
        return sendError(ex.res, 'WARDEN_ERR_HTTP_NOT_FOUND', 'no such route');
    }
  }

  function notAllowed(ex: Exchange, allow: string): void {
    sendError(ex.res, 'WARDEN_ERR_HTTP_METHOD_NOT_ALLOWED', `${ex.req.method} not allowed here`, { Allow: allow });
  }

  async function close(): Promise<void> {
    closing = true;
    log.info({ inFlight }, 'shutdown: readiness fails, new requests get 503');
    if (inFlight > 0) {
      const done = new Promise<void>((resolve) => (drained = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deps.drainTimeoutMs ?? 30_000)));
      const outcome = await Promise.race([done, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') log.warn({ inFlight }, 'shutdown: drain timed out; cutting connections');
    }
    log.info('shutdown: in-flight requests drained; closing connections');
    if (server.listening) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    }
    unsubscribe();
    if (deps.closeStore) await deps.store.close();
    log.info('shutdown: done');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  }

  return {
    server,
    metrics,
    cache,
    get closing() {
      return closing;
    },
    get inFlight() {
      return inFlight;
    },
    close: () => (closed ??= close()),
    [Symbol.asyncDispose]: () => (closed ??= close()),
  };
}

/** Re-exported so callers can type request handlers. */
export type { IncomingMessage, ServerResponse };
