import { DeployError } from './errors.js';

/** A JSON value as found in a manifest. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isMap(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The list fields this renderer merges element by element, with their merge key, as the
 * Kubernetes API declares them (`patchMergeKey`). The key of the map is the parent field and
 * the list field, so `ports` of a container differs from `ports` of a Service.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.volumes': 'name',
  'spec.imagePullSecrets': 'name',
  'containers[].env': 'name',
  'containers[].volumeMounts': 'mountPath',
  'containers[].ports': 'containerPort',
  'initContainers[].env': 'name',
  'initContainers[].volumeMounts': 'mountPath',
};

/**
 * Applies a strategic-merge patch to a copy of `target`, for the subset of the Kubernetes
 * semantics this project's manifests use: maps merge key by key, `null` deletes a key, lists
 * with a known merge key merge element by element (patch elements first, as kustomize orders them), lists of scalars
 * are replaced. Anything else (a `$patch` directive, a list of maps without a known merge key)
 * throws instead of guessing.
 *
 * @throws DeployError `WARDEN_ERR_DEPLOY_UNSUPPORTED`
 */
export function strategicMerge(target: Json, patch: Json): Json {
  return mergeValue(structuredClone(target), patch, '', '');
}

function mergeValue(target: Json | undefined, patch: Json, parent: string, field: string): Json {
  if (isMap(patch)) {
    const result: { [key: string]: Json } = isMap(target) ? target : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) {
        throw new DeployError('WARDEN_ERR_DEPLOY_UNSUPPORTED', `strategic-merge directive ${key} is not supported (at ${field})`);
      }
      if (value === null) delete result[key];
      else result[key] = mergeValue(result[key], value, field, key);
    }
    return result;
  }
  if (Array.isArray(patch)) {
    if (!patch.some(isMap)) return patch;
    const mergeKey = MERGE_KEYS[`${parent}.${field}`];
    if (mergeKey === undefined) {
      throw new DeployError(
        'WARDEN_ERR_DEPLOY_UNSUPPORTED',
        `no merge key known for the list ${parent}.${field}; use a JSON 6902 patch for it`,
      );
    }
    // kustomize (kyaml) puts the patch's elements first, in the patch's order, then the
    // target's remaining elements; order matters for env, where $(VAR) sees only earlier vars.
    const original: Json[] = Array.isArray(target) ? target : [];
    const result: Json[] = [];
    const used = new Set<number>();
    for (const element of patch) {
      if (!isMap(element) || element[mergeKey] === undefined) {
        throw new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', `an element of ${parent}.${field} lacks its merge key ${mergeKey}`);
      }
      const index = original.findIndex((item) => isMap(item) && item[mergeKey] === element[mergeKey]);
      if (index === -1) {
        result.push(element);
      } else {
        used.add(index);
        result.push(mergeValue(original[index], element, parent, `${field}[]`));
      }
    }
    result.push(...original.filter((_item, index) => !used.has(index)));
    return result;
  }
  return patch;
}
