/**
 * Start-up of `warden serve`, in one function: checks, logger, tokens, store, app, listen.
 * Start-up checks (refusals that must happen before anything serves) go in
 * {@link runStartupChecks}.
 */
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { ClusterNode, type PartitionJobs } from 'warden/cluster';
import { partitionOf } from 'warden/election';
import { Authenticator, LeaderJobs, createServer, type FileCache, type WardenServer } from 'warden/server';
import { Store, type WriteAuthority } from 'warden/store';
import { assertNoServiceAccountToken, ServiceAccountTokenError, type DetectServiceAccountTokenOptions } from 'warden/runtime';
import type { ServeOptions } from './options.js';

/** A running `warden serve`: where it listens, and how to stop it. */
export interface RunningServer {
  /** `http://HOST:PORT` it listens on. */
  readonly url: string;
  readonly app: WardenServer;
  readonly store: Store;
  readonly log: Logger;
  /** The cluster node (cluster mode only). */
  readonly cluster: ClusterNode | undefined;
  /** Graceful shutdown (docs/shutdown.md). Idempotent. */
  close(): Promise<void>;
}

/** A start-up refusal: printed as is, exit code 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * Runs the checks that must pass before the node serves anything. This is THE place for
 * start-up refusals (e.g. a mounted Kubernetes service-account token unless
 * `allowServiceAccountToken`): throw a {@link StartupError} with a one-line reason.
 */
export async function runStartupChecks(options: ServeOptions, log: Logger, detect: DetectServiceAccountTokenOptions = {}): Promise<void> {
  // First: a node with cluster-API credentials must not serve a single request (docs/deploy.md).
  try {
    const found = await assertNoServiceAccountToken({ ...detect, allow: options.allowServiceAccountToken });
    if (found.found) {
      log.warn(
        { evidence: found.evidence, code: 'WARDEN_ERR_RUNTIME_SERVICE_ACCOUNT_TOKEN' },
        'a Kubernetes service-account token is mounted; starting anyway because --allow-service-account-token is set. ' +
          'Warden never needs it: set automountServiceAccountToken: false on the ServiceAccount and the pod spec',
      );
    }
  } catch (error) {
    if (error instanceof ServiceAccountTokenError) throw new StartupError(error.message, { cause: error });
    throw error;
  }
  if (options.etcd.length > 0 && options.advertise !== undefined && !/^https?:\/\/[^/]+\/?$/.test(options.advertise)) {
    throw new StartupError(`--advertise must be http(s)://HOST:PORT, got ${JSON.stringify(options.advertise)}`);
  }
  if (!options.tokens) log.warn('no tokens file (--tokens / WARDEN_TOKENS): every write will be refused with 401');
}

/** Starts a node: runs the checks, opens the store, listens; resolves once it serves. */
export async function startServer(
  options: ServeOptions,
  deps: { logger?: Logger; serviceAccount?: DetectServiceAccountTokenOptions; partitionJobs?: PartitionJobs } = {},
): Promise<RunningServer> {
  const log = deps.logger ?? pino({ level: options.logLevel, base: { node: options.nodeId } });
  await runStartupChecks(options, log, deps.serviceAccount);
  const auth = options.tokens ? await Authenticator.fromFile(options.tokens) : new Authenticator([]);
  const clustered = options.etcd.length > 0;
  // The node needs the advertised URL, known only once listening: the store asks it late.
  let node: ClusterNode | undefined;
  const authority: WriteAuthority | undefined = clustered
    ? {
        acquire: (owner, opts) => {
          if (!node) return Promise.reject(new Error('cluster node not started'));
          return node.authority.acquire(owner, opts);
        },
      }
    : undefined;
  const store = await Store.open({
    root: options.data,
    nodeId: options.nodeId,
    symlinks: options.symlinks,
    maxUploadBytes: options.maxUploadBytes,
    ...(options.hashThreads === undefined ? {} : { hashThreads: options.hashThreads }),
    // Another node's commit in progress looks like an orphan: only a single node may sweep.
    sweepOrphans: !clustered,
    ...(authority ? { authority } : {}),
  });
  let advertised: string | null = options.advertise ?? null;
  // Single node: this node leads every partition; the fencing token is the local one.
  const partitions = Array.from({ length: options.partitions }, (_, partition) => ({ partition, leader: options.nodeId, fencingToken: 'local-1' }));
  const app = createServer({
    store,
    logger: log,
    auth,
    readAuth: options.readAuth,
    drainTimeoutMs: options.drainTimeoutMs,
    closeStore: true,
    cluster: () => node?.view() ?? { node: options.nodeId, members: [{ id: options.nodeId, url: advertised }], partitions },
    ...(clustered
      ? {
          writeRouter: (owner: string) => node?.route(owner) ?? { kind: 'unavailable', reason: 'not joined yet' },
          readiness: () => node?.readiness() ?? { ready: false, reason: 'joining the cluster' },
          onClosing: async () => node?.leave(),
          onDrained: async () => node?.close(),
        }
      : {}),
  });
  const cache: FileCache = app.cache;
  // Retention and scrub: leader-only, per partition (docs/operations.md).
  const jobs = new LeaderJobs({
    store,
    partitionOf: (owner) => partitionOf(owner, options.partitions),
    log,
    registry: app.metrics.registry,
    keep: options.keep,
    retentionIntervalMs: options.retentionIntervalMs,
    scrubBytesPerSecond: options.scrubBytesPerSecond,
    scrubPauseMs: options.scrubIntervalMs,
  });
  // Single node: it leads every partition until it shuts down.
  const singleNode = new AbortController();
  setMaxListeners(0, singleNode.signal); // one listener per partition
  const partitionJobs: PartitionJobs = async (p, signal, ctx) => {
    await Promise.all([jobs.lead(p, signal), deps.partitionJobs?.(p, signal, ctx)]);
  };
  await new Promise<void>((resolve, reject) => {
    app.server.once('error', reject);
    app.server.listen(options.port, options.host, () => {
      app.server.off('error', reject);
      resolve();
    });
  });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  advertised ??= url;
  if (clustered) {
    node = ClusterNode.create({
      endpoints: options.etcd,
      nodeId: options.nodeId,
      url: advertised,
      zone: options.zone,
      partitions: options.partitions,
      ttlMs: options.ttlS * 1000,
      store,
      log,
      onChange: (c) => (c.kind && c.name && c.key ? cache.invalidate(c.kind, c.owner, c.name, c.key) : cache.invalidateOwner(c.owner)),
      onReset: () => cache.clear(),
      partitionJobs,
    });
    // Serve reads at once; writes answer 503 until the node joined (bounded wait here).
    const joined = AbortSignal.timeout(options.ttlS * 3000);
    await node.start({ signal: joined });
    if (joined.aborted) log.warn({ etcd: options.etcd }, 'cluster: not joined yet; serving reads, writes answer 503 until etcd answers');
  } else {
    for (let p = 0; p < options.partitions; p++) void jobs.lead(p, singleNode.signal);
  }
  log.info({ url, data: store.root, tokens: auth.size, readAuth: options.readAuth, maxUploadBytes: options.maxUploadBytes, etcd: options.etcd, partitions: options.partitions }, 'serving');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // Background jobs stop first (they write), then the documented shutdown order.
      singleNode.abort();
      await jobs.close();
      await app.close();
    })());
  return { url, app, store, log, cluster: node, close };
}
