/**
 * Test support for the server (not exported from the part's index): a real server over a
 * fresh data directory on port 0, with writer/reader/admin tokens, and a raw-socket client
 * that sends bytes exactly as given (fetch and URL normalise paths).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Store, type StoreOptions } from 'warden/store';
import { Authenticator, type TokenEntry } from './auth.js';
import { createServer, type ServerDeps, type WardenServer } from './create-server.js';

/** A running test server. */
export interface TestServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Parent temp dir; DATA is `${dir}/data`. */
  readonly dir: string;
  readonly data: string;
  readonly store: Store;
  readonly app: WardenServer;
  /** Tokens: write on owner acme, read on acme, admin everywhere, write on other only. */
  readonly tokens: { writer: string; reader: string; admin: string; other: string };
  close(): Promise<void>;
}

const TOKENS = { writer: 'writer-token-1', reader: 'reader-token-1', admin: 'admin-token-1', other: 'other-token-1' };
const sha = (t: string): string => createHash('sha256').update(t).digest('hex');

/** Starts a server on 127.0.0.1:0 over a new temp data dir. */
export async function startTestServer(
  options: { store?: Partial<StoreOptions>; server?: Partial<Omit<ServerDeps, 'store'>>; dir?: string } = {},
): Promise<TestServer> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'warden-srv-')));
  const data = join(dir, 'data');
  const entries: TokenEntry[] = [
    { sha256: sha(TOKENS.writer), owners: ['acme'], scopes: ['write'] },
    { sha256: sha(TOKENS.reader), owners: ['acme'], scopes: ['read'] },
    { sha256: sha(TOKENS.admin), owners: ['*'], scopes: ['admin'] },
    { sha256: sha(TOKENS.other), owners: ['other'], scopes: ['write'] },
  ];
  const store = await Store.open({ root: data, nodeId: 'test', ...options.store });
  const app = createServer({ store, logger: pino({ level: 'silent' }), auth: new Authenticator(entries), closeStore: true, ...options.server });
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const port = (app.server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await app.close();
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    })());
  return { url: `http://127.0.0.1:${port}`, port, dir, data: store.root, store, app, tokens: TOKENS, close, [Symbol.asyncDispose]: close };
}

/** A parsed raw HTTP response. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Everything received, head included. */
  readonly raw: Buffer;
}

/**
 * Sends `request` bytes as they are on a new connection and reads until the server closes
 * it (send `Connection: close`). Resolves with status 0 when the server answered nothing.
 */
export function rawRequest(port: number, request: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.on('close', () => resolve(parseRaw(Buffer.concat(chunks))));
    // write, not end: node:http aborts a request whose client half-closes (no half-open).
    socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

/** Parses one HTTP/1.1 response (head + body as received). */
export function parseRaw(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: Buffer.alloc(0), raw };
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: raw.subarray(end + 4), raw };
}
