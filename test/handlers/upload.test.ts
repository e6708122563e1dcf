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
/** prepared/dataset.csv: headerless, label first, rows 0-5. */
const DATASET = '0,5.1,3.5\n0,4.9,3\n1,7,3.2\n1,6.4,3.2\n2,6.3,3.3\n2,5.8,2.7\n';
const split: Split = {
  testFraction: 0.25,
  seed: 0,
  rowCount: 6,
  train: [5, 1, 3, 0],
  test: [2, 4],
  folds: [
    { train: [0, 1, 2], test: [3, 4, 5] },
    { train: [3, 4, 5], test: [0, 1, 2] },
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

function stored(splitFile: Split = split, dataset = DATASET): void {
  serveObjects(s3, {
    [`${ROOT}/prepared/dataset.csv`]: dataset,
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

  expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
    { Bucket: BUCKET, Key: `${ROOT}/prepared/dataset.csv` },
    { Bucket: BUCKET, Key: `${ROOT}/prepared/split.json` },
  ]);
  expect(putInputs(s3)).toEqual([
    csv(`${ROOT}/input/train/train.csv`, '2,5.8,2.7\n0,4.9,3\n1,6.4,3.2\n0,5.1,3.5\n'),
    csv(`${ROOT}/input/test/test.csv`, '1,7,3.2\n2,6.3,3.3\n'),
    csv(`${ROOT}/input/cv/fold-1/train/train.csv`, '0,5.1,3.5\n0,4.9,3\n1,7,3.2\n'),
    csv(`${ROOT}/input/cv/fold-1/test/test.csv`, '1,6.4,3.2\n2,6.3,3.3\n2,5.8,2.7\n'),
    csv(`${ROOT}/input/cv/fold-2/train/train.csv`, '1,6.4,3.2\n2,6.3,3.3\n2,5.8,2.7\n'),
    csv(`${ROOT}/input/cv/fold-2/test/test.csv`, '0,5.1,3.5\n0,4.9,3\n1,7,3.2\n'),
  ]);
  expect(result).toEqual({
    trainUri: `s3://${BUCKET}/${ROOT}/input/train/train.csv`,
    testUri: `s3://${BUCKET}/${ROOT}/input/test/test.csv`,
    trainRows: 4,
    testRows: 2,
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
  });
});

test('without folds in split.json only the two channels are written and no fold is returned', async () => {
  const { folds: _folds, ...withoutFolds } = split;
  stored(withoutFolds);

  const result = await handler(event);

  expect(putInputs(s3).map((put) => put.Key)).toEqual([`${ROOT}/input/train/train.csv`, `${ROOT}/input/test/test.csv`]);
  expect(result.folds).toEqual([]);
});

test('a split made for another row count is refused before anything is written', async () => {
  stored({ ...split, rowCount: 7 });

  await expect(handler(event)).rejects.toThrow(
    `s3://${BUCKET}/${ROOT}/prepared/dataset.csv has 6 rows but the split was made for 7; run Split again`,
  );
  expect(putInputs(s3)).toHaveLength(0);
});

test('a missing split.json fails with S3 NoSuchKey and writes nothing', async () => {
  serveObjects(s3, { [`${ROOT}/prepared/dataset.csv`]: DATASET });

  await expect(handler(event)).rejects.toMatchObject({ name: 'NoSuchKey' });
  expect(putInputs(s3)).toHaveLength(0);
});
