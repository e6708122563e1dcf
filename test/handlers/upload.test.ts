import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { handler, type UploadEvent } from '../../functions/upload';
import type { Split } from '../../src/artifacts';
import { resetClients } from '../../src/aws/clients';
import { handlerEvent, putInputs, serveObjects, setStageEnv } from '../support/lambda';

const s3 = mockClient(S3Client);
const BUCKET = 'knn-pipeline-dev-data';
const ROOT = 'runs/iris-upload-0001';
const JOB = 'knnp-dev--iris-upload-0001';
/** prepared/features.csv and labels.f64 of six rows (label first: 0,5.1,3.5 / 0,4.9,3 / 1,7,3.2 / …). */
const FEATURES = '5.1,3.5\n4.9,3\n7,3.2\n6.4,3.2\n6.3,3.3\n5.8,2.7\n';
const labelBytes = (labels: number[]) => new Uint8Array(Float64Array.from(labels).buffer);
const LABELS = labelBytes([0, 0, 1, 1, 2, 2]);
/** scikit-learn: train_test_split(range(6), test_size=0.25, random_state=0) = [1, 3, 0, 4], [5, 2]; KFold(2). */
const split: Split = {
  testFraction: 0.25,
  seed: 0,
  rowCount: 6,
  trainRows: 4,
  testRows: 2,
  folds: [
    { trainRows: 3, testRows: 3 },
    { trainRows: 3, testRows: 3 },
  ],
};

let event: UploadEvent;

beforeEach(() => {
  s3.reset();
  resetClients();
  setStageEnv();
  event = handlerEvent<UploadEvent>('upload');
  s3.on(PutObjectCommand).resolves({});
});

function stored(splitFile: Split = split, features = FEATURES, labels = LABELS): void {
  serveObjects(s3, {
    [`${ROOT}/prepared/features.csv`]: features,
    [`${ROOT}/prepared/labels.f64`]: labels,
    [`${ROOT}/prepared/split.json`]: JSON.stringify(splitFile),
  });
}

const csv = (Key: string, Body: string) => ({ Bucket: BUCKET, Key, Body, ContentType: 'text/csv' });

/** The run's own CreateTrainingJob request, pointed at one fold's job name, channels and output. */
function foldRequest(fold: number) {
  const base = event.run.requests!.trainingJob as { InputDataConfig: { ChannelName: string }[] };
  return {
    ...base,
    TrainingJobName: `${JOB}--f${fold}`,
    InputDataConfig: base.InputDataConfig.map((channel) => ({
      ...channel,
      DataSource: {
        S3DataSource: expect.objectContaining({
          S3Uri: `s3://${BUCKET}/${ROOT}/input/cv/fold-${fold}/${channel.ChannelName}/`,
        }),
      },
    })),
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/${ROOT}/output/cv/fold-${fold}/` },
  };
}

test('writes the train and test channels and each fold’s channels as label-first CSV, rows in split order', async () => {
  stored();

  const result = await handler(event);

  expect(
    s3
      .commandCalls(GetObjectCommand)
      .map((call) => call.args[0].input.Key)
      .sort(),
  ).toEqual([`${ROOT}/prepared/features.csv`, `${ROOT}/prepared/labels.f64`, `${ROOT}/prepared/split.json`]);
  const byKey = (a: { Key?: string }, b: { Key?: string }) => a.Key!.localeCompare(b.Key!);
  expect(putInputs(s3).sort(byKey)).toEqual(
    [
      csv(`${ROOT}/input/train/train.csv`, '0,4.9,3\n1,6.4,3.2\n0,5.1,3.5\n2,6.3,3.3\n'),
      csv(`${ROOT}/input/test/test.csv`, '2,5.8,2.7\n1,7,3.2\n'),
      csv(`${ROOT}/input/cv/fold-1/train/train.csv`, '0,5.1,3.5\n1,6.4,3.2\n2,6.3,3.3\n'),
      csv(`${ROOT}/input/cv/fold-1/test/test.csv`, '0,4.9,3\n1,7,3.2\n2,5.8,2.7\n'),
      csv(`${ROOT}/input/cv/fold-2/train/train.csv`, '0,4.9,3\n1,7,3.2\n2,5.8,2.7\n'),
      csv(`${ROOT}/input/cv/fold-2/test/test.csv`, '0,5.1,3.5\n1,6.4,3.2\n2,6.3,3.3\n'),
    ].sort(byKey),
  );
  expect(result).toEqual({
    trainUri: `s3://${BUCKET}/${ROOT}/input/train/train.csv`,
    testUri: `s3://${BUCKET}/${ROOT}/input/test/test.csv`,
    trainRows: 4,
    testRows: 2,
    trainShards: 1,
    folds: [1, 2].map((fold) => ({
      fold,
      trainingJobName: `${JOB}--f${fold}`,
      trainUri: `s3://${BUCKET}/${ROOT}/input/cv/fold-${fold}/train/`,
      testUri: `s3://${BUCKET}/${ROOT}/input/cv/fold-${fold}/test/`,
      outputUri: `s3://${BUCKET}/${ROOT}/output/cv/fold-${fold}/`,
      trainRows: 3,
      testRows: 3,
      request: foldRequest(fold),
    })),
    // Without a feature transform the final request is Prepare's, unchanged.
    trainingJob: event.run.requests!.trainingJob,
  });
});

test('without folds in split.json only the two channels are written and no fold is returned', async () => {
  const { folds: _folds, ...withoutFolds } = split;
  stored(withoutFolds);

  const result = await handler(event);

  expect(putInputs(s3).map((put) => put.Key)).toEqual([`${ROOT}/input/test/test.csv`, `${ROOT}/input/train/train.csv`]);
  expect(result.folds).toEqual([]);
});

