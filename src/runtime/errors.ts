/** Stable codes of the runtime self-checks, with a one-line meaning each (kept in docs/errors.md). */
export const ERROR_CODES: Readonly<Record<string, string>> = Object.freeze({
  WARDEN_ERR_RUNTIME_SERVICE_ACCOUNT_TOKEN:
    'a Kubernetes service-account token is mounted in the container; `warden serve` refuses to start',
  WARDEN_ERR_RUNTIME_BAD_MOUNTINFO: 'a line of /proc/self/mountinfo could not be parsed',
  WARDEN_ERR_RUNTIME_BAD_OPTION: 'a runtime-check option is invalid (for example an etcd URL that is not http(s))',
});

/** Base class of every error thrown by `src/runtime/`. */
export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
  /** Stable machine-readable code, `WARDEN_ERR_RUNTIME_*`. */
  readonly code: string;
  /** Whether the same call may succeed if simply tried again. */
  readonly retryable: boolean;

  /** Creates an error with a code from {@link ERROR_CODES}. */
  constructor(code: string, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Thrown when a service-account token is mounted and the caller did not allow it. */
export class ServiceAccountTokenError extends RuntimeError {
  override readonly name = 'ServiceAccountTokenError';
  /** What was found: file paths and mountinfo mount points. */
  readonly evidence: readonly string[];

  /** Creates the refusal error; `message` should say how to fix the manifest. */
  constructor(message: string, evidence: readonly string[]) {
    super('WARDEN_ERR_RUNTIME_SERVICE_ACCOUNT_TOKEN', message);
    this.evidence = evidence;
  }
}
