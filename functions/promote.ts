import { deleteEndpointCompletely } from '../src/aws/cleanup';
import { headObject, putJson } from '../src/aws/objects';
import { deleteEndpointConfig, describeEndpoint } from '../src/aws/sagemaker';
import { pruneServingConfigs, type PruneReport } from '../src/aws/serving';
import { cleanupTimings } from '../src/config/cleanup';
import type { Serving } from '../src/artifacts/schemas';
import { lambdaHandler } from '../src/lambda/handler';
import { prefixOfServingEndpoint, runIdOfServingConfig, siblingRunLayout } from '../src/domain/naming';
import { promotedMessage, promotionOutcome, type Promotion, type PromotionVerdict } from '../src/domain/promotion';
import type { RunConfig } from '../src/domain/runConfig';
import { logger } from '../src/log/logger';

export interface PromoteEvent {
  run: RunConfig;
  promotion: Promotion;
}

/** The verdict as recorded in serving.json, with what pruning removed instead of what it was asked to do. */
export type PromoteResult = Omit<PromotionVerdict, 'prune' | 'deleteRunConfig' | 'deleteStableEndpoint'> & {
  pruned?: PruneReport;
};

/** Reads which config the stable endpoint really serves, does the clean-up that verdict asks for, records it. */
export const handler = lambdaHandler(async ({ run, promotion }: PromoteEvent): Promise<PromoteResult> => {
  logger.appendKeys({ runId: run.runId });
  const state = await describeEndpoint(run.serve.endpointName);
  const verdict = promotionOutcome(state, run, promotion, prefixOfServingEndpoint(run.serve.endpointName));

  // Promotions queue: another run's config may still be waiting for its turn, and it is not ours to delete. Its run
  // records serving.json when its promotion settles (promoted, superseded or rolled back).
  const settled = async (config: string): Promise<boolean> => {
    const runId = runIdOfServingConfig(config, prefixOfServingEndpoint(run.serve.endpointName));
    if (runId === undefined) return true;
    const key = siblingRunLayout(run.keys, run.runId, runId).serving;
    return (await headObject({ bucket: run.bucket, key })) !== undefined;
  };
  const pruned = verdict.prune
    ? await pruneServingConfigs(verdict.prune.namePrefix, verdict.prune.currentConfig, verdict.prune.keep, settled)
    : undefined;
  if (verdict.deleteStableEndpoint) await deleteEndpointCompletely(run.serve.endpointName, cleanupTimings());
  if (verdict.deleteRunConfig) await deleteEndpointConfig(run.serve.endpointConfigName);

  const result: PromoteResult = {
    servingEndpoint: verdict.servingEndpoint,
    previousConfig: verdict.previousConfig,
    outcome: verdict.outcome,
    succeeded: verdict.succeeded,
    ...(verdict.servingConfig !== undefined ? { servingConfig: verdict.servingConfig } : {}),
    ...(pruned ? { pruned } : {}),
    message: pruned ? promotedMessage(verdict.message, pruned) : verdict.message,
  };
  await putJson({ bucket: run.bucket, key: run.keys.serving }, {
    runId: run.runId,
    promotion,
    ...result,
    recordedAt: new Date().toISOString(),
  } satisfies Serving);
  logger.info(result.message, { outcome: result.outcome });
  return result;
});
