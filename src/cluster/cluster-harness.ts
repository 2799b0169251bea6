/**
 * Test helpers for cluster mode: real `warden serve --etcd` processes on free ports sharing
 * one DATA directory, and a small HTTP client that retries like the CLI (503 and broken
 * connections). Used by the cluster tests; not exported from the part.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** The bearer token every harness node accepts (all owners, every scope). */
export const HARNESS_TOKEN = 'cluster-test-token';

/** Returns the tokens-file JSON that admits {@link HARNESS_TOKEN}. */
export function harnessTokensFile(): string {
  return JSON.stringify({ tokens: [{ sha256: createHash('sha256').update(HARNESS_TOKEN).digest('hex'), owners: ['*'], scopes: ['read', 'write', 'admin'] }] });
}

/** A running node process. */
export interface NodeProcess {
  readonly id: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL (SIGCONT first) and wait for exit. */
  kill(): Promise<void>;
}

/** Starts `warden serve` as a cluster node and resolves once it printed its URL. */
export async function startNode(options: { id: string; data: string; tokens: string; etcd: string[]; partitions: number; ttlS: number; zone?: string }): Promise<NodeProcess> {
  const args = [MAIN, 'serve', '--data', options.data, '--port', '0', '--host', '127.0.0.1', '--tokens', options.tokens, '--etcd', options.etcd.join(','), '--node-id', options.id, '--partitions', String(options.partitions), '--ttl', String(options.ttlS), '--log-level', process.env.WARDEN_TEST_NODE_LOG_LEVEL ?? 'warn', '--drain-timeout', '10'];
  if (options.zone) args.push('--zone', options.zone);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // WARDEN_TEST_NODE_LOG_DIR keeps each node's whole output in <dir>/<id>-<pid>.log (debugging a flake).
  const logDir = process.env.WARDEN_TEST_NODE_LOG_DIR;
  const file = logDir ? createWriteStream(join(logDir, `${options.id}-${child.pid ?? 'x'}.log`)) : undefined;
  const keep = (c: Buffer): void => {
    out = (out + c.toString()).slice(-200_000);
    file?.write(c);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('close', () => file?.end());
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${options.id} did not start: ${out}`)), 30_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`node ${options.id} exited: ${out}`));
    });
  });
  return {
    id: options.id,
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

/** An HTTP answer. */
export interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** Sends one request (status 0 on a connection error). */
export function http(url: string, options: { method?: string; body?: Buffer | string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${HARNESS_TOKEN}`, ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const req = request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', () => resolve({ status: 0, body: Buffer.alloc(0), headers: {} }));
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0), headers: {} }));
    req.end(options.body);
  });
}

/** Result of {@link publishRetrying}. */
export interface PublishOutcome {
  status: number;
  attempts: number;
  retried503: number;
  /** Body of the last answer (for diagnostics). */
  text: string;
}

/** PUTs a version, retrying 503 and connection errors like the CLI does (up to `attempts`). */
export async function publishRetrying(urls: string[] | (() => string[]), path: string, payload: Buffer, attempts = 8): Promise<PublishOutcome> {
  let retried503 = 0;
  for (let attempt = 1; ; attempt++) {
    const list = typeof urls === 'function' ? urls() : urls;
    const base = list[(attempt - 1) % list.length] as string;
    const a = await http(`${base}${path}`, { method: 'PUT', body: payload, headers: { 'x-warden-sha256': createHash('sha256').update(payload).digest('hex') } });
    if ((a.status === 503 || a.status === 0) && attempt < attempts) {
      if (a.status === 503) retried503++;
      const after = Number(a.headers['retry-after'] ?? 1);
      await new Promise((r) => setTimeout(r, Math.min(after * 1000, 1_000) * (a.status === 0 ? 0.3 : 0.5)));
      continue;
    }
    return { status: a.status, attempts: attempt, retried503, text: a.body.toString().slice(0, 300) };
  }
}

/** Deterministic pseudo-random content of `size` bytes. */
export function payloadOf(seed: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = (seed * 2654435761 + 7) >>> 0;
  for (let k = 0; k < size; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[k] = x >>> 24;
  }
  return b;
}
