export { Store, aliasTargetVersion } from './store.js';
export type { VersionMeta, AliasEntry, StoreOptions, StoreChange, PublishOptions, PublishResult, OpenVersion } from './store.js';
export { StoreError, ERROR_CODES, fromFsError } from './errors.js';
export { isValidName, assertName } from './names.js';
export type { NameKind } from './names.js';
export { localWriteAuthority } from './write-authority.js';
export type { WriteAuthority, WriteGuard, LocalWriteAuthorityOptions } from './write-authority.js';
export { chooseContentType, isSafeContentType } from './content-type.js';
export type { SymlinkMode } from './alias-link.js';
