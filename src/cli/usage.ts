import { commands, summaries } from './commands/index.js';

/** Returns the top-level help text, one line per available command. */
export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.keys(commands).map((name) => `  ${name.padEnd(width)}  ${summaries[name] ?? ''}`);
  return `Usage: warden <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'warden <command> --help' for a command's options.\n`;
}
