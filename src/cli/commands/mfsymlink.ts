/**
 * `warden mfsymlink read|create|check|convert`: Minshall+French symlinks from the shell.
 * `parseMfsymlinkArgs` maps argv to a plain options object (tested on its own); the
 * functions below it act on that object.
 */
import { parseArgs } from 'node:util';
import { convertTree, createSymlink, MfSymlinkError, readSymlink, scanTree } from 'warden/mfsymlink';

/** Help text of `warden mfsymlink`. */
export const MFSYMLINK_HELP = `Usage: warden mfsymlink <read|create|check|convert> [options]

Minshall+French ("XSym") symlinks, as the Linux CIFS client writes them with the
mfsymlinks mount option (a 1067-byte regular file per link).

  read FILE [--strict]
      Print the target of FILE (native symlink or Minshall+French file) and a newline.
      Exit 1 with the reason on stderr when FILE is not a valid link.
  create TARGET FILE [--mode auto|native|mf] [--replace]
      Create FILE -> TARGET atomically. auto (default): native where the file system
      supports symlinks, else Minshall+French. --replace swaps an existing entry.
  check DIR [--strict]
      List every link under DIR and every malformed 1067-byte candidate.
      Exit 1 when a candidate is malformed.
  convert DIR --to native|mf [--dry-run]
      Convert every link under DIR to the given kind. Exit 1 when a link could not be
      converted (malformed candidates are only reported).

  --strict   read Minshall+French files as canonical bytes only (as macOS writes them),
             instead of as the Linux kernel reads them
  -h, --help show this help
`;

/** What `warden mfsymlink …` was asked to do. */
export type MfsymlinkAction =
  | { readonly action: 'help' }
  | { readonly action: 'read'; readonly file: string; readonly strict: boolean }
  | { readonly action: 'create'; readonly target: string; readonly file: string; readonly mode: 'auto' | 'native' | 'mf'; readonly replace: boolean }
  | { readonly action: 'check'; readonly dir: string; readonly strict: boolean }
  | { readonly action: 'convert'; readonly dir: string; readonly to: 'native' | 'mf'; readonly dryRun: boolean };

/** A usage mistake (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function positionals(verb: string, values: string[], names: string[]): string[] {
  if (values.length !== names.length) {
    throw new UsageError(`'mfsymlink ${verb}' takes ${names.join(' ')} (got ${values.length} argument${values.length === 1 ? '' : 's'})`);
  }
  return values;
}

/** Maps the argv after `mfsymlink` to an action; throws {@link UsageError} on a mistake. */
export function parseMfsymlinkArgs(argv: string[]): MfsymlinkAction {
  const { values, positionals: args } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      strict: { type: 'boolean' },
      mode: { type: 'string' },
      replace: { type: 'boolean' },
      to: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  if (values.help === true) return { action: 'help' };
  const [verb, ...rest] = args;
  const only = (allowed: string[]): void => {
    for (const flag of ['strict', 'mode', 'replace', 'to', 'dry-run'] as const) {
      if (values[flag] !== undefined && !allowed.includes(flag)) throw new UsageError(`'mfsymlink ${verb}' has no --${flag}`);
    }
  };
  switch (verb) {
    case 'read': {
      only(['strict']);
      const [file] = positionals(verb, rest, ['FILE']);
      return { action: 'read', file: file!, strict: values.strict === true };
    }
    case 'create': {
      only(['mode', 'replace']);
      const [target, file] = positionals(verb, rest, ['TARGET', 'FILE']);
      const mode = values.mode ?? 'auto';
      if (mode !== 'auto' && mode !== 'native' && mode !== 'mf') throw new UsageError(`--mode must be auto, native or mf, not '${mode}'`);
      return { action: 'create', target: target!, file: file!, mode, replace: values.replace === true };
    }
    case 'check': {
      only(['strict']);
      const [dir] = positionals(verb, rest, ['DIR']);
      return { action: 'check', dir: dir!, strict: values.strict === true };
    }
    case 'convert': {
      only(['to', 'dry-run']);
      const [dir] = positionals(verb, rest, ['DIR']);
      if (values.to !== 'native' && values.to !== 'mf') throw new UsageError(`'mfsymlink convert' needs --to native or --to mf`);
      return { action: 'convert', dir: dir!, to: values.to, dryRun: values['dry-run'] === true };
    }
    case undefined:
      throw new UsageError('missing subcommand: read, create, check or convert');
    default:
      throw new UsageError(`unknown subcommand '${verb}': use read, create, check or convert`);
  }
}

