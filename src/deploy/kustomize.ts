import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DeployError } from './errors.js';
import { applyJsonPatch, type JsonPatchOperation } from './json-patch.js';
import { strategicMerge, type Json } from './strategic-merge.js';

/** A Kubernetes object as rendered: `apiVersion`, `kind`, `metadata.name` at least. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Kinds without a namespace, which `namespace:` leaves alone. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'StorageClass', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding',
  'CustomResourceDefinition', 'PriorityClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration',
]);

/** Says whether objects of this kind live in a namespace. */
export function isNamespaced(kind: string): boolean {
  return !CLUSTER_SCOPED.has(kind);
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'patches', 'images', 'replicas']);

interface Target {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
}
interface Patch {
  path?: string;
  patch?: string;
  target?: Target;
}
interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}
interface Kustomization {
  kind?: string;
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: Patch[];
  images?: ImageRule[];
  replicas?: { name: string; count: number }[];
}

function bad(message: string): DeployError {
  return new DeployError('WARDEN_ERR_DEPLOY_BAD_MANIFEST', message);
}

/** Parses a multi-document YAML text into JSON values, failing on any YAML error. */
export function parseYamlDocuments(text: string, source: string): Json[] {
  const values: Json[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw bad(`${source}: ${document.errors[0]!.message}`);
    const value = document.toJS() as Json;
    if (value !== null) values.push(value);
  }
  return values;
}

function asObject(value: Json, source: string): K8sObject {
  const object = value as Partial<K8sObject>;
  if (typeof object !== 'object' || typeof object.kind !== 'string' || typeof object.apiVersion !== 'string' || typeof object.metadata?.name !== 'string') {
    throw bad(`${source}: every document must have apiVersion, kind and metadata.name`);
  }
  return object as K8sObject;
}

async function loadKustomization(dir: string, expectedKind: 'Kustomization' | 'Component'): Promise<Kustomization> {
  const file = join(dir, 'kustomization.yaml');
  const [value] = parseYamlDocuments(await readFile(file, 'utf8'), file);
  const k = value as Kustomization & Record<string, unknown>;
  if (typeof k !== 'object' || k === null) throw bad(`${file} is empty`);
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new DeployError('WARDEN_ERR_DEPLOY_UNSUPPORTED', `${file}: field '${field}' is not supported by this renderer`);
  }
  if ((k.kind ?? 'Kustomization') !== expectedKind) throw bad(`${file}: expected kind ${expectedKind}, found ${k.kind}`);
  return k;
}

function matches(object: K8sObject, target: Target): boolean {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  return (
    (target.kind === undefined || target.kind === object.kind) &&
    (target.name === undefined || target.name === object.metadata.name) &&
    (target.group === undefined || target.group === group) &&
    (target.version === undefined || target.version === version)
  );
}

async function applyPatch(objects: K8sObject[], dir: string, patch: Patch): Promise<K8sObject[]> {
  for (const key of Object.keys(patch)) {
    if (!['path', 'patch', 'target'].includes(key)) throw new DeployError('WARDEN_ERR_DEPLOY_UNSUPPORTED', `${dir}: patch field '${key}' is not supported`);
  }
  for (const key of Object.keys(patch.target ?? {})) {
    if (!['group', 'version', 'kind', 'name'].includes(key)) throw new DeployError('WARDEN_ERR_DEPLOY_UNSUPPORTED', `${dir}: patch target field '${key}' is not supported`);
  }
  const source = patch.path === undefined ? `${dir} (inline patch)` : join(dir, patch.path);
  const text = patch.path === undefined ? patch.patch : await readFile(join(dir, patch.path), 'utf8');
  if (text === undefined) throw bad(`${dir}: a patch needs path or patch`);
  const [body] = parseYamlDocuments(text, source);
  if (body === undefined) throw bad(`${source}: empty patch`);
  let target: Target;
  if (Array.isArray(body)) {
    if (patch.target === undefined) throw bad(`${source}: a JSON 6902 patch needs a target`);
    target = patch.target;
  } else {
    const self = asObject(body, source);
    target = patch.target ?? { kind: self.kind, name: self.metadata.name };
  }
  let hits = 0;
  const result = objects.map((object) => {
    if (!matches(object, target)) return object;
    hits += 1;
    return (Array.isArray(body) ? applyJsonPatch(object as unknown as Json, body as unknown as JsonPatchOperation[]) : strategicMerge(object as unknown as Json, body)) as unknown as K8sObject;
  });
  if (hits === 0) throw bad(`${source}: the patch matches no object (${JSON.stringify(target)})`);
  return result;
}

