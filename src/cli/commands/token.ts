/** `warden token create --owners O1,O2|'*' --scopes read,write,admin`. */
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const HELP = `Usage: warden token create --owners O1,O2|'*' --scopes read,write,admin

Prints a new random token on stdout and, on stderr, the JSON entry (its sha256 only) to add
to the "tokens" list of the tokens file (warden serve --tokens FILE).
`;

/** Options of token create (pure result of argv). */
export interface TokenArgs {
  owners: string[];
  scopes: Array<'read' | 'write' | 'admin'>;
}

/** Maps argv to {@link TokenArgs}, 'help', or an error message. */
export function parseTokenArgs(argv: string[]): TokenArgs | 'help' | string {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { owners: { type: 'string' }, scopes: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    return (error as Error).message;
  }
  if (parsed.values.help) return 'help';
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== 'create') return "expected 'create'";
  const owners = (parsed.values.owners ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const scopes = (parsed.values.scopes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (owners.length === 0) return '--owners is required (owner names, or *)';
  if (!owners.every((o) => o === '*' || /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(o))) return '--owners: invalid owner name';
  if (scopes.length === 0 || !scopes.every((s) => s === 'read' || s === 'write' || s === 'admin')) return '--scopes must list read, write and/or admin';
  return { owners, scopes: scopes as TokenArgs['scopes'] };
}

/** Runs `warden token`. */
export async function token(argv: string[]): Promise<number> {
  const args = parseTokenArgs(argv);
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (typeof args === 'string') {
    process.stderr.write(`warden token: ${args}\n${HELP}`);
    return 2;
  }
  const secret = `wdn_${randomBytes(32).toString('base64url')}`;
  const sha256 = createHash('sha256').update(secret, 'utf8').digest('hex');
  process.stdout.write(`${secret}\n`);
  process.stderr.write(`${JSON.stringify({ sha256, owners: args.owners, scopes: args.scopes })}\n`);
  return 0;
}
