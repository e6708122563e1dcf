import { foldTrainingJobName, type SageMakerNames } from '../domain/naming';
import {
  deleteEndpoint,
  deleteEndpointConfig,
  deleteModel,
  describeEndpointStatus,
  describeTrainingJobStatus,
  stopTrainingJob,
} from './sagemaker';

export interface CleanupReport {
  trainingJob: 'stopped' | 'not-running' | 'absent';
  foldTrainingJobsStopped: number;
  endpoint: 'deleted' | 'absent';
  endpointConfig: 'deleted' | 'absent';
  model: 'deleted' | 'absent';
}

export class CleanupIncompleteError extends Error {
  constructor(message: string) {
    super(message);
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
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes everything a run created in SageMaker: stops its training job if still running, then deletes the
 * endpoint (after it settles), the endpoint config and the model. Idempotent: what is already gone is success.
 */
export async function deleteRunResources(names: SageMakerNames, options: CleanupOptions): Promise<CleanupReport> {
  const sleep = options.sleep ?? defaultSleep;
  const trainingJob = await stopIfRunning(names.trainingJob);
  // Fold jobs of a cross-validation only train; stopping them is all they need.
  const foldJobs = await Promise.all(
    Array.from({ length: options.crossValidationFolds ?? 0 }, (_, i) => stopIfRunning(foldTrainingJobName(names, i + 1))),
  );

  const deadline = Date.now() + options.settleTimeoutMs;
  let status = await describeEndpointStatus(names.endpoint);
  while (status !== undefined && IN_PROGRESS_ENDPOINT.has(status)) {
    if (Date.now() >= deadline) {
      throw new CleanupIncompleteError(`Endpoint ${names.endpoint} is still ${status}; it can be deleted once it settles`);
    }
    await sleep(options.pollMs);
    status = await describeEndpointStatus(names.endpoint);
  }
  let endpoint: CleanupReport['endpoint'] = 'absent';
  if (status !== undefined) {
    if (status !== 'Deleting' && (await deleteEndpoint(names.endpoint))) endpoint = 'deleted';
    // The endpoint bills until it is gone, so confirm the deletion finished rather than trusting the request.
    while ((status = await describeEndpointStatus(names.endpoint)) !== undefined) {
      if (Date.now() >= deadline) {
        throw new CleanupIncompleteError(`Endpoint ${names.endpoint} is still ${status} after the delete request`);
      }
      await sleep(options.pollMs);
    }
    endpoint = 'deleted';
  }
  const endpointConfig = (await deleteEndpointConfig(names.endpointConfig)) ? 'deleted' : 'absent';
  const model = (await deleteModel(names.model)) ? 'deleted' : 'absent';
  return { trainingJob, foldTrainingJobsStopped: foldJobs.filter((state) => state === 'stopped').length, endpoint, endpointConfig, model };
}

async function stopIfRunning(trainingJobName: string): Promise<CleanupReport['trainingJob']> {
  const status = await describeTrainingJobStatus(trainingJobName);
  if (status === undefined) return 'absent';
  if (status !== 'InProgress') return 'not-running';
  return (await stopTrainingJob(trainingJobName)) ? 'stopped' : 'not-running';
}
