/** Stable codes of the manifest tooling, with a one-line meaning each (kept in docs/errors.md). */
export const ERROR_CODES: Readonly<Record<string, string>> = Object.freeze({
  WARDEN_ERR_DEPLOY_UNSUPPORTED: 'a kustomization uses a feature the built-in renderer does not implement (it refuses rather than guess)',
  WARDEN_ERR_DEPLOY_BAD_MANIFEST: 'a manifest or kustomization file is malformed (bad YAML, missing kind or name, patch target not found)',
});

/** Base class of the errors of `src/deploy/` (the manifest renderer and checks used by the tests). */
export class DeployError extends Error {
  override readonly name: string = 'DeployError';
  /** Stable machine-readable code, `WARDEN_ERR_DEPLOY_*`. */
  readonly code: string;
  /** Always false: a manifest does not fix itself. */
  readonly retryable = false;

  /** Creates an error with a code from {@link ERROR_CODES}. */
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
