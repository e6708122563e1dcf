import { getObjectJson } from '../src/aws/objects';
import { preparedRows } from '../src/channels/prepared';
import { splitChannels, TUNING_TRAIN_CHANNEL, TUNING_VALIDATION_CHANNEL } from '../src/channels/splitChannels';
import { writeChannelSet } from '../src/channels/writer';
import type { RunConfig } from '../src/domain/runConfig';
import { foldLayout, foldTrainingJobName, s3Uri, trainShardKeys } from '../src/domain/naming';
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
  /** Objects of the train channel: one per training host when training is sharded. */
  trainShards: number;
  folds: FoldChannels[];
  /** Tuning on: the rows of the tuning jobs' channels (train: training rows minus validation; test: validation). */
  tuning?: { trainUri: string; validationUri: string; trainRows: number; validationRows: number };
}

/**
 * Writes the k-NN input channels (headerless CSV, label first, text/csv) in one streaming pass over the prepared
 * rows: the held-out and training rows in train_test_split's order, each fold's rows in file order (KFold's).
 */
export const handler = lambdaHandler(async ({ run }: UploadEvent): Promise<UploadResult> => {
  logger.appendKeys({ runId: run.runId });
  const [source, split] = await Promise.all([
    preparedRows({
      features: { bucket: run.bucket, key: run.keys.preparedFeatures },
      labels: { bucket: run.bucket, key: run.keys.preparedLabels },
    }),
    getObjectJson<Split>({ bucket: run.bucket, key: run.keys.split }),
  ]);
  if (source.rowCount !== split.rowCount) {
    throw new ArtifactMismatchError(
      `${s3Uri(run.bucket, run.keys.preparedFeatures)} has ${source.rowCount} rows but the split was made for ${split.rowCount}; run Split again`,
    );
  }
  const shards = run.training.instanceCount;
  const foldCount = split.folds?.length ?? 0;
  const foldKeys = Array.from({ length: foldCount }, (_, index) => foldLayout(run.keys.root, index + 1));
  const channels = splitChannels(split, {
    test: run.keys.testChannel,
    train: trainShardKeys(run.keys, shards),
    folds: foldKeys.map((keys) => ({ test: keys.testChannel, train: trainShardKeys(keys, shards) })),
    ...(split.tuning
      ? {
          tuning: {
            train: trainShardKeys(
              { trainChannel: run.keys.tuningTrainChannel, trainChannelPrefix: run.keys.tuningTrainChannelPrefix },
              shards,
            ),
            validation: run.keys.tuningValidationChannel,
          },
        }
      : {}),
  });
  const written = await writeChannelSet(run.bucket, source, channels);

  const folds: FoldChannels[] = [];
  for (const [fold, keys] of foldKeys.entries()) {
    const fileChannels = {
      trainingJobName: foldTrainingJobName(run.names, fold + 1),
      trainUri: s3Uri(run.bucket, keys.trainChannelPrefix),
      testUri: s3Uri(run.bucket, keys.testChannelPrefix),
      outputUri: s3Uri(run.bucket, keys.output),
    };
    folds.push({
      fold: fold + 1,
      ...fileChannels,
      trainRows: written[3 + 2 * fold].rows,
      testRows: written[2 + 2 * fold].rows,
      request: trainingJobRequest(run, fileChannels),
    });
  }
  const tuningTrain = written.find((channel) => channel.name === TUNING_TRAIN_CHANNEL);
  const tuningValidation = written.find((channel) => channel.name === TUNING_VALIDATION_CHANNEL);
  logger.info('Uploaded channels', {
    train: written[1].rows,
    test: written[0].rows,
    trainShards: shards,
    folds: folds.length,
    ...(tuningTrain && tuningValidation
      ? { tuningTrain: tuningTrain.rows, tuningValidation: tuningValidation.rows }
      : {}),
    bytes: written.reduce((sum, channel) => sum + channel.bytes, 0),
  });
  return {
    trainUri: s3Uri(run.bucket, shards === 1 ? run.keys.trainChannel : run.keys.trainChannelPrefix),
    testUri: s3Uri(run.bucket, run.keys.testChannel),
    trainRows: written[1].rows,
    testRows: written[0].rows,
    trainShards: shards,
    folds,
    ...(tuningTrain && tuningValidation
      ? {
          tuning: {
            trainUri: run.uris.tuningTrainChannel,
            validationUri: run.uris.tuningValidationChannel,
            trainRows: tuningTrain.rows,
            validationRows: tuningValidation.rows,
          },
        }
      : {}),
  };
});
