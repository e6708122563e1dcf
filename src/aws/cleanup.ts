import { PipelineError } from '../errors';
import { foldTrainingJobName, type SageMakerNames } from '../domain/naming';
import {
  deleteEndpoint,
  deleteEndpointConfig,
  deleteModel,
  describeEndpoint,
  describeEndpointStatus,
  modelsOfEndpointConfig,
  describeTrainingJobStatus,
  describeTransformJobStatus,
  describeTuningJobStatus,
  stopTrainingJob,
  stopTransformJob,
  stopTuningJob,
} from './sagemaker';

export interface CleanupReport {
  trainingJob: 'stopped' | 'not-running' | 'absent';
  foldTrainingJobsStopped: number;
  /** Evaluation mode batchTransform only: the run's transform job, stopped (and Stopped) if it was still running. */
  transformJob?: 'stopped' | 'not-running' | 'absent';
  /** Tuning on: the run's tuning job, stopped (with the training jobs it runs) if it was still running. */
  tuningJob?: 'stopped' | 'not-running' | 'absent';
  endpoint: 'deleted' | 'absent';
  endpointConfig: 'deleted' | 'absent';
  /** `retained`: a superseded promotion's model, kept with its config for rollback (pruning manages both). */
  model: 'deleted' | 'absent' | 'serving' | 'retained';
}

export class CleanupIncompleteError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CleanupIncompleteError';
  }
}

/** Endpoint states in which SageMaker refuses DeleteEndpoint ("Cannot update in-progress endpoint"). */
const IN_PROGRESS_ENDPOINT = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

