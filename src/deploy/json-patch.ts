import { DeployError } from './errors.js';
import type { Json } from './strategic-merge.js';

/** One RFC 6902 operation; `add`, `remove` and `replace` are supported. */
export interface JsonPatchOperation {
  op: string;
  path: string;
  value?: Json;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', `JSON pointer ${path} must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Applies RFC 6902 `add`/`remove`/`replace` operations to a copy of `document`.
 *
 * @throws DeployError `WARDEN_ERR_DEPLOY_UNSUPPORTED` for other operations,
 *   `WARDEN_ERR_DEPLOY_BAD_MANIFEST` when a path does not exist.
 */
export function applyJsonPatch(document: Json, operations: readonly JsonPatchOperation[]): Json {
  const root = structuredClone(document);
  for (const operation of operations) {
    if (!['add', 'remove', 'replace'].includes(operation.op)) {
      throw new DeployError('WARDEN_ERR_DEPLOY_UNSUPPORTED', `JSON patch op ${operation.op} is not supported`);
    }
    const tokens = pointer(operation.path);
    const last = tokens.pop();
    if (last === undefined) throw new DeployError('WARDEN_ERR_DEPLOY_UNSUPPORTED', 'JSON patch on the whole document');
    let parent: Json = root;
    for (const token of tokens) {
      const next: Json | undefined = Array.isArray(parent)
        ? parent[Number(token)]
        : typeof parent === 'object' && parent !== null
          ? parent[token]
          : undefined;
      if (next === undefined) throw new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', `JSON patch path ${operation.path} does not exist`);
      parent = next;
    }
    if (operation.op !== 'remove' && operation.value === undefined) {
      throw new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', `JSON patch ${operation.op} ${operation.path} has no value`);
    }
    const value = operation.value as Json;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      const bound = operation.op === 'add' ? parent.length : parent.length - 1;
      if (!Number.isInteger(index) || index < 0 || index > bound) {
        throw new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', `JSON patch path ${operation.path} is out of range`);
      }
      if (operation.op === 'add') parent.splice(index, 0, value);
      else if (operation.op === 'remove') parent.splice(index, 1);
      else parent[index] = value;
    } else if (typeof parent === 'object' && parent !== null) {
      if (operation.op !== 'add' && !(last in parent)) {
        throw new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', `JSON patch path ${operation.path} does not exist`);
      }
      if (operation.op === 'remove') delete parent[last];
      else parent[last] = value;
    } else {
      throw new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', `JSON patch path ${operation.path} goes through a scalar`);
    }
  }
  return root;
}
