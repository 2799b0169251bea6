/** `warden publish OWNER/NAME VERSION FILE`: hash, upload with progress, retry on 503. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { clientOptions, describeError, parseRef, progress, readText, send, type ClientOptions } from '../client/http-client.js';

const HELP = `Usage: warden publish OWNER/NAME VERSION FILE [--server URL] [--token T] [--content-type TYPE]

Uploads FILE as an immutable version. Sends its sha256 so the server verifies it.
201 new, 200 identical re-publish; a different file under an existing version fails (409).
  --server URL   server base URL [WARDEN_SERVER] (default http://127.0.0.1:8080)
  --token T      bearer token with write scope [WARDEN_TOKEN]
`;

/** Options of a publish (pure result of argv + env). */
export interface PublishArgs {
  client: ClientOptions;
  owner: string;
  name: string;
  version: string;
  file: string;
  contentType: string | undefined;
}

/** Maps argv and env to {@link PublishArgs}, 'help', or an error message. */
export function parsePublishArgs(argv: string[], env: Record<string, string | undefined>): PublishArgs | 'help' | string {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { server: { type: 'string' }, token: { type: 'string' }, 'content-type': { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    return (error as Error).message;
  }
  if (parsed.values.help) return 'help';
  const [target, version, file, ...extra] = parsed.positionals;
  const ref = target === undefined ? undefined : parseRef(target);
  if (!ref || ref.ref !== undefined || version === undefined || file === undefined || extra.length > 0) return 'expected OWNER/NAME VERSION FILE';
  return { client: clientOptions(parsed.values, env), owner: ref.owner, name: ref.name, version, file, contentType: parsed.values['content-type'] };
}

/** Runs `warden publish`. */
export async function publish(argv: string[]): Promise<number> {
  const args = parsePublishArgs(argv, process.env);
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof args === 'string') {
    process.stderr.write(`warden publish: ${args}\n${HELP}`);
    return 2;
  }
  const { size } = await stat(args.file);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(args.file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  const label = `${args.owner}/${args.name}/${args.version}`;
  const bar = progress(`publish ${label}`, size);
  const res = await send(args.client, {
    method: 'PUT',
    path: `/v1/files/${encodeURIComponent(args.owner)}/${encodeURIComponent(args.name)}/${encodeURIComponent(args.version)}`,
    headers: { 'content-length': size, 'x-warden-sha256': sha256, ...(args.contentType ? { 'content-type': args.contentType } : {}) },
    body: () => {
      let done = 0;
      const stream = createReadStream(args.file, { highWaterMark: 1024 * 1024 });
      stream.on('data', (chunk) => bar.update((done += chunk.length)));
      return stream;
    },
  });
  bar.end();
  if (res.statusCode === 201 || res.statusCode === 200) {
    await readText(res);
    process.stdout.write(`${res.statusCode === 201 ? 'published' : 'already published (identical)'} ${label} ${size} bytes sha256 ${sha256}\n`);
    return 0;
  }
  process.stderr.write(`warden publish: ${await describeError(res)}\n`);
  return 1;
}
