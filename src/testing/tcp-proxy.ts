import { createServer, connect, type Server, type Socket } from 'node:net';

/** Options of {@link startTcpProxy}. */
export interface TcpProxyOptions {
  /** Where to forward, e.g. `{ host: '127.0.0.1', port: 2379 }`. */
  target: { host: string; port: number };
}

/**
 * A test-owned TCP proxy between a client and a server (usually etcd), with switches for
 * the faults that matter to leases: added latency, a black hole that keeps the sockets
 * open but forwards nothing (a half-open connection or a partition), and a hard cut.
 */
export interface TcpProxy extends AsyncDisposable {
  readonly port: number;
  /** `http://127.0.0.1:PORT`, for use as an etcd endpoint. */
  readonly url: string;
  /** Number of client connections currently open through the proxy. */
  readonly connections: number;
  /** Delays every chunk in both directions by `ms` (0 turns delay off). */
  setDelay(ms: number): void;
  /** Stops forwarding in both directions without closing anything; bytes are dropped. */
  blackhole(): void;
  /** Ends a black hole; later bytes flow again (the dropped ones are lost). */
  restore(): void;
  /** Destroys every open connection (both sides see a reset). New ones are accepted. */
  cut(): void;
  /** Refuses (immediately closes) new connections while on. */
  refuseNew(on: boolean): void;
  /** Closes the listener and every connection; idempotent. */
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let delayMs = 0;
  let dropping = false;
  let refusing = false;

  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (dropping) return;
      if (delayMs === 0) {
        to.write(chunk);
        return;
      }
      // Keep order: every chunk waits the same delay, so FIFO is preserved by the timer queue.
      const timer = setTimeout(() => {
        if (!dropping && !to.destroyed) to.write(chunk);
      }, delayMs);
      timer.unref();
    });
  };

  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(options.target.port, options.target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const teardown = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
    forward(client, upstream);
    forward(upstream, client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const port = address.port;

  const cut = (): void => {
    for (const [a, b] of pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    pairs.clear();
  };
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      cut();
      server.close(() => resolve());
    }));

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    setDelay(ms: number) {
      delayMs = ms;
    },
    blackhole() {
      dropping = true;
    },
    restore() {
      dropping = false;
    },
    cut,
    refuseNew(on: boolean) {
      refusing = on;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
