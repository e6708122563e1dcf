import { getObjectJson, getObjectText, putObject } from '../src/aws/objects';
import { parseLabelFirstCsv, toLabelFirstCsv } from '../src/domain/dataset';
import type { RunConfig } from '../src/domain/runConfig';
import { foldLayout, foldTrainingJobName, s3Uri } from '../src/domain/naming';
import { trainingJobRequest } from '../src/domain/sageMakerRequests';
import { logger } from '../src/log/logger';
import { ArtifactMismatchError } from '../src/domain/errors';
import type { Split } from '../src/artifacts';
import { lambdaHandler } from '../src/lambda/handler';

export interface UploadEvent {
  run: RunConfig;
}

/** One cross-validation fold's channels, as the Map state's items. */
export interface FoldChannels {
  fold: number;
  trainingJobName: string;
  trainUri: string;
  testUri: string;
  outputUri: string;
  trainRows: number;
  testRows: number;
  /** The fold's CreateTrainingJob request, passed unchanged by the CrossValidate Map state. */
  request: Record<string, unknown>;
}

export interface UploadResult {
  trainUri: string;
  testUri: string;
  trainRows: number;
  testRows: number;
  folds: FoldChannels[];
}

/** Writes the k-NN input channels: headerless CSV, label first, ContentType text/csv. */
export const handler = lambdaHandler(async ({ run }: UploadEvent): Promise<UploadResult> => {
  logger.appendKeys({ runId: run.runId });
  const datasetUri = s3Uri(run.bucket, run.keys.preparedDataset);
  const [datasetText, split] = await Promise.all([
    getObjectText({ bucket: run.bucket, key: run.keys.preparedDataset }),
    getObjectJson<Split>({ bucket: run.bucket, key: run.keys.split }),
  ]);
  const dataset = parseLabelFirstCsv(datasetText, datasetUri);
  if (dataset.labels.length !== split.rowCount) {
    throw new ArtifactMismatchError(
      `${datasetUri} has ${dataset.labels.length} rows but the split was made for ${split.rowCount}; run Split again`,
    );
  }
  await Promise.all([
    putObject(
      { bucket: run.bucket, key: run.keys.trainChannel },
      toLabelFirstCsv(dataset.labels, dataset.features, split.train),
      'text/csv',
    ),
    putObject(
      { bucket: run.bucket, key: run.keys.testChannel },
      toLabelFirstCsv(dataset.labels, dataset.features, split.test),
      'text/csv',
    ),
  ]);
  const folds: FoldChannels[] = [];
  for (const [index, fold] of (split.folds ?? []).entries()) {
    const keys = foldLayout(run.keys.root, index + 1);
    await Promise.all([
      putObject(
        { bucket: run.bucket, key: keys.trainChannel },
        toLabelFirstCsv(dataset.labels, dataset.features, fold.train),
        'text/csv',
      ),
      putObject(
        { bucket: run.bucket, key: keys.testChannel },
        toLabelFirstCsv(dataset.labels, dataset.features, fold.test),
        'text/csv',
      ),
    ]);
    const channels = {
      trainingJobName: foldTrainingJobName(run.names, index + 1),
      trainUri: s3Uri(run.bucket, keys.trainChannelPrefix),
      testUri: s3Uri(run.bucket, keys.testChannelPrefix),
      outputUri: s3Uri(run.bucket, keys.output),
    };
    folds.push({
      fold: index + 1,
      ...channels,
      trainRows: fold.train.length,
      testRows: fold.test.length,
      request: trainingJobRequest(run, channels),
    });
  }
  logger.info('Uploaded channels', { train: split.train.length, test: split.test.length, folds: folds.length });
  return {
    trainUri: s3Uri(run.bucket, run.keys.trainChannel),
    testUri: s3Uri(run.bucket, run.keys.testChannel),
    trainRows: split.train.length,
    testRows: split.test.length,
    folds,
  };
});
