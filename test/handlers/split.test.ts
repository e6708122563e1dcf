import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { handler, type SplitEvent } from '../../functions/split';
import { parseArtifact, type Manifest, type Split } from '../../src/artifacts';
import { resetClients } from '../../src/aws/clients';
import { handlerEvent, putInputs, serveObjects, setStageEnv } from '../support/lambda';
import { gridTuning } from '../support/stage';

const s3 = mockClient(S3Client);
const BUCKET = 'knn-pipeline-dev-data';
const ROOT = 'runs/iris-split-0001';

/** A manifest as Prepare writes it, for a ten-row dataset. */
const manifest: Manifest = {
  runId: 'iris-split-0001',
  source: { bucket: BUCKET, key: 'raw/iris.csv', uri: `s3://${BUCKET}/raw/iris.csv`, size: 230 },
  labelColumn: 'Species',
  predictorType: 'classifier',
  featureNames: ['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width'],
  classes: ['setosa', 'versicolor'],
  classCounts: { setosa: 5, versicolor: 5 },
  rowCount: 10,
  warnings: [],
  preparedAt: '2026-11-29T17:00:00.000Z',
};

let event: SplitEvent;

beforeEach(() => {
  s3.reset();
  resetClients();
  setStageEnv();
  event = handlerEvent<SplitEvent>('split');
  s3.on(PutObjectCommand).resolves({});
});

test('reads the manifest and writes split.json: the sizes of the train/test split and of 3 folds, seed 0', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest) });

  const result = await handler(event);

  expect(result).toEqual({ train: 7, test: 3, folds: 3, uri: `s3://${BUCKET}/${ROOT}/prepared/split.json` });
  expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
    { Bucket: BUCKET, Key: `${ROOT}/prepared/manifest.json` },
  ]);
  const [put] = putInputs(s3);
  expect(putInputs(s3)).toHaveLength(1);
  expect({ ...put, Body: undefined }).toEqual({
    Bucket: BUCKET,
    Key: `${ROOT}/prepared/split.json`,
    ContentType: 'application/json',
  });
  const text = String(put.Body);
  const written = JSON.parse(text);
  // Sizes as scikit-learn gives them: train_test_split(test_size=0.25) holds out ceil(2.5) rows, KFold(3) 4/3/3.
  expect(written).toEqual({
    seed: 0,
    testFraction: 0.25,
    rowCount: 10,
    trainRows: 7,
    testRows: 3,
    folds: [
      { trainRows: 6, testRows: 4 },
      { trainRows: 7, testRows: 3 },
      { trainRows: 7, testRows: 3 },
    ],
  });
  expect(text).toBe(`${JSON.stringify(written, null, 2)}\n`);
  expect(() => parseArtifact('split', written, 'split.json')).not.toThrow();
});

test('without cross-validation split.json has no folds and the result counts none', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest) });
  event.run.crossValidation = { ...event.run.crossValidation, folds: 0 };

  const result = await handler(event);

  expect(result).toEqual({ train: 7, test: 3, folds: 0, uri: `s3://${BUCKET}/${ROOT}/prepared/split.json` });
  const written = JSON.parse(String(putInputs(s3)[0].Body));
  expect(Object.keys(written).sort()).toEqual(['rowCount', 'seed', 'testFraction', 'testRows', 'trainRows']);
});

test('the seed and test fraction of the run decide the split', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest) });
  event.run.split = { testFraction: 0.5, seed: 42 };
  event.run.crossValidation = { ...event.run.crossValidation, folds: 0 };

  const result = await handler(event);

  expect(result).toMatchObject({ train: 5, test: 5, folds: 0 });
  expect(JSON.parse(String(putInputs(s3)[0].Body))).toMatchObject({ seed: 42, testFraction: 0.5, rowCount: 10 });
});

test('a missing manifest fails with S3 NoSuchKey and writes nothing', async () => {
  serveObjects(s3, {});

  await expect(handler(event)).rejects.toMatchObject({ name: 'NoSuchKey' });
  expect(putInputs(s3)).toHaveLength(0);
});

test('a dataset too small to split (one row) fails naming the row count, and writes nothing', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/manifest.json`]: JSON.stringify({ ...manifest, rowCount: 1 }) });

  await expect(handler(event)).rejects.toMatchObject({
    name: 'SplitError',
    message: 'at least 2 rows are needed to split, got 1',
  });
  expect(putInputs(s3)).toHaveLength(0);
});

test('sharded training with more hosts than training rows is refused before anything is written', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest) });
  event.run.training = { ...event.run.training, instanceCount: 7 };

  await expect(handler(event)).rejects.toMatchObject({
    name: 'SplitError',
    message:
      'training.instanceCount is 7 but a fold has 6 training rows: each host needs at least one row of its own. Use fewer instances.',
  });
  expect(putInputs(s3)).toHaveLength(0);
});

test('more folds than rows is refused naming both counts', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/manifest.json`]: JSON.stringify({ ...manifest, rowCount: 2 }) });
  event.run.split = { testFraction: 0.5, seed: 0 };

  await expect(handler(event)).rejects.toMatchObject({
    name: 'SplitError',
    message: 'cannot split 2 rows into 3 folds: each fold needs a row',
  });
});

test('with tuning on, split.json records the validation split of the training rows (f of them, rounded up)', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/manifest.json`]: JSON.stringify(manifest) });
  event.run.tuning = gridTuning();

  await handler(event);
  const split = JSON.parse(String(putInputs(s3)[0].Body)) as Split;
  const validationRows = Math.ceil(0.2 * split.trainRows);
  expect(split.tuning).toEqual({
    validationFraction: 0.2,
    trainRows: split.trainRows - validationRows,
    validationRows,
  });
});
