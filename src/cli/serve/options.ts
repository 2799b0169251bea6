/**
 * `warden serve` options: argv and `WARDEN_*` environment → one options object. Pure, so it is
 * unit-tested apart from the action. A flag wins over its environment variable.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';

/** Everything `warden serve` runs with. */
export interface ServeOptions {
  /** Data directory. Default `./data`. */
  data: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port: number;
  /** Listen address. Default `0.0.0.0`. */
  host: string;
  /** Tokens file (hashes only); undefined = no tokens, every write refused. */
  tokens: string | undefined;
  /** Require a read token for reads. Default false. */
  readAuth: boolean;
  /** Alias links: probe, or force native / Minshall+French. Default `auto`. */
  symlinks: 'auto' | 'native' | 'mf';
  /** etcd endpoints; empty = single node, in-process election. */
  etcd: string[];
  /** URL other nodes and clients reach this node at. Default `http://HOST:PORT`. */
  advertise: string | undefined;
  /** Node id. Default: the host name, made a valid name. */
  nodeId: string;
  /** Number of partitions (the same on every node). Default 64. */
  partitions: number;
  /** Session TTL for cluster mode, in seconds. Default 10. */
  ttlS: number;
  /** Zone label shown in `/v1/cluster` (cluster mode). Default none. */
  zone: string | undefined;
  /** Versions to keep per name (retention, leader-only; aliased versions are kept too). Default undefined = all. */
  keep: number | undefined;
  /** Pause between retention passes, in ms. Default 60000. */
  retentionIntervalMs: number;
  /** Integrity scrub rate in bytes per second; 0 = no scrub. Default 8 MiB/s. */
  scrubBytesPerSecond: number;
  /** Pause between two full scrub passes, in ms. Default 3600000. */
  scrubIntervalMs: number;
  /** Start even when a Kubernetes service-account token is mounted. Default false. */
  allowServiceAccountToken: boolean;
  /** Largest upload, in bytes. Default 5 GiB. */
  maxUploadBytes: number;
  /** Threads hashing large uploads; undefined = one per spare core (at most 4), 0 = on the event loop. */
  hashThreads: number | undefined;
  /** pino level. Default `info`. */
  logLevel: string;
  /** Drain time at shutdown, in ms. Default 30000. */
  drainTimeoutMs: number;
}

/** Flag name → env var, type; the single list `--help` and the parser use. */
export const SERVE_FLAGS = {
  data: { env: 'WARDEN_DATA', type: 'string', help: 'data directory (default ./data)' },
  port: { env: 'WARDEN_PORT', type: 'string', help: 'TCP port, 0 = any free port (default 8080)' },
  host: { env: 'WARDEN_HOST', type: 'string', help: 'listen address (default 0.0.0.0)' },
  tokens: { env: 'WARDEN_TOKENS', type: 'string', help: 'tokens file (JSON of sha256 hashes); without it writes are refused' },
  'read-auth': { env: 'WARDEN_READ_AUTH', type: 'boolean', help: 'require a read token for reads too' },
  symlinks: { env: 'WARDEN_SYMLINKS', type: 'string', help: 'alias links: auto|native|mf (default auto)' },
  etcd: { env: 'WARDEN_ETCD', type: 'string', help: 'etcd endpoints URL[,URL…]: run as a node of a cluster (docs/cluster.md)' },
  advertise: { env: 'WARDEN_ADVERTISE', type: 'string', help: 'URL this node is reached at' },
  'node-id': { env: 'WARDEN_NODE_ID', type: 'string', help: 'node id (default: host name)' },
  partitions: { env: 'WARDEN_PARTITIONS', type: 'string', help: 'number of partitions, same on every node (default 64)' },
  ttl: { env: 'WARDEN_TTL', type: 'string', help: 'session TTL in seconds (cluster mode, default 10, min 2)' },
  zone: { env: 'WARDEN_ZONE', type: 'string', help: 'zone label of this node in /v1/cluster (cluster mode)' },
  keep: { env: 'WARDEN_KEEP', type: 'string', help: 'keep the N newest versions per name, plus aliased ones (default: keep all)' },
  'retention-interval': { env: 'WARDEN_RETENTION_INTERVAL', type: 'string', help: 'seconds between retention passes (default 60)' },
  'scrub-rate': { env: 'WARDEN_SCRUB_RATE', type: 'string', help: 'integrity scrub rate, bytes/s or 8MiB (default 8MiB; 0 = off)' },
  'scrub-interval': { env: 'WARDEN_SCRUB_INTERVAL', type: 'string', help: 'seconds between two full scrub passes (default 3600)' },
  'allow-service-account-token': { env: 'WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN', type: 'boolean', help: 'start even if a Kubernetes service-account token is mounted' },
  'max-upload': { env: 'WARDEN_MAX_UPLOAD', type: 'string', help: 'largest upload, bytes or 512MiB/5GiB (default 5GiB)' },
  'hash-threads': { env: 'WARDEN_HASH_THREADS', type: 'string', help: 'threads hashing uploads > 1 MiB, 0 = none (default: one per spare core, max 4)' },
  'log-level': { env: 'WARDEN_LOG_LEVEL', type: 'string', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
  'drain-timeout': { env: 'WARDEN_DRAIN_TIMEOUT', type: 'string', help: 'seconds to drain in-flight requests at shutdown (default 30)' },
  help: { env: '', type: 'boolean', help: 'show this help' },
} as const;

/** Result of {@link parseServeArgs}: options, help request, or a usage error. */
export type ParsedServe = { kind: 'run'; options: ServeOptions } | { kind: 'help' } | { kind: 'error'; message: string };

/** Parses sizes like `1048576`, `100MiB`, `5G`, `64k` into bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const value = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

function truthy(text: string): boolean | undefined {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off|)$/i.test(text)) return false;
  return undefined;
}

/** Returns the default node id: the host name, reduced to a valid name. */
export function defaultNodeId(host = hostname()): string {
  const cleaned = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/\.\.+/g, '.').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
  return cleaned === '' ? 'node' : cleaned;
}

