import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { resetClients } from '../../../src/aws/clients';
import { runLayout } from '../../../src/domain/naming';
import { readRunArtifacts, reportInputFromArtifacts } from '../../../src/report';
import { body } from '../../support/lambda';
import { exampleArtifacts } from '../artifacts/examples';

const s3 = mockClient(S3Client);
const BUCKET = 'knn-pipeline-dev-data';
const keys = runLayout('runs/', 'run-1');
const PREDICTIONS = 'row,a,true_label,predicted_label,match\n0,1,setosa,setosa,true\n';
const DATASET = '0,1\n';

function storeRun(metrics = exampleArtifacts().metrics): void {
  const { manifest, split, serving } = exampleArtifacts();
  const text: Record<string, string> = {
    [keys.manifest]: JSON.stringify(manifest),
    [keys.metrics]: JSON.stringify(metrics),
    [keys.split]: JSON.stringify(split),
    [keys.serving]: JSON.stringify(serving),
    [keys.predictions]: PREDICTIONS,
    [keys.preparedDataset]: DATASET,
  };
  s3.on(GetObjectCommand).callsFake((input) => ({ Body: body(text[input.Key]) }));
}

function keysRead(): string[] {
  return s3.commandCalls(GetObjectCommand).map((call) => String(call.args[0].input.Key));
}

beforeEach(() => {
  s3.reset();
  resetClients();
});

test('reads the three artifacts and two CSV files, and serving.json when the run was in serving mode', async () => {
  storeRun();
  const { manifest, metrics, split, serving } = exampleArtifacts();

  const stored = await readRunArtifacts(BUCKET, keys);

  expect(stored).toEqual({
    manifest,
    metrics,
    predictionsCsv: PREDICTIONS,
    preparedDatasetCsv: DATASET,
    split,
    serving,
  });
  expect(keysRead()).toEqual([
    keys.manifest,
    keys.metrics,
    keys.predictions,
    keys.preparedDataset,
    keys.split,
    keys.serving,
  ]);
  expect(s3.commandCalls(GetObjectCommand).every((call) => call.args[0].input.Bucket === BUCKET)).toBe(true);
  // What was read is the report's input as it is.
  expect(reportInputFromArtifacts(stored).serving).toEqual({
    decision: 'create',
    reason: metrics.promotion.reason,
    outcome: 'promoted',
    message: 'promoted',
  });
});

test('serving mode off: serving.json is not read', async () => {
  const metrics = exampleArtifacts().metrics;
  storeRun({ ...metrics, promotion: { ...metrics.promotion, decision: 'off' } });

  expect((await readRunArtifacts(BUCKET, keys)).serving).toBeNull();
  expect(keysRead()).not.toContain(keys.serving);
});

test('serving.json that cannot be read (403 without ListBucket) leaves the serving outcome out', async () => {
  storeRun();
  s3.on(GetObjectCommand, { Key: keys.serving }).rejects(
    Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
  );

  expect((await readRunArtifacts(BUCKET, keys)).serving).toBeNull();
});

test('a malformed metrics.json fails naming the artifact, its URI and the field', async () => {
  const metrics = exampleArtifacts().metrics;
  storeRun({ ...metrics, testRows: 'many' as never });

  await expect(readRunArtifacts(BUCKET, keys)).rejects.toThrow(
    'metrics artifact s3://knn-pipeline-dev-data/runs/run-1/evaluation/metrics.json is malformed: testRows: Invalid input: expected number, received string',
  );
});
