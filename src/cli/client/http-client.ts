/**
 * The client side of the CLI verbs: server/token from flags or `WARDEN_SERVER` /
 * `WARDEN_TOKEN`, one request helper over node:http that retries on 503 (honouring
 * Retry-After), and a progress reporter (a bar on a TTY, plain lines otherwise).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where and as whom the client talks. */
export interface ClientOptions {
  /** Base URL. Default `http://127.0.0.1:8080` (or WARDEN_SERVER). */
  server: string;
  /** Bearer token (or WARDEN_TOKEN); undefined sends none. */
  token: string | undefined;
}

/** Resolves {@link ClientOptions} from parsed flags and the environment (pure). */
export function clientOptions(values: { server?: string | undefined; token?: string | undefined }, env: Record<string, string | undefined>): ClientOptions {
  const server = (values.server ?? env.WARDEN_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  return { server, token: values.token ?? env.WARDEN_TOKEN ?? undefined };
}

/** Parses `OWNER/NAME` or `OWNER/NAME@REF` (pure); undefined when malformed. */
export function parseRef(text: string): { owner: string; name: string; ref: string | undefined } | undefined {
  const m = /^([^/@]+)\/([^/@]+)(?:@([^/@]+))?$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { owner: m[1], name: m[2], ref: m[3] };
}

/** One request's description; `body` is a factory so a retry can start again. */
export interface ClientRequest {
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: () => Readable | Buffer | string;
  /** Attempts on 503 (and connection refused). Default 5. */
  attempts?: number;
}

/** Sends a request, retrying 503 answers after their Retry-After (max 10 s each). */
export async function send(options: ClientOptions, req: ClientRequest): Promise<IncomingMessage> {
  const attempts = req.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    let res: IncomingMessage;
    try {
      res = await once(options, req);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt < attempts && (code === 'ECONNREFUSED' || code === 'ECONNRESET')) {
        await sleep(200 * attempt);
        continue;
      }
      throw error;
    }
    if (res.statusCode !== 503 || attempt >= attempts) return res;
    res.resume();
    const after = Number(res.headers['retry-after']);
    await sleep(Math.min(Number.isFinite(after) && after >= 0 ? after * 1000 : 1000, 10_000));
  }
}

function once(options: ClientOptions, req: ClientRequest): Promise<IncomingMessage> {
  const url = new URL(options.server + req.path);
  const headers: Record<string, string | number> = { ...req.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = make(url, { method: req.method, headers }, resolve);
    r.on('error', reject);
    const body = req.body?.();
    if (body === undefined) r.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) r.end(body);
    else {
      body.on('error', (error) => r.destroy(error));
      body.pipe(r);
    }
  });
}

/** Reads a whole (small) response body as text. */
export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Returns "CODE: message" from a JSON error body, or the status line. */
export async function describeError(res: IncomingMessage): Promise<string> {
  const text = await readText(res);
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (e?.code) return `${res.statusCode} ${e.code}: ${e.message ?? ''}`;
  } catch {
    // not JSON
  }
  return `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
}

/** Progress reporting: a redrawn bar on a TTY, a plain line every 25% otherwise. */
export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): { update(done: number): void; end(): void } {
  const tty = stream.isTTY === true;
  const started = performance.now();
  let lastQuarter = -1;
  let lastDraw = 0;
  const rate = (done: number): string => `${(done / 1e6 / Math.max((performance.now() - started) / 1000, 1e-3)).toFixed(1)} MB/s`;
  return {
    update(done) {
      const fraction = total > 0 ? Math.min(done / total, 1) : 1;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${rate(done)}`);
      } else {
        const quarter = Math.floor(fraction * 4);
        if (quarter > lastQuarter) {
          lastQuarter = quarter;
          stream.write(`${label}: ${done}/${total} bytes (${quarter * 25}%)\n`);
        }
      }
    },
    end() {
      if (tty) stream.write('\n');
    },
  };
}
