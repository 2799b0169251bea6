/**
 * A real file system without symlink support, for tests: a FAT image mounted in user space
 * with Debian's `fusefat` (symlink() fails with ENOSYS there). Needs /dev/fuse, `fusefat`,
 * `mkfs.vfat` (dosfstools) and `fusermount`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';
import { requirableSuiteOptions } from './suite-options.js';
import { findBinary } from './find-binary.js';

const HOW_TO_INSTALL = 'install it with `apt-get install -y fusefat dosfstools fuse3` (Debian/Ubuntu) and make sure /dev/fuse exists';


function tools(): { fusefat: string; mkfs: string; fusermount: string } | string {
  const fusefat = findBinary('fusefat');
  const mkfs = findBinary('mkfs.vfat') ?? findBinary('mkfs.fat');
  const fusermount = findBinary('fusermount') ?? findBinary('fusermount3');
  if (!fusefat || !mkfs || !fusermount) return `fusefat, mkfs.vfat or fusermount is missing: ${HOW_TO_INSTALL}`;
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return `/dev/fuse is missing or not accessible to this user (FUSE unavailable, e.g. in an unprivileged container): ${HOW_TO_INSTALL}`;
  }
  return { fusefat, mkfs, fusermount };
}

function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
}

let cachedReason: string | null | undefined;

/** Why FUSE FAT mounts cannot be used here (after a real trial mount), or undefined when they work. */
export function fuseFatUnavailable(): string | undefined {
  if (cachedReason !== undefined) return cachedReason ?? undefined;
  const found = tools();
  if (typeof found === 'string') {
    cachedReason = found;
    return found;
  }
  const dir = mkdtempSync(join(tmpdir(), 'warden-fat-probe-'));
  const image = join(dir, 'img');
  const mnt = join(dir, 'mnt');
  let reason: string | undefined;
  spawnSync('mkdir', [mnt]);
  const mkfs = spawnSync(found.mkfs, ['-C', image, '1024'], { encoding: 'utf8' });
  if (mkfs.status !== 0) reason = `mkfs.vfat failed: ${mkfs.stderr.trim()}`;
  else {
    const mount = spawnSync(found.fusefat, ['-o', 'rw+', image, mnt], { encoding: 'utf8', timeout: 10_000 });
    if (mount.status !== 0 || !isMounted(mnt)) reason = `fusefat could not mount a FAT image (FUSE not usable here): ${mount.stderr.trim().split('\n').pop() ?? ''}`;
    spawnSync(found.fusermount, ['-u', mnt]);
  }
  spawnSync('rm', ['-rf', dir]);
  cachedReason = reason ?? null;
  return reason;
}

/**
 * Options for `describe` of suites that need a FUSE FAT mount: skipped with the reason when
 * it is unavailable, an error instead when `CI=true` or `WARDEN_REQUIRE_FUSE=1`.
 */
export function fuseFatSuiteOptions(): { skip?: string } {
  return requirableSuiteOptions(fuseFatUnavailable(), 'WARDEN_REQUIRE_FUSE');
}

/** A mounted FAT file system; dispose to unmount and delete the image. */
export interface FatMount extends AsyncDisposable {
  /** The mount point. */
  readonly path: string;
  /** Unmounts (retrying while busy) and removes the image; idempotent. */
  close(): Promise<void>;
}

function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

/**
 * Creates a FAT image of `sizeKiB` (default 16 MiB) and mounts it read-write with fusefat,
 * on a fresh directory or on the existing empty directory `at` (left in place on close).
 */
export async function mountFat(options: { sizeKiB?: number; at?: string } = {}): Promise<FatMount> {
  const found = tools();
  if (typeof found === 'string') throw new Error(found);
  const dir = await mkdtemp(join(tmpdir(), 'warden-fat-'));
  const image = join(dir, 'fat.img');
  const path = options.at ?? join(dir, 'mnt');
  if (options.at === undefined) await mkdir(path);
  const mkfs = await run(found.mkfs, ['-C', image, String(options.sizeKiB ?? 16384)]);
  if (mkfs.code !== 0) throw new Error(`mkfs.vfat failed: ${mkfs.stderr}`);
  const mount = await run(found.fusefat, ['-o', 'rw+', image, path]);
  if (mount.code !== 0) throw new Error(`fusefat failed: ${mount.stderr}`);
  await waitFor(() => isMounted(path), { timeoutMs: 10_000, what: `fusefat mount at ${path}` });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // The daemon may still hold a file for a moment after the last close: retry while busy.
      await waitFor(async () => !isMounted(path) || (await run(found.fusermount, ['-u', path])).code === 0, {
        timeoutMs: 10_000,
        what: `unmount of ${path}`,
      }).catch(async () => void (await run(found.fusermount, ['-uz', path])));
      await rm(dir, { recursive: true, force: true });
    })());
  return { path, close, [Symbol.asyncDispose]: close };
}
