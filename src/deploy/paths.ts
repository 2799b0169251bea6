import { fileURLToPath } from 'node:url';

/** The repository's `deploy/` folder (this file runs from `dist/deploy/`). */
export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url));

/** The kustomize overlays shipped in `deploy/kubernetes/overlays/`. */
export const OVERLAYS = ['dev', 'multi-zone', 'external-etcd'] as const;
