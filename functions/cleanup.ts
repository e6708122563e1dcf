import { deleteRunResources, type CleanupReport } from '../src/aws/cleanup';
import { explainFailure, type CaughtFailure, type ExplainedFailure } from '../src/domain/failures';
import type { RunConfig } from '../src/domain/runConfig';
import { logger } from '../src/log/logger';

export interface CleanupEvent {
  run: RunConfig;
  /** Present on the failure path: what the Catch recorded, keyed by the state that failed. */
  failure?: Record<string, CaughtFailure>;
}

export interface CleanupResult {
  deleted: CleanupReport;
  failure?: ExplainedFailure;
}

export function cleanupOptionsFromEnv(env = process.env) {
  return {
    settleTimeoutMs: Number(env.CLEANUP_SETTLE_TIMEOUT_MS ?? 240_000),
    pollMs: Number(env.CLEANUP_POLL_MS ?? 5_000),
  };
}

/** Deletes the run's endpoint, endpoint config and model (and stops its training job); idempotent. */
export const handler = async ({ run, failure }: CleanupEvent): Promise<CleanupResult> => {
  logger.appendKeys({ runId: run.runId });
  const deleted = await deleteRunResources(run.names, {
    ...cleanupOptionsFromEnv(),
    crossValidationFolds: run.crossValidation?.folds ?? 0,
    servingEndpoint: run.serve?.enabled ? run.serve.endpointName : undefined,
    servingConfig: run.serve?.enabled ? run.serve.endpointConfigName : undefined,
  });
  logger.info('Cleaned up SageMaker resources', { ...deleted });
  if (!failure) return { deleted };
  const explained = explainFailure(failure);
  logger.error('Run failed', { error: explained.error, cause: explained.cause, state: explained.state });
  return { deleted, failure: explained };
};
