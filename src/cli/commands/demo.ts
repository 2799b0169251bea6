/**
 * `warden demo`: what `npm start` runs until the file server lands. The election demo is
 * wired in by the coordination library; until then this says so honestly.
 */
export async function demo(_argv: string[]): Promise<number> {
  process.stdout.write('warden: the election demo arrives with the coordination library (src/election/).\n');
  return 0;
}
