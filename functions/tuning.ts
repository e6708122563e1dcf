import { putJson } from '../src/aws/objects';
import { listTuningTrainingJobs } from '../src/aws/sagemaker';
import type { Trials } from '../src/artifacts/schemas';
import { s3Uri } from '../src/domain/naming';
import type { RunConfig } from '../src/domain/runConfig';
import { TuningFailedError, tuningOutcome } from '../src/domain/trials';
import { lambdaHandler } from '../src/lambda/handler';
import { logger } from '../src/log/logger';

export interface RecordTuningEvent {
  run: RunConfig;
  tuningJobName: string;
  /** What SageMaker named BestTrainingJob (the Tune state's result). */
  bestTrainingJobName?: string;
  /** The final training request's hyperparameters (Upload's: feature_dim as the channels hold the rows). */
  hyperParameters?: Record<string, string>;
}

export interface RecordTuningResult {
  tuningJobName: string;
  trialsUri: string;
  trials: number;
  chosen: { trainingJobName: string; hyperParameters: Record<string, string>; objective: number };
  /** The final training job's hyperparameters: the run's, with the chosen trial's tuned ones. */
  hyperParameters: Record<string, string>;
}

/**
 * Records every trial of the run's tuning job in tuning/trials.json and chooses the one that trains the final model:
 * the best objective on the validation split, a tie going to the smallest k.
 */
export const handler = lambdaHandler(async (event: RecordTuningEvent): Promise<RecordTuningResult> => {
  const { run, tuningJobName } = event;
  logger.appendKeys({ runId: run.runId });
  if (!run.tuning.enabled || !run.requests) throw new TuningFailedError(`run ${run.runId} has no tuning configured`);
  const jobs = await listTuningTrainingJobs(tuningJobName);
  const trials = jobs.map((job) => ({
    trainingJobName: job.trainingJobName,
    status: job.status,
    hyperParameters: job.tunedHyperParameters,
    ...(job.objective !== undefined ? { objective: job.objective } : {}),
  }));
  const base = event.hyperParameters ?? (run.requests.trainingJob.HyperParameters as Record<string, string>);
  const outcome = tuningOutcome(trials, run.tuning.objective, base);
  const record: Trials = {
    tuningJobName,
    strategy: run.tuning.strategy,
    objective: run.tuning.objective,
    validationFraction: run.tuning.validationFraction,
    ...(event.bestTrainingJobName ? { sageMakerBestTrainingJob: event.bestTrainingJobName } : {}),
    chosen: outcome.chosen.trainingJobName,
    trials: outcome.trials,
    recordedAt: new Date().toISOString(),
  };
  await putJson({ bucket: run.bucket, key: run.keys.trials }, record);
  logger.info('Recorded tuning trials', {
    tuningJobName,
    trials: trials.length,
    chosen: outcome.chosen.trainingJobName,
    tuned: outcome.chosen.hyperParameters,
    objective: outcome.chosen.objective,
  });
  return {
    tuningJobName,
    trialsUri: s3Uri(run.bucket, run.keys.trials),
    trials: trials.length,
    chosen: {
      trainingJobName: outcome.chosen.trainingJobName,
      hyperParameters: outcome.chosen.hyperParameters,
      objective: outcome.chosen.objective!,
    },
    hyperParameters: outcome.hyperParameters,
  };
});
