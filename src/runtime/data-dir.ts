import { randomBytes } from 'node:crypto';
import { open, realpath, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { probeNativeSymlinks } from 'warden/mfsymlink';
import { formatBytes, type CheckResult } from './check.js';
import { findMount, hasMfsymlinks, isCifs, readMountinfo, DEFAULT_MOUNTINFO_PATH } from './mountinfo.js';

/** Options of the data-directory checks. */
export interface DataDirCheckOptions {
  /** The mount table to read. Default `/proc/self/mountinfo`. */
  mountinfoPath?: string;
  /** Below this many free bytes the check fails. Default 100 MiB. */
  minFreeBytes?: number;
  /** Below this many free bytes (or 5 % of the file system) it warns. Default 1 GiB. */
  warnFreeBytes?: number;
  /** Tolerated difference between the share's file times and this clock, in ms. Default 60000. */
  maxFileClockSkewMs?: number;
  /** The wall clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Reports which file system holds `dir` and, for CIFS/SMB, whether it has `mfsymlinks`. */
export async function checkDataFileSystem(dir: string, options: DataDirCheckOptions = {}): Promise<CheckResult> {
  const id = 'data-fs';
  let real: string;
  try {
    real = await realpath(dir);
  } catch (error) {
    return { id, status: 'fail', message: `data dir ${dir} is not usable: ${(error as Error).message}` };
  }
  let entries;
  try {
    entries = await readMountinfo({ mountinfoPath: options.mountinfoPath ?? DEFAULT_MOUNTINFO_PATH });
  } catch (error) {
    return { id, status: 'skip', message: `cannot read the mount table (${(error as Error).message})` };
  }
  const mount = findMount(entries, real);
  if (mount === undefined) return { id, status: 'skip', message: `no mount found for ${real} in the mount table` };
  const where = `${real} is on ${mount.fsType} (${mount.source}, mounted at ${mount.mountPoint})`;
  if (isCifs(mount) && !hasMfsymlinks(mount)) {
    return {
      id,
      status: 'warn',
      message:
        `${where} without mfsymlinks: the share rejects symlink(), so Warden writes its aliases as ` +
        'Minshall+French link files itself (byte-compatible with the kernel). To let other tools see them as ' +
        'links, remount with -o ...,mfsymlinks (Kubernetes: add mfsymlinks to the StorageClass mountOptions).',
    };
  }
  return { id, status: 'ok', message: isCifs(mount) ? `${where} with mfsymlinks` : where };
}

/**
 * Writes, syncs and removes a small probe file in `dir`; also compares the probe's modification
 * time with this clock, which catches a file server (SMB, NFS) whose clock is off.
 */
export async function checkDataWritable(dir: string, options: DataDirCheckOptions = {}): Promise<CheckResult[]> {
  const now = options.now ?? Date.now;
  const maxSkew = options.maxFileClockSkewMs ?? 60_000;
  const probe = join(dir, `.warden-doctor-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let mtimeMs: number;
  const before = now();
  try {
    const handle = await open(probe, 'wx', 0o600);
    try {
      await handle.writeFile('warden doctor probe\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    mtimeMs = (await stat(probe)).mtimeMs;
  } catch (error) {
    return [{ id: 'data-writable', status: 'fail', message: `cannot write to ${dir}: ${(error as Error).message}` }];
  } finally {
    await unlink(probe).catch(() => undefined);
  }
  const after = now();
  const skew = mtimeMs < before - 2_000 ? mtimeMs - before : mtimeMs > after + 2_000 ? mtimeMs - after : 0;
  const results: CheckResult[] = [{ id: 'data-writable', status: 'ok', message: `${dir} is writable (create, fsync, unlink)` }];
  results.push(
    Math.abs(skew) > maxSkew
      ? {
          id: 'data-clock',
          status: 'warn',
          message: `files written to ${dir} get times ${Math.round(skew / 1000)} s off this clock: sync the file server's and this host's clocks (NTP)`,
        }
      : { id: 'data-clock', status: 'ok', message: `file times on ${dir} agree with this clock` },
  );
  return results;
}

/** Reports the free space of the file system holding `dir`. */
export async function checkFreeSpace(dir: string, options: DataDirCheckOptions = {}): Promise<CheckResult> {
  const id = 'data-free-space';
  const minFree = options.minFreeBytes ?? 100 * 1024 * 1024;
  const warnFree = options.warnFreeBytes ?? 1024 * 1024 * 1024;
  let stats;
  try {
    stats = await statfs(dir);
  } catch (error) {
    return { id, status: 'fail', message: `cannot read free space of ${dir}: ${(error as Error).message}` };
  }
  const free = stats.bavail * stats.bsize;
  const total = stats.blocks * stats.bsize;
  const figure = `${formatBytes(free)} free of ${formatBytes(total)}`;
  if (free < minFree) return { id, status: 'fail', message: `${figure} on ${dir} (need at least ${formatBytes(minFree)})` };
  if (free < warnFree || (total > 0 && free / total < 0.05)) return { id, status: 'warn', message: `${figure} on ${dir}: running low` };
  return { id, status: 'ok', message: `${figure} on ${dir}` };
}

/**
 * Probes whether `dir` takes native symlinks (`symlink()` then `unlink()`, via `warden/mfsymlink`).
 * Without them Warden still works: it stores aliases as Minshall+French files.
 */
export async function checkDataSymlinks(dir: string): Promise<CheckResult> {
  const id = 'data-symlinks';
  try {
    if (await probeNativeSymlinks(dir)) return { id, status: 'ok', message: `native symlinks work in ${dir}` };
  } catch (error) {
    return { id, status: 'fail', message: (error as Error).message };
  }
  return {
    id,
    status: 'warn',
    message:
      `${dir} rejects symlink(): Warden stores aliases as Minshall+French link files instead (works, ` +
      'but tools other than Warden and kernels without mfsymlinks see them as small regular files)',
  };
}
