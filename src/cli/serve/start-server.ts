/**
 * Start-up of `warden serve`, in one function: checks, logger, tokens, store, app, listen.
 * Start-up checks (refusals that must happen before anything serves) go in
 * {@link runStartupChecks}.
 */
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { Authenticator, createServer, type WardenServer } from 'warden/server';
import { Store } from 'warden/store';
import { assertNoServiceAccountToken, ServiceAccountTokenError, type DetectServiceAccountTokenOptions } from 'warden/runtime';
import type { ServeOptions } from './options.js';

/** A running `warden serve`: where it listens, and how to stop it. */
export interface RunningServer {
  /** `http://HOST:PORT` it listens on. */
  readonly url: string;
  readonly app: WardenServer;
  readonly store: Store;
  readonly log: Logger;
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
  if (options.etcd.length > 0) {
    throw new StartupError('cluster mode (--etcd) is not available in this build yet; run without --etcd for a single node');
  }
  if (options.keep !== undefined) log.warn({ keep: options.keep }, '--keep is accepted but retention is not applied by a single node yet');
  if (!options.tokens) log.warn('no tokens file (--tokens / WARDEN_TOKENS): every write will be refused with 401');
}

/** Starts a node: runs the checks, opens the store, listens; resolves once it serves. */
export async function startServer(
  options: ServeOptions,
  deps: { logger?: Logger; serviceAccount?: DetectServiceAccountTokenOptions } = {},
): Promise<RunningServer> {
  const log = deps.logger ?? pino({ level: options.logLevel, base: { node: options.nodeId } });
  await runStartupChecks(options, log, deps.serviceAccount);
  const auth = options.tokens ? await Authenticator.fromFile(options.tokens) : new Authenticator([]);
  const store = await Store.open({ root: options.data, nodeId: options.nodeId, symlinks: options.symlinks, maxUploadBytes: options.maxUploadBytes });
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
    cluster: () => ({ node: options.nodeId, members: [{ id: options.nodeId, url: advertised }], partitions }),
  });
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
  log.info({ url, data: store.root, tokens: auth.size, readAuth: options.readAuth, maxUploadBytes: options.maxUploadBytes }, 'serving');
  return { url, app, store, log, close: () => app.close() };
}
