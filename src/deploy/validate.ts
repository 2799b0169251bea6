import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { K8sObject } from './kustomize.js';

/** Where each kind's model lives in `kubernetes-models` (v4: Kubernetes 1.30 types, runs on Node 20). */
const MODELS: Readonly<Record<string, string>> = {
  'v1/Namespace': 'v1/Namespace',
  'v1/ServiceAccount': 'v1/ServiceAccount',
  'v1/Service': 'v1/Service',
  'v1/Secret': 'v1/Secret',
  'v1/ConfigMap': 'v1/ConfigMap',
  'v1/PersistentVolumeClaim': 'v1/PersistentVolumeClaim',
  'v1/PersistentVolume': 'v1/PersistentVolume',
  'v1/Pod': 'v1/Pod',
  'apps/v1/StatefulSet': 'apps/v1/StatefulSet',
  'apps/v1/Deployment': 'apps/v1/Deployment',
  'apps/v1/DaemonSet': 'apps/v1/DaemonSet',
  'policy/v1/PodDisruptionBudget': 'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'networking.k8s.io/v1/NetworkPolicy',
  'storage.k8s.io/v1/StorageClass': 'storage.k8s.io/v1/StorageClass',
  'rbac.authorization.k8s.io/v1/Role': 'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
};

/** Names an object for messages: `StatefulSet/warden`. */
export function describeObject(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

function modelPath(object: K8sObject): string | undefined {
  return MODELS[`${object.apiVersion}/${object.kind}`];
}

/**
 * Validates each object against the Kubernetes JSON schema of its kind (`kubernetes-models`):
 * types, required fields, enums. Returns one message per problem; an unknown kind is a problem.
 * The schemas accept unknown fields, which {@link typecheckObjects} catches.
 */
export async function validateSchemas(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const path = modelPath(object);
    if (path === undefined) {
      problems.push(`${describeObject(object)}: no Kubernetes model for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    const module = (await import(`kubernetes-models/${path}`)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = module[object.kind]!;
    try {
      new Model(structuredClone(object)).validate();
    } catch (error) {
      const details = (error as { errors?: { instancePath: string; message: string }[] }).errors;
      problems.push(
        `${describeObject(object)}: ${details?.map((d) => `${d.instancePath} ${d.message}`).join('; ') ?? (error as Error).message}`,
      );
    }
  }
  return problems;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Type-checks each object, as a literal, against the TypeScript interface of its kind with the
 * TypeScript compiler: this catches what the schemas let through, such as a misspelt field
 * (`readOnlyRootFilesystems`), which the API server would silently drop.
 */
export function typecheckObjects(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const sources = new Map<string, { text: string; object: K8sObject }>();
  objects.forEach((object, index) => {
    const path = modelPath(object);
    if (path === undefined) return; // reported by validateSchemas
    const file = join(packageRoot, '.manifest-check', `object-${index}.ts`);
    const text = `import type { I${object.kind} as T } from 'kubernetes-models/${path}';\nexport const object: T = ${JSON.stringify(object, null, 1)};\n`;
    sources.set(file, { text, object });
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => sources.has(file) || fileExists.call(host, file);
  host.readFile = (file) => sources.get(file)?.text ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const source = sources.get(file);
    return source === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, source.text, language);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const source = diagnostic.file === undefined ? undefined : sources.get(diagnostic.file.fileName);
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (source === undefined) {
      problems.push(`type check: ${message}`);
      continue;
    }
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const near = source.text.split('\n')[line]?.trim() ?? '';
    problems.push(`${describeObject(source.object)}: ${message} (near ${near})`);
  }
  return problems;
}
