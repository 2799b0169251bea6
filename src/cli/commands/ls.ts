/** `warden ls OWNER/NAME`: versions and aliases. */
import { parseArgs } from 'node:util';
import { clientOptions, describeError, parseRef, readText, send, type ClientOptions } from '../client/http-client.js';

const HELP = `Usage: warden ls OWNER/NAME [--json] [--server URL] [--token T]\n\nLists versions (oldest first) and aliases.\n`;

/** Options of ls (pure result of argv + env). */
export interface LsArgs {
  client: ClientOptions;
  owner: string;
  name: string;
  json: boolean;
}

/** Maps argv and env to {@link LsArgs}, 'help', or an error message. */
export function parseLsArgs(argv: string[], env: Record<string, string | undefined>): LsArgs | 'help' | string {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { server: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
  } catch (error) {
    return (error as Error).message;
  }
  if (parsed.values.help) return 'help';
  const ref = parsed.positionals.length === 1 && parsed.positionals[0] ? parseRef(parsed.positionals[0]) : undefined;
  if (!ref || ref.ref !== undefined) return 'expected OWNER/NAME';
  return { client: clientOptions(parsed.values, env), owner: ref.owner, name: ref.name, json: parsed.values.json ?? false };
}

interface Listing {
  versions: Array<{ version: string; size: number; sha256: string; createdAt: string }>;
  aliases: Array<{ alias: string; version: string | null; error?: string }>;
}

/** Runs `warden ls`. */
export async function ls(argv: string[]): Promise<number> {
  const args = parseLsArgs(argv, process.env);
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof args === 'string') {
    process.stderr.write(`warden ls: ${args}\n${HELP}`);
    return 2;
  }
  const res = await send(args.client, { method: 'GET', path: `/v1/files/${encodeURIComponent(args.owner)}/${encodeURIComponent(args.name)}` });
  if (res.statusCode !== 200) {
    process.stderr.write(`warden ls: ${await describeError(res)}\n`);
    return 1;
  }
  const text = await readText(res);
  if (args.json) {
    process.stdout.write(text);
    return 0;
  }
  const listing = JSON.parse(text) as Listing;
  for (const v of listing.versions) process.stdout.write(`${v.version}\t${v.size}\t${v.sha256.slice(0, 16)}\t${v.createdAt}\n`);
  for (const a of listing.aliases) process.stdout.write(`@${a.alias}\t-> ${a.version ?? `CORRUPT (${a.error ?? '?'})`}\n`);
  return 0;
}
