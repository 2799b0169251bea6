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
import { FORWARDED_HEADER, Forwarder, sendNoLeader, type WriteRouter } from './forward.js';
import { parseTarget, type Route } from './parse-path.js';
import { drainUnwantedBody, errorCodeOf, sendError, sendJson } from './respond.js';
import { deleteAlias, listName, putAlias } from './routes/aliases.js';
import { readFile, sendFromMemory } from './routes/read-file.js';
import { deleteVersion, writeFile } from './routes/write-file.js';

/** The cluster table `/v1/cluster` answers; single node by default. */
export interface ClusterView {
  readonly node: string;
  readonly members: ReadonlyArray<{ readonly id: string; readonly url: string | null; readonly [k: string]: unknown }>;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly leader: string | null; readonly fencingToken: string | null }>;
  /** etcd endpoints and health (cluster mode). */
  readonly etcd?: { readonly endpoints: readonly string[]; readonly healthy: boolean };
}

/** What `/readyz` answers: ready, or not with a one-line reason. */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

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
  /**
   * Routes writes (cluster mode): local, forwarded to the partition leader, or 503. Default:
   * every write is local. A request carrying `X-Warden-Forwarded` is never forwarded again.
   */
  writeRouter?: WriteRouter;
  /** Readiness beyond "not closing" (cluster mode: the session is live). Default: ready. */
  readiness?: () => Readiness;
  /** Runs right after readiness fails, before in-flight requests drain (cluster: partitions resign). */
  onClosing?: () => Promise<void>;
  /** Runs after connections closed, before the store closes (cluster: the session closes). */
  onDrained?: () => Promise<void>;
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
  const router = deps.writeRouter;
  const forwarder = router ? new Forwarder({ nodeId: deps.store.nodeId }) : undefined;
  const idPrefix = `${randomBytes(3).toString('hex')}-`;
  let counter = 0;
  let inFlight = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  // Bound metric children, so the hot path does not hash label sets on every request.
  const requestCounters = new Map<string, { inc(): void }>();
  const durations = new Map<string, { observe(v: number): void }>();
  function account(method: string, kind: string, status: number, seconds: number, code: string | undefined): void {
    const key = `${method} ${kind} ${status}`;
    let counter = requestCounters.get(key);
    if (!counter) requestCounters.set(key, (counter = metrics.requests.labels({ method, route: kind, status })));
    counter.inc();
    let histogram = durations.get(kind);
    if (!histogram) durations.set(kind, (histogram = metrics.duration.labels({ route: kind })));
    histogram.observe(seconds);
    if (code) metrics.errors.inc({ code });
  }

  const server = createHttpServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : idPrefix + (++counter).toString(36);
    const { route, query } = parseTarget(req.url ?? '');
    const method = req.method ?? '';
    // Hot path: a public GET/HEAD of a small cached file is answered synchronously.
    if (!closing && !ctx.readAuth && (method === 'GET' || method === 'HEAD') && (route.kind === 'version' || route.kind === 'alias')) {
      const version = route.kind === 'version' ? route.version : cache.peekAlias(route.owner, route.name, route.alias);
      const entry = version === undefined ? undefined : cache.peek(route.owner, route.name, version);
      let sent = false;
      try {
        sent = entry !== undefined && sendFromMemory(req, res, entry, route.kind === 'alias', id);
      } catch (error) {
        // Never let a throw escape the listener (it would end the process); the slow path answers.
        log.error({ reqId: id, err: error }, 'memory answer failed');
        if (res.headersSent) return void res.destroy();
      }
      if (entry && sent) {
        metrics.cacheHits.inc();
        if (entry.body) metrics.bytesOut.inc(method === 'HEAD' ? 0 : entry.body.length);
        account(method, route.kind, 200, (performance.now() - started) / 1000, undefined);
        if (log.isLevelEnabled('debug')) log.debug({ reqId: id, method, url: req.url, status: 200 }, 'request');
        return;
      }
    }
    inFlight++;
    res.setHeader('X-Request-Id', id);
    res.once('close', () => {
      inFlight--;
      const seconds = (performance.now() - started) / 1000;
      const code = errorCodeOf(res);
      account(method, route.kind, res.statusCode, seconds, code);
      // Successful reads are the hot path: logged at debug only; everything else at info.
      const level = res.statusCode >= 500 ? 'error' : (method === 'GET' || method === 'HEAD') && res.statusCode < 400 ? 'debug' : 'info';
      if (log.isLevelEnabled(level)) {
        log[level]({ reqId: id, method, url: req.url, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10, code, aborted: !res.writableFinished }, 'request');
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
  // `Expect: 100-continue`: the routes that read a body send 100 only once auth and size
  // checks passed, so a refused upload is refused before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    (req as IncomingMessage & { wardenExpectsContinue?: boolean }).wardenExpectsContinue = true;
    server.emit('request', req, res);
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
      drainUnwantedBody(ex.req);
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
    if (router && !read && (route.kind === 'version' || route.kind === 'alias') && (method === 'PUT' || method === 'DELETE')) {
      const decision = router(route.owner);
      const forwardedBy = ex.req.headers[FORWARDED_HEADER];
      if (decision.kind === 'unavailable') return sendNoLeader(ex, `no leader for ${route.owner} now: ${decision.reason}`);
      if (decision.kind === 'forward') {
        if (forwardedBy !== undefined) return sendNoLeader(ex, `forwarded by ${String(forwardedBy)} but this node does not lead ${route.owner}'s partition (leader ${decision.leader})`);
        metrics.forwards.inc();
        return await (forwarder as Forwarder).relay(ex, decision.url, decision.leader);
      }
    }
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
      case 'readyz': {
        const state = deps.readiness?.() ?? { ready: true };
        if (!state.ready) return sendError(ex.res, 'WARDEN_ERR_HTTP_NOT_READY', state.reason, { 'Retry-After': '1' });
        return sendJson(ex.res, 200, { status: 'ready' });
      }
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
    if (deps.onClosing) await deps.onClosing().catch((error: unknown) => log.warn({ err: error }, 'shutdown: closing hook failed'));
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
    forwarder?.close();
    if (deps.onDrained) await deps.onDrained().catch((error: unknown) => log.warn({ err: error }, 'shutdown: drained hook failed'));
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
