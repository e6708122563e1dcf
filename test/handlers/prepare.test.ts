import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { handler } from '../../functions/prepare';
import { resetClients } from '../../src/aws/clients';
import { STAGE_ENV } from '../../src/config/stage';
import { body, executionInput, notFound, setStageEnv } from '../support/lambda';

const s3 = mockClient(S3Client);
const IRIS = readFileSync(path.resolve(__dirname, '../../data/iris.csv'));
const execution = { name: 'e3b0c442-98fc-4c14-9afb-f4c8996fb924' };

/** events/console.json: the console's default input, every field left to the stage. */
type ConsoleInput = Record<string, unknown>;
/** events/s3-object-created.json: the EventBridge event of an upload to raw/ (the fields these tests change). */
interface ObjectCreated {
  detail: { bucket: { name: string }; object: { key: string } & Record<string, unknown> } & Record<string, unknown>;
}

let consoleInput: ConsoleInput;
let objectCreated: ObjectCreated;

/** The upload event with the object key as S3 delivered it. */
function uploaded(key: string): ObjectCreated {
  return {
    ...objectCreated,
    detail: { ...objectCreated.detail, object: { ...objectCreated.detail.object, key } },
  };
}

/** The stage whose data bucket the upload event names (events/ uses the dev stack's CloudFormation bucket name). */
function setUploadStageEnv(): void {
  setStageEnv({ [STAGE_ENV.dataBucket]: objectCreated.detail.bucket.name });
}

beforeEach(() => {
  s3.reset();
  resetClients();
  setStageEnv();
  consoleInput = executionInput<ConsoleInput>('console');
  objectCreated = executionInput<ObjectCreated>('s3-object-created');
});

function puts() {
  return s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
}

test('console input: validates and encodes the CSV, writes its features, labels and a manifest under the run prefix', async () => {
  s3.on(HeadObjectCommand).resolves({ ContentLength: IRIS.length, ETag: '"abc"', VersionId: 'v1' });
  s3.on(GetObjectCommand).resolves({ Body: body(IRIS) });
  s3.on(PutObjectCommand).resolves({});

  const result = await handler({ input: consoleInput, execution });

  if (result.duplicate) throw new Error('not a duplicate');
  expect(result.run.training.hyperParameters).toEqual({
    k: '1',
    sample_size: '1000',
    predictor_type: 'classifier',
    feature_dim: '4',
  });
  expect(result.dataset).toEqual({ rows: 150, features: 4, classes: ['setosa', 'versicolor', 'virginica'] });
  expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toMatchObject({
    Bucket: 'knn-pipeline-dev-data',
    Key: 'raw/iris.csv',
    VersionId: 'v1',
  });

  const written = puts();
  expect(written.map((p) => p.Key)).toEqual([
    `runs/${execution.name}/claim.json`,
    `runs/${execution.name}/prepared/features.csv`,
    `runs/${execution.name}/prepared/labels.f64`,
    `runs/${execution.name}/prepared/manifest.json`,
  ]);
  expect(written.every((p) => !String(p.Key).startsWith('raw/'))).toBe(true);
  expect(written[0].IfNoneMatch).toBe('*');
  const features = String(written[1].Body).trim().split('\n');
  expect(features).toHaveLength(150);
  expect(features[0]).toBe('5.1,3.5,1.4,0.2');
  expect(features[149]).toBe('5.9,3,5.1,1.8');
  const labelBytes = written[2].Body as Uint8Array;
  const labels = new Float64Array(labelBytes.slice().buffer);
  expect([labels.length, labels[0], labels[50], labels[149]]).toEqual([150, 0, 1, 2]);
  expect(written[2].ContentType).toBe('application/octet-stream');
  const manifest = JSON.parse(String(written[3].Body));
  expect(manifest).toMatchObject({
    featureNames: ['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width'],
    classes: ['setosa', 'versicolor', 'virginica'],
    classCounts: { setosa: 50, versicolor: 50, virginica: 50 },
    rowCount: 150,
    source: { bucket: 'knn-pipeline-dev-data', key: 'raw/iris.csv', versionId: 'v1', size: IRIS.length },
  });
});

