import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory removed (recursively) on dispose. */
export interface TmpDir extends AsyncDisposable {
  readonly path: string;
  /** Removes the directory and everything in it; idempotent. */
  remove(): Promise<void>;
}

/** Creates a fresh directory under the OS temp dir, named after `prefix`. */
export async function makeTmpDir(prefix = 'warden-test-'): Promise<TmpDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  let removed: Promise<void> | undefined;
  const remove = (): Promise<void> => (removed ??= rm(path, { recursive: true, force: true, maxRetries: 3 }));
  return { path, remove, [Symbol.asyncDispose]: remove };
}
