/** What a Catch put under `$.failure.<StateName>`: the error name and cause Step Functions reported. */
export interface CaughtFailure {
  Error?: string;
  Cause?: string;
}

export interface ExplainedFailure {
  /** The original error name, so Retry/Catch/alarms keep matching on it. */
  error: string;
  /** Which step, what happened, what to do. */
  cause: string;
  state: string;
}

const ADVICE: Record<string, string> = {
  Split: 'Check the test fraction and that the dataset has enough rows for both a train and a test set.',
  Upload: 'Check that the prepared dataset under the run prefix is intact and that the function may write under runs/.',
  Train:
    'Read the training job FailureReason: "ClientError" means the data or hyperparameters were rejected (fix the input and start a new run); "AlgorithmError" or capacity errors can be retried.',
  CreateModel: 'Check the model artifact exists and the SageMaker execution role can read it; then start a new run.',
  CreateEndpointConfig:
    'Check the hosting instance type and count are available in this region and within your quotas.',
  CreateServerlessEndpointConfig:
    'Check evaluation.serverless (memory 1024-6144 MB in 1024 MB steps, max concurrency 1-200) and your serverless concurrency quota.',
  Transform:
    'Read the transform job FailureReason: "ClientError" means the test channel or the request was rejected (fix it and start a new run); capacity errors can be retried. Check the transform instance type is available for batch transform in this region.',
  CreateEndpoint: 'Check the endpoint FailureReason; instance capacity or quota problems can be retried later.',
  DescribeEndpoint: 'The endpoint status could not be read; check the state machine role and retry.',
  WaitForEndpoint:
    'The endpoint did not become InService in time; raise ENDPOINT_MAX_WAIT_SECONDS or check its events.',
  Evaluate:
    'The endpoint rejected or failed on the test rows (ModelError), the transform output did not match the test channel, or the evaluation could not be written; check the test channel and the endpoint or transform job logs.',
};

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Pulls the human part out of a cause: a Lambda error message, a training job's FailureReason, an endpoint's. */
function whatHappened(failure: CaughtFailure): string {
  const cause = parseJson(failure.Cause);
  if (cause) {
    if (typeof cause.errorMessage === 'string') return `${cause.errorType ?? failure.Error}: ${cause.errorMessage}`;
    if (typeof cause.TrainingJobStatus === 'string') {
      const reason = cause.FailureReason ? `: ${cause.FailureReason}` : '';
      return `training job ${cause.TrainingJobName ?? ''} ended ${cause.TrainingJobStatus}${reason}`.replace('  ', ' ');
    }
    if (typeof cause.TransformJobStatus === 'string') {
      const reason = cause.FailureReason ? `: ${cause.FailureReason}` : '';
      return `transform job ${cause.TransformJobName ?? ''} ended ${cause.TransformJobStatus}${reason}`.replace(
        '  ',
        ' ',
      );
    }
    if (typeof cause.EndpointStatus === 'string') {
      const reason = cause.FailureReason ? `: ${cause.FailureReason}` : '';
      return `endpoint ${cause.EndpointName ?? ''} is ${cause.EndpointStatus}${reason}`.replace('  ', ' ');
    }
  }
  return [failure.Error, failure.Cause].filter(Boolean).join(': ') || 'unknown error';
}

/** Errors of the capacity queue (src/domain/capacity.ts): the cause already says what to do. */
const CAPACITY_ADVICE: Record<string, string> = {
  NoCapacity: 'Start the run again when the account has capacity (README "Bursts and quotas").',
  QuotaTooLow: 'No run with this request can get capacity until the quota is raised.',
};

/** Turns the caught failure of one state into a message that says which step, what happened and what to do. */
export function explainFailure(failures: Record<string, CaughtFailure> | undefined): ExplainedFailure {
  const [state, failure] = Object.entries(failures ?? {})[0] ?? ['unknown step', {}];
  const advice = CAPACITY_ADVICE[failure.Error ?? ''] ?? ADVICE[state] ?? 'See the execution history for details.';
  return {
    error: failure.Error ?? 'PipelineFailed',
    cause: `${state} failed: ${whatHappened(failure)}. ${advice} The run's SageMaker resources were deleted.`,
    state,
  };
}
