/**
 * An SMB share without symlink support, for tests: a Samba server bound to 127.0.0.1 (no
 * Unix extensions, as on Azure Files), mounted in user space with Debian's `smbnetfs` (FUSE,
 * libsmbclient). symlink() fails with ENOSYS there, like on a CIFS mount without mfsymlinks.
 * Needs root (Samba listens on port 445: smbnetfs cannot be told another port), /dev/fuse,
 * `smbd` and `smbnetfs`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';
import { requirableSuiteOptions } from './suite-options.js';
import { findBinary } from './find-binary.js';

const HOW_TO_INSTALL = 'install them with `apt-get install -y --no-install-recommends samba smbnetfs fuse3` (Debian/Ubuntu)';


/** Whether something already listens on TCP port 445 (from /proc/net/tcp*, no connection made). */
function port445Busy(): boolean {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(':01BD') && fields[3] === '0A') return true;
    }
  }
  return false;
}

function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
}

/** Why a Samba + smbnetfs share cannot be used here, or undefined when it can. */
export function sambaUnavailable(): string | undefined {
  if (!findBinary('smbd') || !findBinary('smbnetfs') || !(findBinary('fusermount') ?? findBinary('fusermount3'))) {
    return `smbd, smbnetfs or fusermount is missing: ${HOW_TO_INSTALL}`;
  }
  if (process.getuid?.() !== 0) return 'not root: Samba must listen on port 445 of 127.0.0.1, which smbnetfs always dials';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is missing or not accessible (FUSE unavailable)';
  }
  if (port445Busy()) return 'port 445 is already in use on this machine (another SMB server or test run)';
  return undefined;
}

/**
 * Options for `describe` of suites that need the Samba share: skipped with the reason when
 * unavailable, an error instead when `CI=true` or `WARDEN_REQUIRE_SAMBA=1`.
 */
export function sambaSuiteOptions(): { skip?: string } {
  return requirableSuiteOptions(sambaUnavailable(), 'WARDEN_REQUIRE_SAMBA');
}

/** A running Samba share, mounted over SMB with smbnetfs. */
export interface SambaShare extends AsyncDisposable {
  /** The shared directory as the server stores it (a normal local directory). */
  readonly serverDir: string;
  /** The same directory seen through the SMB client (the FUSE mount). */
  readonly clientDir: string;
  /** Unmounts, stops smbd and removes everything; idempotent. */
  close(): Promise<void>;
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

/** Starts smbd on 127.0.0.1:445 serving a fresh directory, and mounts it with smbnetfs. */
export async function startSambaShare(): Promise<SambaShare> {
  const root = await mkdtemp(join(tmpdir(), 'warden-smb-'));
  const serverDir = join(root, 'share');
  const mnt = join(root, 'mnt');
  const home = join(root, 'home');
  for (const dir of ['share', 'mnt', 'home/.smb', 'priv', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'log']) {
    await mkdir(join(root, dir), { recursive: true });
  }
  const conf = join(root, 'smb.conf');
  await writeFile(
    conf,
    [
      '[global]',
      'server role = standalone server',
      'bind interfaces only = yes',
      'interfaces = 127.0.0.1',
      'smb ports = 445',
      'disable netbios = yes',
      'server min protocol = SMB2',
      'unix extensions = no',
      'map to guest = Bad User',
      'guest account = root',
      ...['private dir', 'lock directory', 'state directory', 'cache directory', 'pid directory', 'ncalrpc dir'].map(
        (key, i) => `${key} = ${join(root, ['priv', 'lock', 'state', 'cache', 'pid', 'ncalrpc'][i]!)}`,
      ),
      `log file = ${join(root, 'log', 'smbd.log')}`,
      'load printers = no',
      'printcap name = /dev/null',
      'disable spoolss = yes',
      '[share]',
      `path = ${serverDir}`,
      'read only = no',
      'guest ok = yes',
      'force user = root',
      '',
    ].join('\n'),
  );
  await writeFile(join(home, '.smb/smb.conf'), '[global]\nclient min protocol = SMB2\n');
  await writeFile(join(home, '.smb/smbnetfs.conf'), 'auth "guest" ""\nsmb_query_browsers false\nhost 127.0.0.1 visible=true\n');
  await chmod(join(home, '.smb/smb.conf'), 0o600);
  await chmod(join(home, '.smb/smbnetfs.conf'), 0o600);

  let smbd: ChildProcess | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (isMounted(mnt)) {
        await waitFor(async () => !isMounted(mnt) || (await run('fusermount', ['-u', mnt])).code === 0, { timeoutMs: 10_000, what: `unmount of ${mnt}` }).catch(
          async () => void (await run('fusermount', ['-uz', mnt])),
        );
      }
      if (smbd !== undefined && smbd.exitCode === null && smbd.signalCode === null) {
        const exited = new Promise((resolve) => smbd!.once('exit', resolve));
        smbd.kill('SIGTERM');
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    })());

  try {
    // Its own session and process group: on exit smbd signals its whole process group.
    smbd = spawn(findBinary('smbd')!, ['--foreground', '--no-process-group', '-s', conf, '--debug-stdout', '-d', '0'], { stdio: 'ignore', detached: true });
    const failed = new Promise<never>((_, reject) => smbd!.once('exit', (code) => reject(new Error(`smbd exited with ${code}`))));
    failed.catch(() => undefined);
    await Promise.race([waitFor(() => port445Busy(), { timeoutMs: 15_000, what: 'smbd listening on 127.0.0.1:445' }), failed]);
    const mount = await run(findBinary('smbnetfs')!, [mnt], { ...process.env, HOME: home });
    if (mount.code !== 0) throw new Error(`smbnetfs failed: ${mount.stderr}`);
    await waitFor(() => isMounted(mnt), { timeoutMs: 10_000, what: `smbnetfs mount at ${mnt}` });
    const clientDir = join(mnt, '127.0.0.1', 'share');
    await waitFor(async () => (await readdir(clientDir), true), { timeoutMs: 15_000, what: `the share at ${clientDir}` });
    return { serverDir, clientDir, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}