/** Maps argv and env to {@link ServeOptions}. Never touches anything outside its arguments. */
export function parseServeArgs(argv: string[], env: Record<string, string | undefined>): ParsedServe {
  let values: Record<string, string | boolean | undefined>;
  try {
    const optionSpec = Object.fromEntries(Object.entries(SERVE_FLAGS).map(([k, v]) => [k, { type: v.type }])) as Record<string, { type: 'string' | 'boolean' }>;
    ({ values } = parseArgs({ args: argv, options: optionSpec, allowPositionals: false, strict: true }));
  } catch (error) {
    return { kind: 'error', message: (error as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const get = (flag: keyof typeof SERVE_FLAGS): string | boolean | undefined => {
    if (values[flag] !== undefined) return values[flag];
    const name = SERVE_FLAGS[flag].env;
    const fromEnv = name ? env[name] : undefined;
    if (fromEnv === undefined) return undefined;
    if (SERVE_FLAGS[flag].type === 'boolean') return truthy(fromEnv) ?? `invalid:${fromEnv}`;
    return fromEnv;
  };
  const str = (flag: keyof typeof SERVE_FLAGS): string | undefined => {
    const v = get(flag);
    return typeof v === 'string' ? v : undefined;
  };
  const bool = (flag: keyof typeof SERVE_FLAGS): boolean | string => {
    const v = get(flag);
    if (typeof v === 'string') return v;
    return v ?? false;
  };
  const int = (flag: keyof typeof SERVE_FLAGS, def: number | undefined, min: number, max: number): number | undefined | string => {
    const v = str(flag);
    if (v === undefined) return def;
    const n = Number(v);
    return Number.isInteger(n) && n >= min && n <= max ? n : `--${flag} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`;
  };
  const port = int('port', 8080, 0, 65535);
  const partitions = int('partitions', 64, 1, 4096);
  const ttl = int('ttl', 10, 2, 3600);
  const keep = int('keep', undefined, 1, 1_000_000);
  const drain = int('drain-timeout', 30, 0, 3600);
  const retentionInterval = int('retention-interval', 60, 1, 86_400);
  const scrubInterval = int('scrub-interval', 3600, 1, 30 * 86_400);
  const hashThreads = int('hash-threads', undefined, 0, 64);
  for (const v of [port, partitions, ttl, keep, drain, retentionInterval, scrubInterval, hashThreads]) if (typeof v === 'string') return { kind: 'error', message: v };
  const readAuth = bool('read-auth');
  const allowSat = bool('allow-service-account-token');
  for (const v of [readAuth, allowSat]) if (typeof v === 'string') return { kind: 'error', message: `invalid boolean ${v.slice('invalid:'.length)}` };
  const symlinks = str('symlinks') ?? 'auto';
  if (symlinks !== 'auto' && symlinks !== 'native' && symlinks !== 'mf') return { kind: 'error', message: `--symlinks must be auto, native or mf, got ${symlinks}` };
  const maxText = str('max-upload');
  const maxUploadBytes = maxText === undefined ? 5 * 1024 ** 3 : parseSize(maxText);
  if (maxUploadBytes === undefined) return { kind: 'error', message: `--max-upload: cannot read size ${JSON.stringify(maxText)}` };
  const scrubText = str('scrub-rate');
  const scrubBytesPerSecond = scrubText === undefined ? 8 * 1024 * 1024 : /^\s*0+\s*$/.test(scrubText) ? 0 : parseSize(scrubText);
  if (scrubBytesPerSecond === undefined) return { kind: 'error', message: `--scrub-rate: cannot read rate ${JSON.stringify(scrubText)} (bytes per second, e.g. 8MiB, or 0)` };
  const nodeId = str('node-id') ?? defaultNodeId();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(nodeId) || nodeId.includes('..')) return { kind: 'error', message: `--node-id must be a valid name, got ${JSON.stringify(nodeId)}` };
  const logLevel = str('log-level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) return { kind: 'error', message: `--log-level: unknown level ${logLevel}` };
  const etcdText = str('etcd');
  return {
    kind: 'run',
    options: {
      data: str('data') ?? './data',
      port: port as number,
      host: str('host') ?? '0.0.0.0',
      tokens: str('tokens'),
      readAuth: readAuth as boolean,
      symlinks,
      etcd: etcdText ? etcdText.split(',').map((s) => s.trim()).filter(Boolean) : [],
      advertise: str('advertise'),
      nodeId,
      partitions: partitions as number,
      ttlS: ttl as number,
      zone: str('zone'),
      keep: keep as number | undefined,
      retentionIntervalMs: (retentionInterval as number) * 1000,
      scrubBytesPerSecond,
      scrubIntervalMs: (scrubInterval as number) * 1000,
      allowServiceAccountToken: allowSat as boolean,
      maxUploadBytes,
      hashThreads: hashThreads as number | undefined,
      logLevel,
      drainTimeoutMs: (drain as number) * 1000,
    },
  };
}

/** Returns the `warden serve --help` text. */
export function serveHelp(): string {
  const lines = Object.entries(SERVE_FLAGS).map(([flag, v]) => `  --${flag.padEnd(29)} ${v.help}${v.env ? ` [${v.env}]` : ''}`);
  return `Usage: warden serve [options]\n\nServes versioned files from DATA over HTTP (single node unless --etcd).\n\nOptions:\n${lines.join('\n')}\n`;
}
