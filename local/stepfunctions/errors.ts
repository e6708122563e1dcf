/** An error the local interpreter matches in Retry/Catch by `name`; `message` is the Cause Step Functions reports. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** SageMaker exceptions that the service model declares; everything else is "unmodelled". */
const MODELLED_SAGEMAKER_ERRORS = new Set([
  'ResourceInUse',
  'ResourceLimitExceeded',
  'ResourceNotFound',
  'ConflictException',
]);

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

function withException(name: string): string {
  return name.endsWith('Exception') ? name : `${name}Exception`;
}

/** Optimised integrations (arn:aws:states:::sagemaker:*): unmodelled errors become AmazonSageMakerException. */
export function optimisedSageMakerError(error: unknown): TaskError {
  const e = error as SdkError;
  const code = e.name ?? 'InternalFailure';
  const status = e.$metadata?.httpStatusCode ?? 400;
  const cause = `${e.message ?? code} (Service: AmazonSageMaker; Status Code: ${status}; Error Code: ${code}; Request ID: ${e.$metadata?.requestId ?? 'local'}; Proxy: null)`;
  const name = MODELLED_SAGEMAKER_ERRORS.has(code)
    ? `SageMaker.${withException(code)}`
    : 'SageMaker.AmazonSageMakerException';
  return new TaskError(name, cause);
}

/** AWS SDK integrations (arn:aws:states:::aws-sdk:<service>:*): modelled errors keep their name plus "Exception". */
export function sdkIntegrationError(
  service: 'SageMaker' | 'SageMakerRuntime',
  error: unknown,
  modelled: Set<string>,
): TaskError {
  const e = error as SdkError;
  const code = e.name ?? 'InternalFailure';
  const status = e.$metadata?.httpStatusCode ?? 400;
  const cause = `${e.message ?? code} (Service: ${service}, Status Code: ${status}, Request ID: ${e.$metadata?.requestId ?? 'local'})`;
  const name = modelled.has(code) ? `${service}.${withException(code)}` : `${service}.${service}Exception`;
  return new TaskError(name, cause);
}

export { MODELLED_SAGEMAKER_ERRORS };

/** Step Functions' quota on a state's input or output and on an execution's input: 256 KiB of UTF-8 JSON. */
export const MAX_PAYLOAD_BYTES = 262_144;

/** Size of a value as Step Functions counts it: the UTF-8 bytes of its JSON text. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

export const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';

/**
 * States.DataLimitExceeded. AWS documents it as a terminal error that `States.ALL` cannot catch
 * (concepts-error-handling): the interpreter's wildcards (`States.ALL`, `States.TaskFailed`) must not match it, so it
 * is catchable and retryable only where a catcher or retrier names it explicitly (`explicitly`: does the state's).
 */
export class DataLimitExceededError extends TaskError {
  readonly isCatchable: boolean;
  readonly isRetryable: boolean;

  constructor(subject: string, what: 'result' | 'input', explicitly = { catchable: false, retryable: false }) {
    super(
      DATA_LIMIT_EXCEEDED,
      what === 'result'
        ? `The state/task '${subject}' returned a result with a size exceeding the maximum number of bytes service limit.`
        : `The state/task '${subject}' has an input with a size exceeding the maximum number of bytes service limit.`,
    );
    this.isCatchable = explicitly.catchable;
    this.isRetryable = explicitly.retryable;
  }
}