test('a split made for another row count is refused before anything is written', async () => {
  stored({ ...split, rowCount: 7 });

  await expect(handler(event)).rejects.toThrow(
    `s3://${BUCKET}/${ROOT}/prepared/features.csv has 6 rows but the split was made for 7; run Split again`,
  );
  expect(putInputs(s3)).toHaveLength(0);
});

test('a missing split.json fails with S3 NoSuchKey and writes nothing', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/features.csv`]: FEATURES, [`${ROOT}/prepared/labels.f64`]: LABELS });

  await expect(handler(event)).rejects.toMatchObject({ name: 'NoSuchKey' });
  expect(putInputs(s3)).toHaveLength(0);
});

test('features with a row more than the labels are refused, and no channel is left behind', async () => {
  stored(split, `${FEATURES}1,2\n`);

  await expect(handler(event)).rejects.toMatchObject({
    name: 'ArtifactMismatchError',
    message: `s3://${BUCKET}/${ROOT}/prepared/features.csv has more rows than the 6 labels; run Prepare again`,
  });
  expect(putInputs(s3)).toHaveLength(0);
});

test('with two training instances the train channel is two shards, read ShardedByS3Key', async () => {
  const { folds: _folds, ...withoutFolds } = split;
  stored(withoutFolds);
  event.run.training = { ...event.run.training, instanceCount: 2 };

  const result = await handler(event);

  expect(putInputs(s3).map((put) => [put.Key, put.Body])).toEqual([
    [`${ROOT}/input/test/test.csv`, '2,5.8,2.7\n1,7,3.2\n'],
    [`${ROOT}/input/train/train-1-of-2.csv`, '0,4.9,3\n1,6.4,3.2\n'],
    [`${ROOT}/input/train/train-2-of-2.csv`, '0,5.1,3.5\n2,6.3,3.3\n'],
  ]);
  expect(result).toMatchObject({ trainUri: `s3://${BUCKET}/${ROOT}/input/train/`, trainRows: 4, trainShards: 2 });
});

describe('with a feature transform', () => {
  /** Two numeric columns and a categorical one, as Prepare keeps them. */
  const WITH_COLOUR = '5.1,3.5,red\n4.9,3,blue\n7,3.2,red\n6.4,3.2,green\n6.3,3.3,blue\n5.8,2.7,red\n';
  const manifest = {
    featureNames: ['length', 'width', 'colour'],
    features: { dropped: [], categorical: ['colour'], categoricalChoice: 'list', transformed: true },
  };

  test('each group is fitted on its own training rows; channels hold transformed rows, feature_dim follows', async () => {
    serveObjects(s3, {
      [`${ROOT}/prepared/features.csv`]: WITH_COLOUR,
      [`${ROOT}/prepared/labels.f64`]: LABELS,
      [`${ROOT}/prepared/split.json`]: JSON.stringify(split),
      [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest),
    });
    event.run.features = { ...event.run.features, scaling: 'minmax', categorical: ['colour'] };

    const result = await handler(event);

    const puts = Object.fromEntries(putInputs(s3).map((put) => [put.Key, put.Body as string]));
    const transform = JSON.parse(puts[`${ROOT}/features/transform.json`]);
    // Train rows [1, 3, 0, 4]: lengths 4.9, 6.4, 5.1, 6.3; colours blue, green, red.
    expect(transform).toMatchObject({
      numeric: [
        { name: 'length', center: 4.9, min: 4.9, max: 6.4 },
        { name: 'width', center: 3, min: 3, max: 3.5 },
      ],
      categorical: [{ name: 'colour', categories: ['blue', 'green', 'red'] }],
      fittedOn: { channel: 'train', rows: 4 },
    });
    // Row 1 (4.9, 3, blue) is the minimum of both columns.
    expect(puts[`${ROOT}/input/train/train.csv`].split('\n')[0]).toBe('0,0,0,1,0,0');
    // The held-out rows stay raw beside the transformed test channel, in the same order.
    expect(puts[`${ROOT}/features/test-raw.csv`]).toBe('2,5.8,2.7,red\n1,7,3.2,red\n');
    expect(puts[`${ROOT}/input/test/test.csv`].split('\n')).toHaveLength(3);
    // Fold 1 trains on rows 0, 3, 4 (KFold): its own categories, so its own width.
    const fold1 = JSON.parse(puts[`${ROOT}/features/fold-1.json`]);
    expect(fold1.fittedOn).toEqual({ channel: 'fold-1/train', rows: 3 });
    expect(fold1.categorical[0].categories).toEqual(['blue', 'green', 'red']);
    const dims = [result.trainingJob, ...result.folds.map((fold) => fold.request)].map(
      (request) => (request as { HyperParameters: Record<string, string> }).HyperParameters.feature_dim,
    );
    expect(dims).toEqual(['5', String(2 + fold1.categorical[0].categories.length), expect.any(String)]);
    expect(result.transformUri).toBe(`s3://${BUCKET}/${ROOT}/features/transform.json`);
  });

  test('too many levels in the training rows are refused before any channel is written', async () => {
    serveObjects(s3, {
      [`${ROOT}/prepared/features.csv`]: WITH_COLOUR,
      [`${ROOT}/prepared/labels.f64`]: LABELS,
      [`${ROOT}/prepared/split.json`]: JSON.stringify(split),
      [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest),
    });
    event.run.features = { ...event.run.features, categorical: ['colour'], maxCategoricalLevels: 2 };

    await expect(handler(event)).rejects.toThrow(/features\.maxCategoricalLevels: column "colour" has more than 2/);
    expect(putInputs(s3)).toHaveLength(0);
  });
});