/** Where a command writes; the real process streams by default, buffers in tests. */
export interface Output {
  stdout: (chunk: string | Uint8Array) => void;
  stderr: (chunk: string) => void;
}

const processOutput: Output = {
  stdout: (chunk) => void process.stdout.write(chunk),
  stderr: (chunk) => void process.stderr.write(chunk),
};

/** Shows target bytes on one line: printable as is, other bytes escaped (for listings, not for `read`). */
function show(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes).toString('utf8')).slice(1, -1);
}

/** Runs an action; returns the exit code. Errors of `warden/mfsymlink` become a message and exit 1. */
export async function runMfsymlink(action: MfsymlinkAction, out: Output = processOutput): Promise<number> {
  try {
    switch (action.action) {
      case 'help':
        out.stdout(MFSYMLINK_HELP);
        return 0;
      case 'read': {
        const target = await readSymlink(action.file, { encoding: 'buffer', strict: action.strict });
        out.stdout(Buffer.concat([target, Buffer.from('\n')]));
        return 0;
      }
      case 'create': {
        const { kind } = await createSymlink(action.target, action.file, { mode: action.mode, replace: action.replace });
        out.stdout(`created ${kind} link ${action.file} -> ${action.target}\n`);
        return 0;
      }
      case 'check': {
        let malformed = 0;
        let links = 0;
        for (const { path, inspection } of await scanTree(action.dir, { strict: action.strict })) {
          if (inspection.kind === 'native') out.stdout(`native     ${path} -> ${show(inspection.target)}\n`);
          else if (inspection.kind === 'mf') {
            const note = inspection.info.canonical ? '' : ' (accepted by Linux, not canonical)';
            out.stdout(`mf         ${path} -> ${show(inspection.target)}${note}\n`);
          } else if (inspection.what === 'malformed') {
            malformed += 1;
            const cause = inspection.reason.cause;
            out.stdout(`malformed  ${path}: ${cause instanceof Error ? cause.message : inspection.reason.message}\n`);
            continue;
          } else continue;
          links += 1;
        }
        out.stderr(`${links} link${links === 1 ? '' : 's'}, ${malformed} malformed\n`);
        return malformed > 0 ? 1 : 0;
      }
      case 'convert': {
        const report = await convertTree(action.dir, { to: action.to, dryRun: action.dryRun });
        const verb = report.dryRun ? 'would convert' : 'converted';
        for (const entry of report.converted) out.stdout(`${verb} ${entry.path} (${entry.from} -> ${report.to}) -> ${show(entry.target)}\n`);
        for (const entry of report.skipped) out.stdout(`${entry.malformed ? 'malformed' : 'skipped'} ${entry.path}: ${entry.reason}\n`);
        const failed = report.skipped.filter((entry) => !entry.malformed).length;
        out.stderr(
          `${report.converted.length} ${verb}, ${report.unchanged} already ${report.to}, ${failed} not converted, ` +
            `${report.skipped.length - failed} malformed (${report.scanned} entries scanned)\n`,
        );
        return failed > 0 ? 1 : 0;
      }
    }
  } catch (error) {
    if (!(error instanceof MfSymlinkError)) throw error;
    const cause = error.code === 'WARDEN_ERR_MFSYMLINK_NOT_A_LINK' && error.cause instanceof MfSymlinkError ? ` [${error.cause.code}]` : '';
    out.stderr(`warden mfsymlink: ${error.message} [${error.code}]${cause}\n`);
    return 1;
  }
}

/** `warden mfsymlink …`: exit 0 on success, 1 when the operation failed, 2 on a usage mistake. */
export async function mfsymlink(argv: string[]): Promise<number> {
  let action: MfsymlinkAction;
  try {
    action = parseMfsymlinkArgs(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`warden mfsymlink: ${message}\n\n${MFSYMLINK_HELP}`);
    return 2;
  }
  return await runMfsymlink(action);
}
