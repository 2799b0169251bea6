/**
 * Layout constants of the Minshall+French ("XSym") symlink file, named after the Linux
 * kernel's `CIFS_MF_SYMLINK_*` macros (fs/smb/client/link.c).
 */

/** Size of every Minshall+French file, in bytes (43-byte header + 1024 target bytes). */
export const MF_FILE_SIZE = 1067;
/** Longest target the format holds, in bytes. */
export const MF_MAX_TARGET_LENGTH = 1024;
/** Offset of the 4-digit decimal length field. */
export const MF_LENGTH_OFFSET = 5;
/** Offset of the 32-character lower-case hex MD5 of the target. */
export const MF_HASH_OFFSET = 10;
/** Offset of the first target byte. */
export const MF_TARGET_OFFSET = 43;
/** How many leading hash characters the Linux kernel compares (`strncmp(…, 17)`). */
export const MF_KERNEL_HASH_CHARS = 17;
/** The magic the kernel writes: `XSym\n`. */
export const MF_MAGIC: Uint8Array = Uint8Array.of(0x58, 0x53, 0x79, 0x6d, 0x0a);
