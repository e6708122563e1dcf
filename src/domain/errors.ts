import { PipelineError } from '../errors';

/** Errors that name the object and say what to do; their names become the Step Functions error names. */
export class DatasetNotFoundError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatasetNotFoundError';
  }
}

export class DatasetTooLargeError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatasetTooLargeError';
  }
}

/** The test channel or the endpoint's answers cannot be evaluated (malformed rows, missing predictions). */
export class EvaluationError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvaluationError';
  }
}

/** A run's artifacts disagree with each other (e.g. the prepared dataset and the split made for it). */
export class ArtifactMismatchError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ArtifactMismatchError';
  }
}

/** A name or URI does not have the shape SageMaker or S3 requires. */
export class InvalidNameError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidNameError';
  }
}
