import { getObjectJson, putJson } from '../src/aws/objects';
import { kFold, trainTestSplit, type SplitIndices } from '../src/domain/split';
import type { RunConfig } from '../src/domain/runConfig';
import { s3Uri } from '../src/domain/naming';
import { logger } from '../src/log/logger';
import type { DatasetManifest } from './prepare';

export interface SplitEvent {
  run: RunConfig;
}

export interface SplitFile {
  seed: number;
  testFraction: number;
  rowCount: number;
  /** Row indices into the prepared dataset, in scikit-learn's train_test_split order. */
  train: number[];
  test: number[];
  /** k-fold assignment over all rows (scikit-learn KFold order), when cross-validation was asked for. */
  folds?: SplitIndices[];
}

export const handler = async ({
  run,
}: SplitEvent): Promise<{ train: number; test: number; folds: number; uri: string }> => {
  logger.appendKeys({ runId: run.runId });
  const manifest = await getObjectJson<DatasetManifest>({ bucket: run.bucket, key: run.keys.manifest });
  const indices = trainTestSplit(manifest.rowCount, run.split);
  const folds =
    run.crossValidation.folds > 0 ? kFold(manifest.rowCount, run.crossValidation.folds, run.split.seed) : undefined;
  const split: SplitFile = { ...run.split, rowCount: manifest.rowCount, ...indices, ...(folds ? { folds } : {}) };
  await putJson({ bucket: run.bucket, key: run.keys.split }, split);
  logger.info('Split dataset', {
    train: indices.train.length,
    test: indices.test.length,
    folds: folds?.length ?? 0,
    ...run.split,
  });
  return {
    train: indices.train.length,
    test: indices.test.length,
    folds: folds?.length ?? 0,
    uri: s3Uri(run.bucket, run.keys.split),
  };
};
