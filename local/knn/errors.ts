/** Errors of the local k-NN algorithm, one class per audience (training job, model artifact, inference request). */

/** A customer error that fails a training job: the message becomes its FailureReason, so it starts `ClientError: `. */
export class KnnClientError extends Error {
  /** Each problem found, in the order checked (the message lists them all). */
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[] = [], options?: ErrorOptions) {
    super(message.startsWith('ClientError: ') ? message : `ClientError: ${message}`, options);
    this.name = 'KnnClientError';
    this.problems = problems.length > 0 ? problems : [message.replace(/^ClientError: /, '')];
  }
}

/** A model.tar.gz that cannot be read back into a model (missing member, wrong sizes, bad JSON). */
export class ModelArtifactError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ModelArtifactError';
  }
}

/** A request body or Accept header the inference contract does not allow; the server answers it as a ModelError. */
export class InferenceInputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InferenceInputError';
  }
}
