// Errors answered on the wire; `name` becomes `err.name` in the AWS SDK clients.

export class SageMakerApiError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly statusCode = 400,
    /** Extra members of the error body (e.g. ModelError's OriginalStatusCode). */
    readonly extraBody: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = errorName;
  }
}

export const validationException = (message: string): SageMakerApiError =>
  new SageMakerApiError('ValidationException', message);

/** The shared "N validation error(s) detected: …" text of AWS JSON services. */
export function validationErrorsMessage(violations: string[]): string {
  const count = violations.length;
  return `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.join('; ')}`;
}