export interface CleanupOptions {
  /** How long to wait for an in-progress endpoint to settle before giving up (the caller retries). */
  settleTimeoutMs: number;
  pollMs: number;
  /** How many cross-validation fold jobs the run may have started. */
  crossValidationFolds?: number;
  /** Evaluation mode batchTransform: the run's transform job (it bills until it has stopped). */
  transformJob?: string;
  /** Tuning on: the run's hyperparameter tuning job (its training jobs bill until it has stopped). */
  tuningJob?: string;
  /** Serving mode: the stable endpoint, whose current model must survive, and the config this run made for it. */
  servingEndpoint?: string;
  servingConfig?: string;
  /**
   * Serving mode: this run's config went live and a later promotion replaced it (`superseded`): it and its model
   * stay, as the promoting run's pruning keeps the newest configs for rollback.
   */
  servingRetained?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes everything a run created in SageMaker: stops its training job if still running, then deletes the
 * endpoint (after it settles), the endpoint config and the model. Idempotent: what is already gone is success.
 */
export async function deleteRunResources(names: SageMakerNames, options: CleanupOptions): Promise<CleanupReport> {
  const trainingJob = await stopIfRunning(names.trainingJob);
  // Fold jobs of a cross-validation only train; stopping them is all they need.
  const foldJobs = await Promise.all(
    Array.from({ length: options.crossValidationFolds ?? 0 }, (_, i) =>
      stopIfRunning(foldTrainingJobName(names, i + 1)),
    ),
  );

  const transformJob = options.transformJob
    ? await stopTransformJobCompletely(options.transformJob, options)
    : undefined;
  const tuningJob = options.tuningJob ? await stopTuningJobCompletely(options.tuningJob, options) : undefined;

  const endpoint = await deleteEndpointCompletely(names.endpoint, options);
  const endpointConfig = (await deleteEndpointConfig(names.endpointConfig)) ? 'deleted' : 'absent';
  // In serving mode the run's model may be what the stable endpoint serves now: that one stays.
  const stable = options.servingEndpoint ? await describeEndpoint(options.servingEndpoint) : undefined;
  const serving = stable?.configName ? await modelsOfEndpointConfig(stable.configName) : [];
  // A serving config that never went live (failed or interrupted promotion) would otherwise be orphaned.
  if (options.servingConfig && !options.servingRetained && stable?.configName !== options.servingConfig)
    await deleteEndpointConfig(options.servingConfig);
  const model = serving.includes(names.model)
    ? 'serving'
    : options.servingRetained
      ? 'retained'
      : (await deleteModel(names.model))
        ? 'deleted'
        : 'absent';
  return {
    trainingJob,
    foldTrainingJobsStopped: foldJobs.filter((state) => state === 'stopped').length,
    ...(transformJob ? { transformJob } : {}),
    ...(tuningJob ? { tuningJob } : {}),
    endpoint,
    endpointConfig,
    model,
  };
}

/**
 * Deletes an endpoint and waits until it is really gone (it bills until then); an in-progress endpoint is first
 * allowed to settle, since SageMaker refuses to delete it while Creating or Updating.
 */
export async function deleteEndpointCompletely(
  endpointName: string,
  options: CleanupOptions,
): Promise<CleanupReport['endpoint']> {
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + options.settleTimeoutMs;
  let status = await describeEndpointStatus(endpointName);
  while (status !== undefined && IN_PROGRESS_ENDPOINT.has(status)) {
    if (Date.now() >= deadline) {
      throw new CleanupIncompleteError(
        `Endpoint ${endpointName} is still ${status}; it can be deleted once it settles`,
      );
    }
    await sleep(options.pollMs);
    status = await describeEndpointStatus(endpointName);
  }
  if (status === undefined) return 'absent';
  if (status !== 'Deleting') await deleteEndpoint(endpointName);
  while ((status = await describeEndpointStatus(endpointName)) !== undefined) {
    if (Date.now() >= deadline)
      throw new CleanupIncompleteError(`Endpoint ${endpointName} is still ${status} after the delete request`);
    await sleep(options.pollMs);
  }
  return 'deleted';
}

/** Job states in which a transform or tuning job still runs (and bills). */
const RUNNING_JOB = new Set(['InProgress', 'Stopping']);

/**
 * Stops a job if it still runs and waits until it has Stopped: it bills until then (a tuning job through the training
 * jobs it runs, which SageMaker stops with it), and a transform job's model is deleted next.
 */
async function stopJobCompletely(
  job: { kind: string; name: string; describe: (name: string) => Promise<string | undefined> },
  stop: (name: string) => Promise<boolean>,
  options: CleanupOptions,
): Promise<'absent' | 'not-running' | 'stopped'> {
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + options.settleTimeoutMs;
  let status = await job.describe(job.name);
  if (status === undefined) return 'absent';
  if (!RUNNING_JOB.has(status)) return 'not-running';
  const stopped = status === 'InProgress' ? await stop(job.name) : true;
  while ((status = await job.describe(job.name)) !== undefined && RUNNING_JOB.has(status)) {
    if (Date.now() >= deadline)
      throw new CleanupIncompleteError(`${job.kind} ${job.name} is still ${status} after the stop request`);
    await sleep(options.pollMs);
  }
  return stopped ? 'stopped' : 'not-running';
}

export function stopTransformJobCompletely(
  transformJobName: string,
  options: CleanupOptions,
): Promise<NonNullable<CleanupReport['transformJob']>> {
  return stopJobCompletely(
    { kind: 'Transform job', name: transformJobName, describe: describeTransformJobStatus },
    stopTransformJob,
    options,
  );
}

export function stopTuningJobCompletely(
  tuningJobName: string,
  options: CleanupOptions,
): Promise<NonNullable<CleanupReport['tuningJob']>> {
  return stopJobCompletely(
    { kind: 'Tuning job', name: tuningJobName, describe: describeTuningJobStatus },
    stopTuningJob,
    options,
  );
}

async function stopIfRunning(trainingJobName: string): Promise<CleanupReport['trainingJob']> {
  const status = await describeTrainingJobStatus(trainingJobName);
  if (status === undefined) return 'absent';
  if (status !== 'InProgress') return 'not-running';
  return (await stopTrainingJob(trainingJobName)) ? 'stopped' : 'not-running';
}
