import { getObjectJson, putJson } from '../src/aws/objects';
import { preparedRows, type PreparedRefs } from '../src/channels/prepared';
import { splitChannels, TUNING_TRAIN_CHANNEL, TUNING_VALIDATION_CHANNEL } from '../src/channels/splitChannels';
import { splitTransformGroups, withFittedTransforms } from '../src/channels/transformChannels';
import { writeChannelSet, type ChannelSpec } from '../src/channels/writer';
import { transformsFeatures, type RunConfig } from '../src/domain/runConfig';
import { foldLayout, foldTrainingJobName, s3Uri, trainShardKeys } from '../src/domain/naming';
import { trainingJobRequest, tuningWithFeatureDimension, withFeatureDimension } from '../src/domain/sageMakerRequests';
import { logger } from '../src/log/logger';
import { ArtifactMismatchError } from '../src/domain/errors';
import type { FeatureTransform, Manifest, Split } from '../src/artifacts';
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
  /** The final CreateTrainingJob request (the Train state's input): feature_dim as the channels hold the rows. */
  trainingJob: Record<string, unknown>;
  /** The feature transform fitted on the training rows, when the run transforms its features. */
  transformUri?: string;
  /** Tuning on: the rows of the tuning jobs' channels (train: training rows minus validation; test: validation). */
  tuning?: { trainUri: string; validationUri: string; trainRows: number; validationRows: number };
  /** Tuning on: the CreateHyperParameterTuningJob request (Tune's input), feature_dim as its channels hold. */
  tuningJob?: Record<string, unknown>;
}

/**
 * Writes the k-NN input channels (headerless CSV, label first, text/csv) in one streaming pass over the prepared
 * rows: the held-out and training rows in train_test_split's order, each fold's rows in file order (KFold's).
 */
export const handler = lambdaHandler(async ({ run }: UploadEvent): Promise<UploadResult> => {
  logger.appendKeys({ runId: run.runId });
  const prepared: PreparedRefs = {
    features: { bucket: run.bucket, key: run.keys.preparedFeatures },
    labels: { bucket: run.bucket, key: run.keys.preparedLabels },
  };
  // Without feature options the prepared rows go to the channels as they are (the manifest is not even read).
  const mayTransform =
    run.features.categorical === 'auto' || transformsFeatures(run.features, run.features.categorical);
  const [source, split, manifest] = await Promise.all([
    preparedRows(prepared),
    getObjectJson<Split>({ bucket: run.bucket, key: run.keys.split }),
    mayTransform ? getObjectJson<Manifest>({ bucket: run.bucket, key: run.keys.manifest }) : undefined,
  ]);
  if (source.rowCount !== split.rowCount) {
    throw new ArtifactMismatchError(
      `${s3Uri(run.bucket, run.keys.preparedFeatures)} has ${source.rowCount} rows but the split was made for ${split.rowCount}; run Split again`,
    );
  }
  const shards = run.training.instanceCount;
  const foldCount = split.folds?.length ?? 0;
  const foldKeys = Array.from({ length: foldCount }, (_, index) => foldLayout(run.keys.root, index + 1));
  let channels = splitChannels(split, {
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
  let transforms: FeatureTransform[] = [];
  if (manifest?.features?.transformed) {
    // Fitted on the training rows only (one pass), then the channels hold transformed rows; Evaluate reads the
    // held-out rows as prepared from their own object and transforms them itself.
    const fitted = await withFittedTransforms(
      await preparedRows(prepared),
      channels,
      splitTransformGroups(channels),
      { featureNames: manifest.featureNames, categorical: manifest.features.categorical },
      run.features,
    );
    transforms = fitted.transforms;
    const rawTest: ChannelSpec = { name: 'test-raw', keys: [run.keys.rawTestRows], rows: channels[0].rows };
    channels = [...fitted.channels, rawTest];
    await putJson({ bucket: run.bucket, key: run.keys.transform }, transforms[0]);
    for (const [fold, keys] of foldKeys.entries())
      await putJson({ bucket: run.bucket, key: keys.transform }, transforms[fold + 1]);
    if (split.tuning) await putJson({ bucket: run.bucket, key: run.keys.tuningTransform }, transforms[foldCount + 1]);
    logger.info('Fitted the feature transform on the training rows', {
      scaling: transforms[0].scaling,
      categorical: transforms[0].categorical.map((column) => column.name),
      pcaComponents: transforms[0].pca?.components.length ?? null,
      outputFeatures: transforms[0].outputFeatures.length,
    });
  }
  const written = await writeChannelSet(run.bucket, source, channels);
  /** A training request for the rows its channels hold: feature_dim is the transform's output width, if any. */
  const forRows = (request: Record<string, unknown>, transform: FeatureTransform | undefined) =>
    transform ? withFeatureDimension(request, transform.outputFeatures.length) : request;

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
      request: forRows(trainingJobRequest(run, fileChannels), transforms[fold + 1]),
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
  const trainUri = s3Uri(run.bucket, shards === 1 ? run.keys.trainChannel : run.keys.trainChannelPrefix);
  return {
    trainUri,
    testUri: s3Uri(run.bucket, run.keys.testChannel),
    trainRows: written[1].rows,
    testRows: written[0].rows,
    trainShards: shards,
    folds,
    trainingJob: forRows(run.requests!.trainingJob, transforms[0]),
    ...(transforms[0] ? { transformUri: s3Uri(run.bucket, run.keys.transform) } : {}),
    ...(tuningTrain && tuningValidation && run.requests?.tuningJob
      ? {
          tuning: {
            trainUri: run.uris.tuningTrainChannel,
            validationUri: run.uris.tuningValidationChannel,
            trainRows: tuningTrain.rows,
            validationRows: tuningValidation.rows,
          },
          // The tuning transform (fitted on the tuning train rows) sets the width of the tuning jobs' rows.
          tuningJob: tuningWithFeatureDimension(
            run.requests.tuningJob,
            transforms[foldCount + 1]?.outputFeatures.length,
          ),
        }
      : {}),
  };
});
