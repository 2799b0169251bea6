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
export { probeNativeSymlinks, clearNativeSymlinkCache } from './probe.js';
export type { ProbeOptions } from './probe.js';
export { createSymlink } from './create.js';
export type { CreateSymlinkOptions, CreateSymlinkResult, LinkKind } from './create.js';
export { readSymlink, linkKind, inspectLink } from './read.js';
export type { ReadSymlinkOptions, LinkInspection } from './read.js';
export { convertTree } from './convert.js';
export type { ConvertTreeOptions, ConvertReport, ConvertedLink, SkippedEntry } from './convert.js';
export { scanTree } from './scan.js';
export type { ScanTreeOptions, ScannedEntry } from './scan.js';
