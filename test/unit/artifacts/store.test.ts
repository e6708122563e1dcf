import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  readArtifact,
  readArtifactEventually,
  readArtifactIfPresent,
  writeArtifact,
  writeArtifactIfAbsent,
} from '../../../src/artifacts';
import { resetClients } from '../../../src/aws/clients';
import { runLayout } from '../../../src/domain/naming';
import { body, notFound } from '../../support/lambda';
import { exampleArtifacts } from './examples';

const s3 = mockClient(S3Client);
const BUCKET = 'knn-pipeline-dev-data';
const keys = runLayout('runs/', 'run-1');

beforeEach(() => {
  s3.reset();
  resetClients();
});

/** Serves whatever was last put at a key, like a bucket would. */
function bucketInMemory(): Map<string, string> {
  const objects = new Map<string, string>();
  s3.on(PutObjectCommand).callsFake((input) => {
    objects.set(input.Key, String(input.Body));
    return {};
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    const text = objects.get(input.Key);
    if (text === undefined) throw notFound();
    return { Body: body(text) };
  });
  return objects;
}

test('written then read back: the same artifact, at the run layout key, as indented JSON', async () => {
  const objects = bucketInMemory();
  const { metrics } = exampleArtifacts();

  await writeArtifact(BUCKET, keys, 'metrics', metrics);

  expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toEqual({
    Bucket: BUCKET,
    Key: 'runs/run-1/evaluation/metrics.json',
    Body: `${JSON.stringify(metrics, null, 2)}\n`,
    ContentType: 'application/json',
  });
  expect(objects.size).toBe(1);
  await expect(readArtifact(BUCKET, keys, 'metrics')).resolves.toEqual(metrics);
});

test('a malformed artifact in the bucket fails the read, naming the artifact, its URI and the field', async () => {
  const objects = bucketInMemory();
  const { split } = exampleArtifacts();
  objects.set(keys.split, JSON.stringify({ ...split, rowCount: -1 }));

  await expect(readArtifact(BUCKET, keys, 'split')).rejects.toThrow(
    'split artifact s3://knn-pipeline-dev-data/runs/run-1/prepared/split.json is malformed: rowCount: Too small: expected number to be >=0',
  );
});

test('a write that does not fit the schema puts nothing', async () => {
  bucketInMemory();
  const { serving } = exampleArtifacts();

  await expect(writeArtifact(BUCKET, keys, 'serving', { ...serving, outcome: 'done' as never })).rejects.toThrow(
    /^serving artifact s3:\/\/knn-pipeline-dev-data\/runs\/run-1\/serving\.json is malformed: outcome: /,
  );
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
});

test('readArtifactIfPresent: undefined for a missing key, without a GetObject', async () => {
  s3.on(HeadObjectCommand).rejects(notFound());

  await expect(readArtifactIfPresent(BUCKET, keys, 'serving')).resolves.toBeUndefined();
  expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input).toEqual({ Bucket: BUCKET, Key: keys.serving });
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
});

test('readArtifactIfPresent: the parsed artifact when it exists', async () => {
  const objects = bucketInMemory();
  const { claim } = exampleArtifacts();
  objects.set(keys.claim, JSON.stringify(claim));
  s3.on(HeadObjectCommand).resolves({ ContentLength: 10 });

  await expect(readArtifactIfPresent(BUCKET, keys, 'claim')).resolves.toEqual(claim);
});

test('claim: one-line JSON, written only if absent (If-None-Match), false when another writer won', async () => {
  const { claim } = exampleArtifacts();
  s3.on(PutObjectCommand).rejectsOnce(
    Object.assign(new Error('precondition'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }),
  );

  await expect(writeArtifactIfAbsent(BUCKET, keys, 'claim', claim)).resolves.toBe(false);
  expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toEqual({
    Bucket: BUCKET,
    Key: 'runs/run-1/claim.json',
    Body: JSON.stringify(claim),
    ContentType: 'application/json',
    IfNoneMatch: '*',
  });
});

test('readArtifactEventually waits out a claim that is not readable yet, then checks it', async () => {
  const { claim } = exampleArtifacts();
  s3.on(GetObjectCommand)
    .rejectsOnce(notFound())
    .resolves({ Body: body(JSON.stringify({ ...claim, executionName: 7 })) });

  await expect(readArtifactEventually(BUCKET, keys, 'claim')).rejects.toThrow(
    /^claim artifact s3:\/\/\S+\/claim\.json is malformed: executionName: Invalid input: expected string, received number$/,
  );
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(2);
});
