/**
 * The base of every error the pipeline throws on purpose. Each subclass sets its own `name` as a string literal:
 * Lambda reports it as the errorType, so it is the error name Step Functions Retry/Catch and tests match, and the
 * minified bundles would otherwise rename the classes.
 */
export class PipelineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineError';
  }
}

/** A stage setting (Lambda environment variable) is missing or invalid: fix the deployment, not the input. */
export class ConfigurationError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/** The caught value as an Error, for logging and wrapping without losing what was thrown. */
export function toError(value: unknown): Error {
  return value instanceof Error
    ? value
    : new PipelineError(`Non-Error value thrown: ${String(value)}`, { cause: value });
}
