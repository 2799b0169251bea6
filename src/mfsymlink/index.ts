/**
 * `warden/mfsymlink`: Minshall+French ("XSym") symlinks, byte-compatible with the Linux
 * kernel's CIFS client, and helpers that create, read and convert links on file systems with
 * or without native symlinks. Imports nothing else from Warden.
 */
export { encode, decode, parseMfSymlink, couldBeMfSymlink, targetBytes } from './codec.js';
export type { DecodeOptions, MfSymlinkInfo } from './codec.js';
export { MF_FILE_SIZE, MF_MAX_TARGET_LENGTH, MF_TARGET_OFFSET, MF_HASH_OFFSET, MF_LENGTH_OFFSET, MF_KERNEL_HASH_CHARS } from './format.js';
export { isKernelSpace } from './kernel-scan.js';
export { MfSymlinkError, ERROR_CODES, isMfSymlinkError } from './errors.js';
export type { MfSymlinkErrorOptions } from './errors.js';
