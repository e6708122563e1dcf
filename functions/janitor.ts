import type { EventBridgeEvent } from 'aws-lambda';
import { deleteRunResources, type CleanupReport } from '../src/aws/cleanup';
import { getObjectJson, headObject } from '../src/aws/objects';
import { stageDefaultsFromEnv } from '../src/config/stage';
import { resolveRunConfig } from '../src/domain/runConfig';
import { logger } from '../src/log/logger';
import { cleanupOptionsFromEnv } from './cleanup';

export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

export type JanitorResult =
  | { cleaned: true; runId: string; deleted: CleanupReport }
  | { cleaned: false; reason: string; runId?: string };

/**
 * Stop and timeout bypass the state machine's Catch, so this runs on every FAILED / TIMED_OUT / ABORTED execution
 * and deletes what that run created. It recomputes the run's names from the execution input exactly as Prepare did.
 */
export const handler = async (
  event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>,
): Promise<JanitorResult> => {
  const detail = event.detail;
  logger.appendKeys({ executionName: detail.name, status: detail.status });
  if (detail.input == null) {
    logger.warn('Execution input not included in the event; nothing to derive the run from');
    return { cleaned: false, reason: 'no execution input in the event' };
  }
  let run;
  try {
    run = resolveRunConfig(JSON.parse(detail.input), { name: detail.name }, stageDefaultsFromEnv());
  } catch (error) {
    logger.info('Execution input was invalid, so the run never created SageMaker resources', { error: String(error) });
    return { cleaned: false, reason: 'invalid execution input: the run created nothing' };
  }
  logger.appendKeys({ runId: run.runId });
  // A duplicate delivery shares the run id of the execution that owns the run: never clean up someone else's run.
  if (await headObject({ bucket: run.bucket, key: run.keys.claim })) {
    const claim = await getObjectJson<{ executionName: string }>({ bucket: run.bucket, key: run.keys.claim });
    if (claim.executionName !== detail.name) {
      return { cleaned: false, runId: run.runId, reason: `run ${run.runId} belongs to execution ${claim.executionName}` };
    }
  }
  const deleted = await deleteRunResources(run.names, {
    ...cleanupOptionsFromEnv(),
    crossValidationFolds: run.crossValidation?.folds ?? 0,
    servingEndpoint: run.serve?.enabled ? run.serve.endpointName : undefined,
    servingConfig: run.serve?.enabled ? run.serve.endpointConfigName : undefined,
  });
  logger.info('Janitor cleaned up after execution', { ...deleted });
  return { cleaned: true, runId: run.runId, deleted };
};
