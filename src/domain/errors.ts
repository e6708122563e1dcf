/** Errors that name the object and say what to do; their names become the Step Functions error names. */
export class DatasetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetNotFoundError';
  }
}

export class DatasetTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetTooLargeError';
  }
}

export class EvaluationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvaluationError';
  }
}
