// Prepare's decisions as values: where the dataset is, whether it may be read, and the run and manifest it yields.
import type { Claim, Manifest } from '../artifacts';
import { DatasetNotFoundError, DatasetTooLargeError } from './errors';
import { s3Uri } from './naming';
import { InputValidationError, transformsFeatures, type RunConfig } from './runConfig';
import { sageMakerRequests } from './sageMakerRequests';

/** The dataset as found in S3: the key that exists (an S3 event's key may need decoding) and its version. */
export function withLocatedDataset(
  run: RunConfig,
  key: string,
  head: { versionId?: string; etag?: string },
): RunConfig {
  return {
    ...run,
    dataset: {
      ...run.dataset,
      key,
      uri: s3Uri(run.dataset.bucket, key),
      versionId: head.versionId ?? run.dataset.versionId,
      etag: head.etag,
    },
  };
}

export function datasetNotFound(run: RunConfig): DatasetNotFoundError {
  const { uri, versionId } = run.dataset;
  return new DatasetNotFoundError(
    `Dataset ${uri}${versionId ? ` (version ${versionId})` : ''} does not exist. ` +
      `Upload the CSV under ${uri.replace(/[^/]*$/, '')} or pass dataset.key in the execution input.`,
  );
}

/** Refuses a file above the stage's limit before reading it: the function's memory is sized for that limit. */
export function assertDatasetSize(run: RunConfig, size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw new DatasetTooLargeError(
      `Dataset ${run.dataset.uri} is ${size} bytes; this stage accepts at most ${maxBytes} bytes (MAX_DATASET_BYTES). ` +
        'Sample the file, or raise the limit together with the prepare and upload functions (memory, timeout, and ' +
        "upload's ephemeral storage): see docs/data-path.md.",
    );
  }
}

export function claimOf(run: RunConfig, claimedAt: string): Claim {
  return { executionName: run.trigger.executionName, dataset: run.dataset, claimedAt };
}

/** The run once the data is known: feature_dim set, and the SageMaker requests built from the final settings. */
export function withFeatureDim(run: RunConfig, featureCount: number): RunConfig {
  const training = {
    ...run.training,
    hyperParameters: { ...run.training.hyperParameters, feature_dim: String(featureCount) },
  };
  const finalRun = { ...run, training };
  return { ...finalRun, requests: sageMakerRequests(finalRun) };
}

/** What Prepare learnt of the data: the reader's summary (or a whole PreparedDataset, for small data). */
export interface PreparedFacts {
  featureNames: string[];
  labelColumn: string;
  classes: string[] | null;
  /** Class index (classifier) or value (regressor) of each row. */
  labels: ArrayLike<number>;
  rowCount: number;
  warnings: string[];
  /** How the feature columns were read (manifest.features). */
  featureColumns?: Manifest['features'];
}

/** Rows per class name, or null for a regressor. */
export function classCounts(prepared: Pick<PreparedFacts, 'classes' | 'labels'>): Record<string, number> | null {
  if (!prepared.classes) return null;
  const counts = new Array<number>(prepared.classes.length).fill(0);
  for (let row = 0; row < prepared.labels.length; row++) counts[prepared.labels[row]]++;
  return Object.fromEntries(prepared.classes.map((name, index) => [name, counts[index]]));
}

/** How Prepare read the feature columns under the run's feature options (manifest.features). */
export function preparedFeatures(
  run: Pick<RunConfig, 'features'>,
  prepared: { categorical: string[]; dropped: string[] },
): NonNullable<Manifest['features']> {
  return {
    dropped: prepared.dropped,
    categorical: prepared.categorical,
    categoricalChoice: run.features.categorical === 'auto' ? 'auto' : 'list',
    transformed: transformsFeatures(run.features, prepared.categorical),
  };
}

/**
 * The feature options checked against the data, before anything is trained: PCA cannot keep more components than
 * there are features (with categorical columns, Upload checks again once the training rows' categories are known).
 */
export function checkFeatureOptions(
  run: Pick<RunConfig, 'features' | 'dataset'>,
  prepared: { featureNames: string[]; categorical: string[]; rowCount: number },
): void {
  const { pca } = run.features;
  if (pca === null || pca < 1 || prepared.categorical.length > 0) return;
  const features = prepared.featureNames.length;
  if (pca > features) {
    throw new InputValidationError([
      `features.pca: ${pca} components asked, but ${run.dataset.uri} has ${features} feature column${features === 1 ? '' : 's'}; ask for at most ${features}, or a fraction of variance`,
    ]);
  }
}

export function datasetManifest(run: RunConfig, size: number, prepared: PreparedFacts, preparedAt: string): Manifest {
  return {
    runId: run.runId,
    source: { ...run.dataset, size },
    labelColumn: prepared.labelColumn,
    predictorType: run.predictorType,
    featureNames: prepared.featureNames,
    classes: prepared.classes,
    classCounts: classCounts(prepared),
    rowCount: prepared.rowCount,
    warnings: prepared.warnings,
    ...(prepared.featureColumns ? { features: prepared.featureColumns } : {}),
    preparedAt,
  };
}
