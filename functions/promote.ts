import { deleteEndpointCompletely } from '../src/aws/cleanup';
import { putJson } from '../src/aws/objects';
import { deleteEndpointConfig, describeEndpoint } from '../src/aws/sagemaker';
import { pruneServingConfigs, type PruneReport } from '../src/aws/serving';
import type { Promotion } from '../src/domain/promotion';
import { prefixOfServingEndpoint } from '../src/domain/naming';
import type { RunConfig } from '../src/domain/runConfig';
import { logger } from '../src/log/logger';
import { cleanupOptionsFromEnv } from './cleanup';

export interface PromoteEvent {
  run: RunConfig;
  promotion: Promotion;
}

export type PromotionOutcome = 'promoted' | 'rolled-back' | 'failed' | 'not-settled';

export interface PromoteResult {
  outcome: PromotionOutcome;
  /** false when the run's model did not end up serving although it should have. */
  succeeded: boolean;
  message: string;
  servingEndpoint: string;
  servingConfig?: string;
  previousConfig?: string;
  pruned?: PruneReport;
}

/**
 * After the stable endpoint was created or updated with this run's config: verifies which config really serves
 * (SageMaker rolls a failed update back to the previous config), reports it, and prunes superseded configs.
 */
export const handler = async ({ run, promotion }: PromoteEvent): Promise<PromoteResult> => {
  logger.appendKeys({ runId: run.runId });
  const endpointName = run.serve.endpointName;
  const ours = run.serve.endpointConfigName;
  const state = await describeEndpoint(endpointName);
  const base = { servingEndpoint: endpointName, previousConfig: promotion.previousConfig };
  let result: PromoteResult;

  if (state?.status === 'InService' && state.configName === ours) {
    const namePrefix = prefixOfServingEndpoint(endpointName);
    const pruned = await pruneServingConfigs(namePrefix, ours, run.serve.keep);
    result = {
      ...base,
      outcome: 'promoted',
      succeeded: true,
      servingConfig: ours,
      pruned,
      message: `${promotion.reason} ${endpointName} now serves ${run.names.model} (config ${ours}); kept ${pruned.retained.length} config(s) for rollback, deleted ${pruned.deleted.length}.`,
    };
  } else if (state?.status === 'InService') {
    await deleteEndpointConfig(ours);
    result = {
      ...base,
      outcome: 'rolled-back',
      succeeded: false,
      servingConfig: state.configName,
      message: `Promotion rolled back: updating ${endpointName} to ${ours} failed (${state.failureReason ?? 'no reason given'}); it still serves ${state.configName}.`,
    };
  } else if (state === undefined || state.status === 'Failed') {
    // A first creation that failed never served anyone: remove the broken stable endpoint and its config.
    if (state) await deleteEndpointCompletely(endpointName, cleanupOptionsFromEnv());
    await deleteEndpointConfig(ours);
    result = {
      ...base,
      outcome: 'failed',
      succeeded: false,
      message: `Creating ${endpointName} with ${ours} failed (${state?.failureReason ?? 'endpoint missing'}); no model is serving. Fix the cause and start a new run.`,
    };
  } else {
    result = {
      ...base,
      outcome: 'not-settled',
      succeeded: false,
      servingConfig: state.configName,
      message: `${endpointName} is still ${state.status} after the wait; check it in the console before promoting again.`,
    };
  }
  await putJson(
    { bucket: run.bucket, key: run.keys.serving },
    { runId: run.runId, promotion, ...result, recordedAt: new Date().toISOString() },
  );
  logger.info(result.message, { outcome: result.outcome });
  return result;
};
