import {
  headObject,
  getObjectBytes,
  getObjectJsonEventually,
  putIfAbsent,
  putObject,
  putJson,
  type ObjectHead,
} from '../src/aws/objects';
import { stageDefaultsFromEnv } from '../src/config/stage';
import { prepareDataset, toLabelFirstCsv } from '../src/domain/dataset';
import { candidateKeys } from '../src/domain/objectKeys';
import { resolveRunConfig, type RunConfig } from '../src/domain/runConfig';
import { sageMakerRequests } from '../src/domain/sageMakerRequests';
import { s3Uri } from '../src/domain/naming';
import { logger } from '../src/log/logger';
import { DatasetNotFoundError, DatasetTooLargeError } from '../src/domain/errors';

export interface PrepareEvent {
  input: unknown;
  execution: { name: string };
}

export interface DatasetManifest {
  runId: string;
  source: { bucket: string; key: string; versionId?: string; etag?: string; size: number; uri: string };
  labelColumn: string;
  predictorType: RunConfig['predictorType'];
  featureNames: string[];
  classes: string[] | null;
  classCounts: Record<string, number> | null;
  rowCount: number;
  warnings: string[];
  preparedAt: string;
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
  throw new DatasetNotFoundError(
    `Dataset ${run.dataset.uri}${run.dataset.versionId ? ` (version ${run.dataset.versionId})` : ''} does not exist. ` +
      `Upload the CSV under ${run.dataset.uri.replace(/[^/]*$/, '')} or pass dataset.key in the execution input.`,
  );
}

export const handler = async (event: PrepareEvent): Promise<PrepareResult> => {
  const defaults = stageDefaultsFromEnv();
  const run = resolveRunConfig(event.input, event.execution, defaults);
  logger.appendKeys({ runId: run.runId, trigger: run.trigger.type });

  const { key, head } = await locateDataset(run);
  run.dataset = {
    ...run.dataset,
    key,
    uri: s3Uri(run.dataset.bucket, key),
    versionId: head.versionId ?? run.dataset.versionId,
    etag: head.etag,
  };
  if (head.size > defaults.maxDatasetBytes) {
    throw new DatasetTooLargeError(
      `Dataset ${run.dataset.uri} is ${head.size} bytes; this stage accepts at most ${defaults.maxDatasetBytes} bytes (MAX_DATASET_BYTES). ` +
        'Sample the file or raise the limit together with the prepare function memory.',
    );
  }

  const claim = { executionName: run.trigger.executionName, dataset: run.dataset, claimedAt: new Date().toISOString() };
  const claimed = await putIfAbsent(
    { bucket: run.bucket, key: run.keys.claim },
    JSON.stringify(claim),
    'application/json',
  );
  if (!claimed) {
    const existing = await getObjectJsonEventually<typeof claim>({ bucket: run.bucket, key: run.keys.claim });
    // A retry of this same execution finds its own claim and carries on.
    if (existing.executionName !== run.trigger.executionName) {
      const message = `Duplicate event: ${run.dataset.uri} is already handled by execution ${existing.executionName} (run ${run.runId}); nothing to do.`;
      logger.info(message);
      return { duplicate: true, runId: run.runId, message };
    }
  }

  const raw = await getObjectBytes({ bucket: run.dataset.bucket, key, versionId: run.dataset.versionId });
  const prepared = prepareDataset(raw, {
    source: run.dataset.uri,
    labelColumn: run.labelColumn,
    predictorType: run.predictorType,
  });
  run.training.hyperParameters.feature_dim = String(prepared.featureNames.length);
  run.requests = sageMakerRequests(run);

  const classCounts = prepared.classes
    ? Object.fromEntries(
        prepared.classes.map((name, index) => [name, prepared.labels.filter((label) => label === index).length]),
      )
    : null;
  const manifest: DatasetManifest = {
    runId: run.runId,
    source: { ...run.dataset, size: head.size },
    labelColumn: prepared.labelColumn,
    predictorType: run.predictorType,
    featureNames: prepared.featureNames,
    classes: prepared.classes,
    classCounts,
    rowCount: prepared.rowCount,
    warnings: prepared.warnings,
    preparedAt: new Date().toISOString(),
  };
  await putObject(
    { bucket: run.bucket, key: run.keys.preparedDataset },
    toLabelFirstCsv(prepared.labels, prepared.features),
    'text/csv',
  );
  await putJson({ bucket: run.bucket, key: run.keys.manifest }, manifest);
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
};
