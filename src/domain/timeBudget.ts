// One time budget per run: the execution's 6 hours split between the Lambda steps, training, the endpoint wait and
// waiting for capacity. Prepare validates it; the state machine's TimeoutSeconds follow from it.
import { maxPollsPerClaim, type CapacitySettings } from './capacity';

/** The state machine's TimeoutSeconds (statemachine/pipeline.asl.json; a test keeps the two equal). */
export const EXECUTION_TIMEOUT_SECONDS = 21_600;
/**
 * The Lambda Tasks' TimeoutSeconds on the longest path (Prepare 330, Split 90, Upload 330, Evaluate 930,
 * RecordPromotion 330, CleanUp 330, Report 330; a test sums them from the definition).
 */
export const LAMBDA_STEPS_SECONDS = 2_670;
/** Transform's TimeoutSeconds: a batch transform job over the test channel. */
export const TRANSFORM_SECONDS = 3_600;
/** SageMaker's provisioning and upload around a training job's MaxRuntimeInSeconds: the Task allows this much more. */
export const TRAINING_OVERHEAD_SECONDS = 600;
/** Below this a claim could not wait for a single poll: the budget is refused. */
export const MIN_QUEUE_SECONDS_PER_CLAIM = 1;

export interface CapacityStageSettings {
  /** The longest a run waits for capacity in total (stage param capacityMaxQueueSeconds). */
  maxQueueSeconds: number;
  initialDelaySeconds: number;
  maxDelaySeconds: number;
}

/** Three hours of waiting in total, 15 s doubling up to 5 min between polls. */
export const DEFAULT_CAPACITY: CapacityStageSettings = {
  maxQueueSeconds: 10_800,
  initialDelaySeconds: 15,
  maxDelaySeconds: 300,
};

export interface TimeBudget {
  executionSeconds: number;
  lambdaSeconds: number;
  /** Every training job in sequence: cross-validation waves (two folds at a time), then the final job. */
  trainingSeconds: number;
  /** Each training Task's TimeoutSeconds (MaxRuntimeInSeconds + provisioning). */
  trainingTaskSeconds: number;
  /** The endpoint wait (and the serving endpoint's), or the transform job. */
  evaluationSeconds: number;
  /** What is left for waiting for capacity, capped by the stage's maximum, and each claim's share of it. */
  queueSeconds: number;
  queueSecondsPerClaim: number;
}

export interface BudgetInputs {
  trainingMaxRuntimeSeconds: number;
  folds: number;
  foldConcurrency: number;
  evaluationMode: 'endpoint' | 'serverless' | 'batchTransform';
  endpointMaxWaitSeconds: number;
  serve: boolean;
  capacity: CapacityStageSettings;
  /** Tuning on: the tuning job's ResourceLimits.MaxRuntimeInSeconds (it runs before the final training job). */
  tuningMaxRuntimeSeconds?: number;
}

/** The run's budget, or the reason it cannot fit in the execution's time (a message naming the parts). */
export function timeBudget(inputs: BudgetInputs): TimeBudget | string {
  const waves = Math.ceil(inputs.folds / inputs.foldConcurrency);
  const trainingSeconds = (waves + 1) * inputs.trainingMaxRuntimeSeconds + (inputs.tuningMaxRuntimeSeconds ?? 0);
  const evaluationSeconds =
    (inputs.evaluationMode === 'batchTransform' ? TRANSFORM_SECONDS : inputs.endpointMaxWaitSeconds) +
    (inputs.serve ? inputs.endpointMaxWaitSeconds : 0);
  const left = EXECUTION_TIMEOUT_SECONDS - LAMBDA_STEPS_SECONDS - trainingSeconds - evaluationSeconds;
  const queueSeconds = Math.min(inputs.capacity.maxQueueSeconds, left);
  const sequentialClaims = sequentialClaimsOf(inputs);
  const queueSecondsPerClaim = Math.floor(queueSeconds / sequentialClaims);
  if (queueSecondsPerClaim < MIN_QUEUE_SECONDS_PER_CLAIM) {
    return (
      `time budget: the execution's ${EXECUTION_TIMEOUT_SECONDS} s hold the Lambda steps (${LAMBDA_STEPS_SECONDS} s), ` +
      `${waves + 1} training job${waves ? 's' : ''} in sequence of up to ${inputs.trainingMaxRuntimeSeconds} s ` +
      `(training.maxRuntimeInSeconds${inputs.folds ? `, crossValidation.folds ${inputs.folds}` : ''})` +
      `${inputs.tuningMaxRuntimeSeconds ? `, ${inputs.tuningMaxRuntimeSeconds} s of tuning (tuning.maxRuntimeInSeconds)` : ''} and ` +
      `${evaluationSeconds} s of endpoint or transform time, leaving ${Math.max(0, left)} s to wait for capacity: ` +
      `at least ${MIN_QUEUE_SECONDS_PER_CLAIM * sequentialClaims} s are needed; lower the training runtime, the folds or the tuning budget`
    );
  }
  return {
    executionSeconds: EXECUTION_TIMEOUT_SECONDS,
    lambdaSeconds: LAMBDA_STEPS_SECONDS,
    trainingSeconds,
    trainingTaskSeconds: inputs.trainingMaxRuntimeSeconds + TRAINING_OVERHEAD_SECONDS,
    evaluationSeconds,
    queueSeconds,
    queueSecondsPerClaim,
  };
}

/**
 * Claims that wait one after the other: each fold wave, the tuning job, the final job, the endpoint or transform,
 * and the serving endpoint's create or update.
 */
function sequentialClaimsOf(inputs: BudgetInputs): number {
  return Math.ceil(inputs.folds / inputs.foldConcurrency) + claimsAfterFolds(inputs);
}

/**
 * Every claim a run may make (each fold job too), which share the history's event budget; serving counts twice, as
 * a create that finds the stable endpoint made by another run claims again to update it.
 */
export function claimsOf(
  inputs: Pick<BudgetInputs, 'folds' | 'evaluationMode' | 'serve' | 'tuningMaxRuntimeSeconds'>,
): number {
  return inputs.folds + claimsAfterFolds(inputs) + (inputs.serve ? 1 : 0);
}

function claimsAfterFolds(inputs: Pick<BudgetInputs, 'evaluationMode' | 'serve' | 'tuningMaxRuntimeSeconds'>): number {
  const tuning = inputs.tuningMaxRuntimeSeconds ? 1 : 0;
  return tuning + 1 + (inputs.evaluationMode === 'serverless' ? 0 : 1) + (inputs.serve ? 1 : 0);
}

export function capacitySettings(budget: TimeBudget, inputs: BudgetInputs, queuePrefix: string): CapacitySettings {
  return {
    maxQueueSeconds: budget.queueSecondsPerClaim,
    initialDelaySeconds: inputs.capacity.initialDelaySeconds,
    maxDelaySeconds: inputs.capacity.maxDelaySeconds,
    maxPolls: maxPollsPerClaim(claimsOf(inputs)),
    queuePrefix,
  };
}
