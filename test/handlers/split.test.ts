import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { handler, type SplitEvent } from '../../functions/split';
import { parseArtifact, type Manifest } from '../../src/artifacts';
import { resetClients } from '../../src/aws/clients';
import { handlerEvent, putInputs, serveObjects, setStageEnv } from '../support/lambda';

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

test('reads the manifest and writes split.json: scikit-learn train/test order and 3 folds, seed 0', async () => {
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
  // Indices as scikit-learn gives them: train_test_split(test_size=0.25, random_state=0), KFold(3, shuffle=True).
  expect(written).toEqual({
    seed: 0,
    testFraction: 0.25,
    rowCount: 10,
    train: [9, 1, 6, 7, 3, 0, 5],
    test: [2, 8, 4],
    folds: [
      { train: [0, 1, 3, 5, 6, 7], test: [2, 4, 8, 9] },
      { train: [0, 2, 3, 4, 5, 8, 9], test: [1, 6, 7] },
      { train: [1, 2, 4, 6, 7, 8, 9], test: [0, 3, 5] },
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
  expect(Object.keys(written).sort()).toEqual(['rowCount', 'seed', 'test', 'testFraction', 'train']);
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
