import type { SageMakerNames } from '../domain/naming';
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
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes everything a run created in SageMaker: stops its training job if still running, then deletes the
 * endpoint (after it settles), the endpoint config and the model. Idempotent: what is already gone is success.
 */
export async function deleteRunResources(names: SageMakerNames, options: CleanupOptions): Promise<CleanupReport> {
  const sleep = options.sleep ?? defaultSleep;
  const trainingStatus = await describeTrainingJobStatus(names.trainingJob);
  let trainingJob: CleanupReport['trainingJob'] = trainingStatus === undefined ? 'absent' : 'not-running';
  if (trainingStatus === 'InProgress') {
    await stopTrainingJob(names.trainingJob);
    trainingJob = 'stopped';
  }

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
  return { trainingJob, endpoint, endpointConfig, model };
}
