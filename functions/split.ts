import { getObjectJson, putJson } from '../src/aws/objects';
import { kFold, trainTestSplit } from '../src/domain/split';
import type { RunConfig } from '../src/domain/runConfig';
import { s3Uri } from '../src/domain/naming';
import { logger } from '../src/log/logger';
import type { Manifest, Split } from '../src/artifacts';
import { lambdaHandler } from '../src/lambda/handler';

export interface SplitEvent {
  run: RunConfig;
}

export const handler = lambdaHandler(
  async ({ run }: SplitEvent): Promise<{ train: number; test: number; folds: number; uri: string }> => {
    logger.appendKeys({ runId: run.runId });
    const manifest = await getObjectJson<Manifest>({ bucket: run.bucket, key: run.keys.manifest });
    const indices = trainTestSplit(manifest.rowCount, run.split);
    const folds =
      run.crossValidation.folds > 0 ? kFold(manifest.rowCount, run.crossValidation.folds, run.split.seed) : undefined;
    const split: Split = { ...run.split, rowCount: manifest.rowCount, ...indices, ...(folds ? { folds } : {}) };
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
  },
);
