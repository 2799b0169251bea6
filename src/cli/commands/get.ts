/** `warden get OWNER/NAME[@VERSION|@ALIAS] [-o FILE]`: download, verify the sha256. */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { clientOptions, describeError, parseRef, progress, send, type ClientOptions } from '../client/http-client.js';

const HELP = `Usage: warden get OWNER/NAME[@VERSION|@ALIAS] [-o FILE] [--server URL] [--token T]

Downloads a version (or what an alias points to; without @, the alias "latest"),
verifies its sha256 against the ETag, and writes it to FILE (atomically) or stdout.
@REF is tried as a version first, then as an alias.
`;

/** Options of a get (pure result of argv + env). */
export interface GetArgs {
  client: ClientOptions;
  owner: string;
  name: string;
  ref: string;
  output: string | undefined;
}

/** Maps argv and env to {@link GetArgs}, 'help', or an error message. */
export function parseGetArgs(argv: string[], env: Record<string, string | undefined>): GetArgs | 'help' | string {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { server: { type: 'string' }, token: { type: 'string' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean' } } });
  } catch (error) {
    return (error as Error).message;
  }
  if (parsed.values.help) return 'help';
  const [target, ...extra] = parsed.positionals;
  const ref = target === undefined ? undefined : parseRef(target);
  if (!ref || extra.length > 0) return 'expected OWNER/NAME[@VERSION|@ALIAS]';
  return { client: clientOptions(parsed.values, env), owner: ref.owner, name: ref.name, ref: ref.ref ?? 'latest', output: parsed.values.output };
}

/** Runs `warden get`. */
export async function get(argv: string[]): Promise<number> {
  const args = parseGetArgs(argv, process.env);
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof args === 'string') {
    process.stderr.write(`warden get: ${args}\n${HELP}`);
    return 2;
  }
  const base = `/v1/files/${encodeURIComponent(args.owner)}/${encodeURIComponent(args.name)}`;
  let res: IncomingMessage = await send(args.client, { method: 'GET', path: `${base}/${encodeURIComponent(args.ref)}` });
  if (res.statusCode === 404 || res.statusCode === 400) {
    res.resume();
    res = await send(args.client, { method: 'GET', path: `${base}/@${encodeURIComponent(args.ref)}` });
  }
  if (res.statusCode !== 200) {
    process.stderr.write(`warden get: ${await describeError(res)}\n`);
    return 1;
  }
  const expected = /^"([0-9a-f]{64})"$/.exec(String(res.headers.etag ?? ''))?.[1];
  const total = Number(res.headers['content-length'] ?? 0);
  const bar = progress(`get ${args.owner}/${args.name}@${args.ref}`, total);
  const hash = createHash('sha256');
  let done = 0;
  const temp = args.output ? `${args.output}.warden-${randomBytes(4).toString('hex')}` : undefined;
  const sink = temp ? createWriteStream(temp, { flags: 'wx' }) : new Writable({ write: (chunk, _enc, cb) => (process.stdout.write(chunk) ? cb() : process.stdout.once('drain', cb)) });
  res.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bar.update((done += chunk.length));
  });
  try {
    await pipeline(res, sink);
  } catch (error) {
    bar.end();
    if (temp) await unlink(temp).catch(() => undefined);
    throw error;
  }
  bar.end();
  const actual = hash.digest('hex');
  if (expected !== undefined && actual !== expected) {
    if (temp) await unlink(temp).catch(() => undefined);
    process.stderr.write(`warden get: sha256 mismatch: expected ${expected}, got ${actual}; nothing written\n`);
    return 1;
  }
  if (temp && args.output) {
    await rename(temp, args.output);
    process.stderr.write(`wrote ${args.output} (${done} bytes, sha256 ${actual}${expected ? ', verified' : ''})\n`);
  }
  return 0;
}
