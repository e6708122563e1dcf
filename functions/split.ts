import { getObjectJson, putJson } from '../src/aws/objects';
import { trainTestSplit } from '../src/domain/split';
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
}

export const handler = async ({ run }: SplitEvent): Promise<{ train: number; test: number; uri: string }> => {
  logger.appendKeys({ runId: run.runId });
  const manifest = await getObjectJson<DatasetManifest>({ bucket: run.bucket, key: run.keys.manifest });
  const indices = trainTestSplit(manifest.rowCount, run.split);
  const split: SplitFile = { ...run.split, rowCount: manifest.rowCount, ...indices };
  await putJson({ bucket: run.bucket, key: run.keys.split }, split);
  logger.info('Split dataset', { train: indices.train.length, test: indices.test.length, ...run.split });
  return { train: indices.train.length, test: indices.test.length, uri: s3Uri(run.bucket, run.keys.split) };
};
