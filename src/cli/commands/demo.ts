import { parseArgs } from 'node:util';
import { Election, Session, createMemoryBackend, type LeaderInfo, type Leadership, type MemoryBackend } from 'warden/election';

const HELP = `Usage: warden demo [--ttl MS]

Runs three in-process candidates on the in-memory backend: shows who leads, crashes the
leader's session (its lease expires at once), shows the failover with fencing tokens,
then a graceful resignation, and exits 0.

  --ttl MS   session TTL in ms (default 2000, min 2000)
  --help     show this help
`;

/** Options of the demo, from argv. */
export interface DemoOptions {
  help: boolean;
  ttlMs: number;
}

/** Maps argv to demo options (pure, unit-tested). */
export function parseDemoArgs(argv: string[]): DemoOptions {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean' }, ttl: { type: 'string' } }, strict: true });
  return { help: values.help === true, ttlMs: values.ttl === undefined ? 2_000 : Number(values.ttl) };
}

function say(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)}  ${line}\n`);
}

/** Candidate names by lease id in hex, for readable output. */
const names = new Map<string, string>();

function describe(info: LeaderInfo | null): string {
  return info === null ? 'nobody leads' : `${names.get(info.id) ?? info.id} leads (value ${JSON.stringify(info.value)}, fencing token ${info.fencingToken})`;
}

/**
 * `warden demo`: what `npm start` runs until the file server lands — leader election on the
 * in-memory backend, with a crash failover and a graceful handover.
 */
export async function demo(argv: string[]): Promise<number> {
  const options = parseDemoArgs(argv);
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const backend: MemoryBackend = createMemoryBackend();
  const sessions: Session[] = [];
  const stopObserving = new AbortController();
  try {
    for (const name of ['alpha', 'bravo', 'charlie']) {
      const session = await Session.create(backend, { ttlMs: options.ttlMs });
      names.set(BigInt(session.leaseId).toString(16), name);
      sessions.push(session);
    }
    say(`3 candidates, each with its own session (lease TTL ${options.ttlMs} ms, keepalive every ${sessions[0]!.keepaliveIntervalMs} ms)`);
    const observer = new Election(sessions[0]!, 'demo');
    const observed: (LeaderInfo | null)[] = [];
    const watching = (async () => {
      for await (const info of observer.observe({ signal: stopObserving.signal })) {
        observed.push(info);
        say(`observer: ${describe(info)}`);
      }
    })();

    // Each candidate campaigns; winners arrive in election order through this queue.
    const winners: { name: string; leadership: Leadership }[] = [];
    for (const session of sessions) {
      const name = names.get(BigInt(session.leaseId).toString(16))!;
      void new Election(session, 'demo').campaign(`${name}@demo`).then(
        (leadership) => {
          say(`${name}: elected, fencing token ${leadership.fencingToken}`);
          leadership.signal.addEventListener('abort', () => say(`${name}: leadership ended (${(leadership.signal.reason as { reason?: string }).reason ?? 'unknown'})`));
          winners.push({ name, leadership });
        },
        (error: unknown) => say(`${name}: campaign ended: ${(error as Error).message}`),
      );
    }
    let taken = 0;
    const next = async (): Promise<{ name: string; leadership: Leadership }> => {
      await waitUntil(() => winners.length > taken);
      return winners[taken++]!;
    };

    const first = await next();
    const firstSession = sessions.find((s) => names.get(BigInt(s.leaseId).toString(16)) === first.name)!;
    say(`crash: ${first.name}'s lease expires now (as if its process had died)`);
    backend.expireLease(firstSession.leaseId);
    const second = await next();
    say(`failover: ${second.name} took over; token ${first.leadership.fencingToken} -> ${second.leadership.fencingToken}`);
    const stale = await backend.txn({ compare: [first.leadership.guard()], success: [{ type: 'put', key: '/demo/data', value: first.name }] });
    say(`a write fenced by ${first.name}'s old token ${stale.succeeded ? 'WAS APPLIED (bug!)' : 'is rejected'}`);

    say(`graceful: ${second.name} resigns`);
    await second.leadership.resign();
    const third = await next();
    say(`handover: ${third.name} leads with token ${third.leadership.fencingToken}`);
    await third.leadership.resign();
    await waitUntil(() => observed.at(-1) === null);
    stopObserving.abort();
    await watching;
    const tokens = observed.filter((i): i is LeaderInfo => i !== null).map((i) => BigInt(i.fencingToken));
    const increasing = tokens.every((t, i) => i === 0 || t > tokens[i - 1]!);
    say(`done: fencing tokens seen ${tokens.join(' < ')} (${increasing ? 'strictly increasing' : 'NOT increasing'})`);
    return increasing && !stale.succeeded ? 0 : 1;
  } finally {
    stopObserving.abort();
    await Promise.all(sessions.map((s) => s.close()));
    await backend.close();
  }
}

async function waitUntil(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}
