import { headObject, getObjectJsonEventually, putIfAbsent, putJson, type ObjectHead } from '../src/aws/objects';
import { writePreparedDataset } from '../src/channels/prepared';
import type { Claim } from '../src/artifacts';
import { stageDefaults } from '../src/config/stage';
import { candidateKeys } from '../src/domain/objectKeys';
import {
  assertDatasetSize,
  checkFeatureOptions,
  claimOf,
  datasetManifest,
  datasetNotFound,
  preparedFeatures,
  withFeatureDim,
  withLocatedDataset,
} from '../src/domain/preparation';
import { resolveRunConfig, type RunConfig } from '../src/domain/runConfig';
import { lambdaHandler } from '../src/lambda/handler';
import { logger } from '../src/log/logger';

export interface PrepareEvent {
  input: unknown;
  execution: { name: string };
}

export type PrepareResult =
  | { duplicate: false; run: RunConfig; dataset: { rows: number; features: number; classes: string[] | null } }
  | { duplicate: true; runId: string; message: string };

async function locateDataset(run: RunConfig): Promise<{ key: string; head: ObjectHead }> {
  const keys = run.trigger.type === 's3' ? candidateKeys(run.dataset.key) : [run.dataset.key];
  for (const key of keys) {
    const head = await headObject({ bucket: run.dataset.bucket, key, versionId: run.dataset.versionId });
    if (head) return { key, head };
  }
  throw datasetNotFound(run);
}

export const handler = lambdaHandler(async (event: PrepareEvent): Promise<PrepareResult> => {
  const defaults = stageDefaults();
  const requested = resolveRunConfig(event.input, event.execution, defaults);
  logger.appendKeys({ runId: requested.runId, trigger: requested.trigger.type });

  const { key, head } = await locateDataset(requested);
  const located = withLocatedDataset(requested, key, head);
  assertDatasetSize(located, head.size, defaults.maxDatasetBytes);

  const claim = claimOf(located, new Date().toISOString());
  const claimed = await putIfAbsent(
    { bucket: located.bucket, key: located.keys.claim },
    JSON.stringify(claim),
    'application/json',
  );
  if (!claimed) {
    const existing = await getObjectJsonEventually<Claim>({ bucket: located.bucket, key: located.keys.claim });
    // A retry of this same execution finds its own claim and carries on.
    if (existing.executionName !== located.trigger.executionName) {
      const message = `Duplicate event: ${located.dataset.uri} is already handled by execution ${existing.executionName} (run ${located.runId}); nothing to do.`;
      logger.info(message);
      return { duplicate: true, runId: located.runId, message };
    }
  }

  // One streaming pass: the raw object is validated as it arrives and never held whole.
  const prepared = await writePreparedDataset(
    { bucket: located.dataset.bucket, key, versionId: located.dataset.versionId },
    {
      features: { bucket: located.bucket, key: located.keys.preparedFeatures },
      labels: { bucket: located.bucket, key: located.keys.preparedLabels },
    },
    {
      source: located.dataset.uri,
      labelColumn: located.labelColumn,
      predictorType: located.predictorType,
      categorical: located.features.categorical,
      drop: located.features.drop,
    },
  );
  checkFeatureOptions(located, prepared);
  // With a feature transform, Upload sets feature_dim again from the transform fitted on the training rows.
  const run = withFeatureDim(located, prepared.featureNames.length);
  const features = preparedFeatures(run, prepared);
  await putJson(
    { bucket: run.bucket, key: run.keys.manifest },
    datasetManifest(run, head.size, { ...prepared, featureColumns: features }, new Date().toISOString()),
  );
  if (run.features.categorical === 'auto') {
    logger.info('Categorical columns chosen (features.categorical auto: every non-numeric column)', {
      categorical: features.categorical,
    });
  }
  for (const warning of prepared.warnings) logger.warn(warning);
  logger.info('Prepared dataset', {
    rows: prepared.rowCount,
    features: prepared.featureNames.length,
    classes: prepared.classes,
  });

  return {
    duplicate: false,
    run,
    dataset: { rows: prepared.rowCount, features: prepared.featureNames.length, classes: prepared.classes },
  };
});
