import { deleteRunResources, type CleanupReport } from '../src/aws/cleanup';
import { releaseRunTickets } from '../src/aws/capacityQueue';
import { getObjectJsonIfExists } from '../src/aws/objects';
import type { Serving } from '../src/artifacts/schemas';
import { cleanupTimings } from '../src/config/cleanup';
import { explainFailure, type CaughtFailure, type ExplainedFailure } from '../src/domain/failures';
import { cleanupScope } from '../src/domain/cleanupScope';
import type { RunConfig } from '../src/domain/runConfig';
import { lambdaHandler } from '../src/lambda/handler';
import { logger } from '../src/log/logger';

export interface CleanupEvent {
  run: RunConfig;
  /** Present on the failure path: what the Catch recorded, keyed by the state that failed. */
  failure?: Record<string, CaughtFailure>;
}

export interface CleanupResult {
  deleted: CleanupReport;
  failure?: ExplainedFailure;
  /** Tickets of the run still in the capacity queue (a claim that never got its instances), deleted. */
  capacityTicketsReleased?: number;
}

/** Deletes the run's endpoint, endpoint config and model (and stops its training job); idempotent. */
export const handler = lambdaHandler(async ({ run, failure }: CleanupEvent): Promise<CleanupResult> => {
  logger.appendKeys({ runId: run.runId });
  // A superseded promotion served and may be rolled back to: its config and model stay (serving.json says so).
  const promotion = run.serve?.enabled
    ? await getObjectJsonIfExists<Pick<Serving, 'outcome'>>({ bucket: run.bucket, key: run.keys.serving })
    : undefined;
  const deleted = await deleteRunResources(run.names, {
    ...cleanupTimings(),
    ...cleanupScope(run),
    servingRetained: promotion?.outcome === 'superseded',
  });
  const released = run.capacity ? await releaseRunTickets(run.bucket, run.capacity.queuePrefix, run.runId) : 0;
  const tickets = released > 0 ? { capacityTicketsReleased: released } : {};
  logger.info('Cleaned up SageMaker resources', { ...deleted, ...tickets });
  if (!failure) return { deleted, ...tickets };
  const explained = explainFailure(failure);
  logger.error('Run failed', { error: explained.error, cause: explained.cause, state: explained.state });
  return { deleted, failure: explained, ...tickets };
});
