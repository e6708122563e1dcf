import { getObjectJson, putJson } from '../src/aws/objects';
import { foldSizes, requireRowsPerHost, splitSizes, tuningSizes } from '../src/domain/split';
import type { RunConfig } from '../src/domain/runConfig';
import { s3Uri } from '../src/domain/naming';
import { logger } from '../src/log/logger';
import type { Manifest, Split } from '../src/artifacts';
import { lambdaHandler } from '../src/lambda/handler';

export interface SplitEvent {
  run: RunConfig;
}

/** Decides the split (sizes and seed; the rows follow from them) and records it in split.json. */
export const handler = lambdaHandler(
  async ({ run }: SplitEvent): Promise<{ train: number; test: number; folds: number; uri: string }> => {
    logger.appendKeys({ runId: run.runId });
    const manifest = await getObjectJson<Manifest>({ bucket: run.bucket, key: run.keys.manifest });
    const sizes = splitSizes(manifest.rowCount, run.split.testFraction);
    const folds = run.crossValidation.folds > 0 ? foldSizes(manifest.rowCount, run.crossValidation.folds) : undefined;
    const tuning = run.tuning.enabled
      ? {
          validationFraction: run.tuning.validationFraction,
          ...tuningSizes(sizes.trainRows, run.tuning.validationFraction),
        }
      : undefined;
    requireRowsPerHost(run.training.instanceCount, sizes, folds, tuning);
    const split: Split = {
      ...run.split,
      rowCount: manifest.rowCount,
      ...sizes,
      ...(folds ? { folds } : {}),
      ...(tuning ? { tuning } : {}),
    };
    await putJson({ bucket: run.bucket, key: run.keys.split }, split);
    logger.info('Split dataset', {
      train: sizes.trainRows,
      test: sizes.testRows,
      folds: folds?.length ?? 0,
      ...run.split,
    });
    return {
      train: sizes.trainRows,
      test: sizes.testRows,
      folds: folds?.length ?? 0,
      uri: s3Uri(run.bucket, run.keys.split),
    };
  },
);