test.each([
  ['a raw key with a space', 'raw/my data.csv', 'raw/my data.csv'],
  ['a raw key with a plus', 'raw/a+b.csv', 'raw/a+b.csv'],
  ['a raw unicode key', 'raw/données é.csv', 'raw/données é.csv'],
  ['a form-encoded key (space as +)', 'raw/my+data.csv', 'raw/my data.csv'],
  ['a form-encoded plus and unicode', 'raw/a%2Bb+%C3%A9.csv', 'raw/a+b é.csv'],
])('S3 event with %s reads the object that was uploaded', async (_case, delivered, stored) => {
  setUploadStageEnv();
  s3.on(HeadObjectCommand).rejects(notFound());
  s3.on(HeadObjectCommand, { Key: stored }).resolves({ ContentLength: IRIS.length });
  s3.on(GetObjectCommand, { Key: stored }).resolves({ Body: body(IRIS) });
  s3.on(PutObjectCommand).resolves({});

  const result = await handler({ input: uploaded(delivered), execution });

  if (result.duplicate) throw new Error('not a duplicate');
  expect(result.run.dataset.key).toBe(stored);
  expect(result.run.trigger.type).toBe('s3');
});

test('a repeated delivery of the same upload ends as a duplicate without reading the data', async () => {
  setUploadStageEnv();
  s3.on(HeadObjectCommand).resolves({ ContentLength: IRIS.length });
  s3.on(PutObjectCommand).rejects(
    Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    }),
  );
  s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ executionName: 'the-first-execution' })) });

  const result = await handler({ input: objectCreated, execution });

  expect(result).toMatchObject({
    duplicate: true,
    message: expect.stringMatching(/Duplicate event.*the-first-execution/),
  });
  expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
    expect.stringMatching(/claim\.json$/),
  ]);
});

test('a missing dataset fails naming the object and what to do', async () => {
  s3.on(HeadObjectCommand).rejects(notFound());
  await expect(
    handler({ input: { ...consoleInput, dataset: { key: 'raw/nope.csv' } }, execution }),
  ).rejects.toMatchObject({
    name: 'DatasetNotFoundError',
    message: expect.stringContaining('s3://knn-pipeline-dev-data/raw/nope.csv does not exist'),
  });
});

test('a refused HeadObject (a bare 403: no code, no message) fails naming the object and the permission', async () => {
  // What the SDK makes of S3's body-less 403 answer to a HEAD request.
  const refused = Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 403 } });
  s3.on(HeadObjectCommand).rejects(refused);
  await expect(handler({ input: consoleInput, execution })).rejects.toMatchObject({
    name: 'ObjectAccessDeniedError',
    message: expect.stringContaining(
      'S3 refused HeadObject on s3://knn-pipeline-dev-data/raw/iris.csv (403 Forbidden)',
    ),
  });
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
});

test('a file larger than the stage allows is refused before it is read', async () => {
  setStageEnv({ MAX_DATASET_BYTES: '1000' });
  s3.on(HeadObjectCommand).resolves({ ContentLength: 5_000_000 });
  await expect(handler({ input: consoleInput, execution })).rejects.toMatchObject({
    name: 'DatasetTooLargeError',
    message: expect.stringMatching(/raw\/iris\.csv is 5000000 bytes; this stage accepts at most 1000 bytes/),
  });
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
});

test('an invalid CSV fails at Prepare naming object, row and column, and writes no dataset', async () => {
  const csv = 'a,b,Species\n1,2,x\n3,oops,y\n';
  s3.on(HeadObjectCommand).resolves({ ContentLength: csv.length });
  s3.on(GetObjectCommand).resolves({ Body: body(csv) });
  s3.on(PutObjectCommand).resolves({});
  await expect(handler({ input: consoleInput, execution })).rejects.toMatchObject({
    name: 'DatasetError',
    message: expect.stringContaining('s3://knn-pipeline-dev-data/raw/iris.csv: row 3, column "b"'),
  });
  expect(puts().map((p) => p.Key)).toEqual([`runs/${execution.name}/claim.json`]);
});

test('an invalid execution input fails before any S3 call, listing every problem', async () => {
  await expect(
    handler({ input: { ...consoleInput, k: 3, split: { testFraction: 2 } }, execution }),
  ).rejects.toMatchObject({
    name: 'InputValidationError',
    message: expect.stringMatching(
      /^Invalid execution input \(2 problems\): (?=.*unknown field "k")(?=.*split\.testFraction: must be less than 1)/,
    ),
  });
  expect(s3.calls()).toHaveLength(0);
});
