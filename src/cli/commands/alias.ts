/** `warden alias OWNER/NAME ALIAS VERSION [--if-match ETAG]`: move an alias atomically. */
import { parseArgs } from 'node:util';
import { clientOptions, describeError, parseRef, readText, send, type ClientOptions } from '../client/http-client.js';

const HELP = `Usage: warden alias OWNER/NAME ALIAS VERSION [--if-match ETAG|*] [--server URL] [--token T]

Points ALIAS at VERSION atomically. --if-match makes it a compare-and-set on the ETag
(the sha256 in quotes) of the version the alias points to now.
`;

/** Options of alias (pure result of argv + env). */
export interface AliasArgs {
  client: ClientOptions;
  owner: string;
  name: string;
  alias: string;
  version: string;
  ifMatch: string | undefined;
}

/** Maps argv and env to {@link AliasArgs}, 'help', or an error message. */
export function parseAliasArgs(argv: string[], env: Record<string, string | undefined>): AliasArgs | 'help' | string {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { server: { type: 'string' }, token: { type: 'string' }, 'if-match': { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    return (error as Error).message;
  }
  if (parsed.values.help) return 'help';
  const [target, alias, version, ...extra] = parsed.positionals;
  const ref = target === undefined ? undefined : parseRef(target);
  if (!ref || ref.ref !== undefined || alias === undefined || version === undefined || extra.length > 0) return 'expected OWNER/NAME ALIAS VERSION';
  return { client: clientOptions(parsed.values, env), owner: ref.owner, name: ref.name, alias: alias.replace(/^@/, ''), version, ifMatch: parsed.values['if-match'] };
}

/** Runs `warden alias`. */
export async function alias(argv: string[]): Promise<number> {
  const args = parseAliasArgs(argv, process.env);
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof args === 'string') {
    process.stderr.write(`warden alias: ${args}\n${HELP}`);
    return 2;
  }
  const res = await send(args.client, {
    method: 'PUT',
    path: `/v1/files/${encodeURIComponent(args.owner)}/${encodeURIComponent(args.name)}/@${encodeURIComponent(args.alias)}`,
    headers: { 'content-type': 'application/json', ...(args.ifMatch ? { 'if-match': args.ifMatch } : {}) },
    body: () => JSON.stringify({ version: args.version }),
  });
  if (res.statusCode === 200 || res.statusCode === 201) {
    const body = JSON.parse(await readText(res)) as { previous: string | null };
    process.stdout.write(`@${args.alias} -> ${args.version} (was ${body.previous ?? 'unset'})\n`);
    return 0;
  }
  process.stderr.write(`warden alias: ${await describeError(res)}\n`);
  return 1;
}