function setImages(objects: K8sObject[], rules: readonly ImageRule[]): K8sObject[] {
  return objects.map((object) => {
    const copy = structuredClone(object);
    const podSpec = (copy.spec as { template?: { spec?: Record<string, Json> } } | undefined)?.template?.spec;
    for (const list of ['containers', 'initContainers']) {
      for (const container of (podSpec?.[list] as { image?: string }[] | undefined) ?? []) {
        if (container.image === undefined) continue;
        const [withTag = '', digest] = container.image.split('@');
        const colon = withTag.lastIndexOf(':');
        const hasTag = colon > withTag.lastIndexOf('/');
        const name = hasTag ? withTag.slice(0, colon) : withTag;
        const rule = rules.find((r) => r.name === name);
        if (rule === undefined) continue;
        const newName = rule.newName ?? name;
        if (rule.digest !== undefined) container.image = `${newName}@${rule.digest}`;
        else if (rule.newTag !== undefined) container.image = `${newName}:${rule.newTag}`;
        else container.image = `${newName}${hasTag ? withTag.slice(colon) : ''}${digest === undefined ? '' : `@${digest}`}`;
      }
    }
    return copy;
  });
}

async function build(dir: string, kind: 'Kustomization' | 'Component', accumulated: K8sObject[]): Promise<K8sObject[]> {
  const k = await loadKustomization(dir, kind);
  let objects = [...accumulated];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    if ((await stat(path)).isDirectory()) objects.push(...(await build(path, 'Kustomization', [])));
    else objects.push(...parseYamlDocuments(await readFile(path, 'utf8'), path).map((value) => asObject(value, path)));
  }
  // Components see everything accumulated so far and transform it in order, as in kustomize.
  for (const component of k.components ?? []) objects = await build(join(dir, component), 'Component', objects);
  for (const patch of k.patches ?? []) objects = await applyPatch(objects, dir, patch);
  if (k.namespace !== undefined) {
    const namespace = k.namespace;
    objects = objects.map((o) => (isNamespaced(o.kind) ? { ...o, metadata: { ...o.metadata, namespace } } : o));
  }
  if (k.images !== undefined) objects = setImages(objects, k.images);
  for (const { name, count } of k.replicas ?? []) {
    let hits = 0;
    objects = objects.map((o) => {
      if (o.metadata.name !== name || !['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind)) return o;
      hits += 1;
      return { ...o, spec: { ...(o.spec as Record<string, unknown>), replicas: count } } as K8sObject;
    });
    if (hits === 0) throw bad(`${dir}: replicas for ${name} match no workload`);
  }
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw bad(`${dir}: ${id} is defined twice`);
    seen.add(id);
  }
  return objects;
}

/**
 * Renders a kustomization directory into its objects, like `kustomize build`, for the subset of
 * kustomize this project uses: `resources` (files and directories), `components`, `patches`
 * (strategic merge, or JSON 6902 with a target), `namespace`, `images` and `replicas`. Any
 * other field throws rather than being ignored.
 *
 * @throws DeployError `WARDEN_ERR_DEPLOY_UNSUPPORTED` or `WARDEN_ERR_DEPLOY_BAD_MANIFEST`
 */
export async function renderKustomization(dir: string): Promise<K8sObject[]> {
  return build(dir, 'Kustomization', []);
}
