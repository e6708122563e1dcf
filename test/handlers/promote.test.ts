import { mockClient } from 'aws-sdk-client-mock';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { handler, type PromoteEvent } from '../../functions/promote';
import { parseArtifact } from '../../src/artifacts';
import { resetClients } from '../../src/aws/clients';
import { handlerEvent, putInputs, setStageEnv } from '../support/lambda';

const s3 = mockClient(S3Client);
const sagemaker = mockClient(SageMakerClient);
const BUCKET = 'knn-pipeline-dev-data';
const STABLE = 'knnp-dev--serving';
const OURS = 'knnp-dev--iris-promote-0001-serve';
const PREVIOUS = 'knnp-dev--iris-promote-0000-serve';
const missing = (what: string) => Object.assign(new Error(`Could not find ${what}`), { name: 'ValidationException' });

let event: PromoteEvent;

beforeEach(() => {
  s3.reset();
  sagemaker.reset();
  resetClients();
  setStageEnv({ CLEANUP_POLL_MS: '1' });
  event = handlerEvent<PromoteEvent>('promote');
  s3.on(PutObjectCommand).resolves({});
  // Every other run has recorded its promotion (serving.json) unless a test says otherwise.
  s3.on(HeadObjectCommand).resolves({ ContentLength: 100 });
  sagemaker.on(DeleteEndpointConfigCommand).resolves({});
  sagemaker.on(DeleteModelCommand).resolves({});
  sagemaker.on(DeleteEndpointCommand).resolves({});
});

const inputs = (command: Parameters<typeof sagemaker.commandCalls>[0]) =>
  sagemaker.commandCalls(command).map((call) => call.args[0].input);

/** serving.json as written: checked against its schema, formatted like every artifact, holding the result. */
function servingJson(result: object) {
  const [put] = putInputs(s3);
  expect(putInputs(s3)).toHaveLength(1);
  expect({ ...put, Body: undefined }).toEqual({
    Bucket: BUCKET,
    Key: 'runs/iris-promote-0001/serving.json',
    ContentType: 'application/json',
  });
  const text = String(put.Body);
  const written = parseArtifact('serving', JSON.parse(text), 'serving.json');
  expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  expect(written).toEqual({
    runId: 'iris-promote-0001',
    promotion: event.promotion,
    ...result,
    recordedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
  });
  return written;
}

test('our config serves: promoted, superseded serving configs beyond `keep` pruned with their unused models', async () => {
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: OURS });
  sagemaker.on(ListEndpointConfigsCommand).resolves({
    EndpointConfigs: [
      { EndpointConfigName: OURS, CreationTime: new Date('2026-11-29T17:00:00Z'), EndpointConfigArn: 'a' },
      { EndpointConfigName: PREVIOUS, CreationTime: new Date('2026-11-28T17:00:00Z'), EndpointConfigArn: 'b' },
      {
        EndpointConfigName: 'knnp-dev--old-serve',
        CreationTime: new Date('2026-11-01T00:00:00Z'),
        EndpointConfigArn: 'c',
      },
      {
        EndpointConfigName: 'knnp-dev--old-config',
        CreationTime: new Date('2026-10-01T00:00:00Z'),
        EndpointConfigArn: 'd',
      },
    ],
  });
  sagemaker
    .on(DescribeEndpointConfigCommand)
    .resolves({ ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'knnp-dev--iris-promote-0001-model' }] });

  const result = await handler(event);

  const expected = {
    outcome: 'promoted',
    succeeded: true,
    servingEndpoint: STABLE,
    servingConfig: OURS,
    previousConfig: PREVIOUS,
    pruned: {
      retained: [OURS, PREVIOUS],
      deleted: [{ endpointConfig: 'knnp-dev--old-serve', model: 'knnp-dev--old-model' }],
    },
    message:
      `${event.promotion.reason} ${STABLE} now serves knnp-dev--iris-promote-0001-model (config ${OURS}); ` +
      'kept 2 config(s) for rollback, deleted 1.',
  };
  expect(result).toEqual(expected);
  expect(inputs(DescribeEndpointCommand)).toEqual([{ EndpointName: STABLE }]);
  expect(inputs(ListEndpointConfigsCommand)).toEqual([
    { NameContains: 'knnp-dev--', SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 },
  ]);
  expect(inputs(DescribeEndpointConfigCommand)).toEqual([{ EndpointConfigName: OURS }]);
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([{ EndpointConfigName: 'knnp-dev--old-serve' }]);
  expect(inputs(DeleteModelCommand)).toEqual([{ ModelName: 'knnp-dev--old-model' }]);
  expect(inputs(DeleteEndpointCommand)).toEqual([]);
  servingJson(expected);
});

test('the update rolled back to the previous config: our config is deleted, the champion keeps serving', async () => {
  sagemaker.on(DescribeEndpointCommand).resolves({
    EndpointStatus: 'InService',
    EndpointConfigName: PREVIOUS,
    FailureReason: 'Insufficient capacity',
  });

  const result = await handler(event);

  const expected = {
    outcome: 'rolled-back',
    succeeded: false,
    servingEndpoint: STABLE,
    servingConfig: PREVIOUS,
    previousConfig: PREVIOUS,
    message: `Promotion rolled back: updating ${STABLE} to ${OURS} failed (Insufficient capacity); it still serves ${PREVIOUS}.`,
  };
  expect(result).toEqual(expected);
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([{ EndpointConfigName: OURS }]);
  expect(inputs(ListEndpointConfigsCommand)).toEqual([]);
  expect(inputs(DeleteModelCommand)).toEqual([]);
  expect(inputs(DeleteEndpointCommand)).toEqual([]);
  servingJson(expected);
});

test('a first creation that failed: the broken stable endpoint and our config are deleted, nothing serves', async () => {
  delete event.promotion.previousConfig;
  sagemaker
    .on(DescribeEndpointCommand)
    .resolvesOnce({ EndpointStatus: 'Failed', EndpointConfigName: OURS, FailureReason: 'Image not found' })
    .resolvesOnce({ EndpointStatus: 'Failed', EndpointConfigName: OURS })
    .resolvesOnce({ EndpointStatus: 'Deleting', EndpointConfigName: OURS })
    .rejects(missing('endpoint'));

  const result = await handler(event);

  const expected = {
    outcome: 'failed',
    succeeded: false,
    servingEndpoint: STABLE,
    message: `Creating ${STABLE} with ${OURS} failed (Image not found); no model is serving. Fix the cause and start a new run.`,
  };
  expect(result).toEqual(expected);
  expect(inputs(DeleteEndpointCommand)).toEqual([{ EndpointName: STABLE }]);
  expect(inputs(DescribeEndpointCommand)).toHaveLength(4);
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([{ EndpointConfigName: OURS }]);
  servingJson(expected);
});

test('the stable endpoint is missing altogether: our config is deleted and the outcome is failed', async () => {
  sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));

  const result = await handler(event);

  expect(result).toMatchObject({
    outcome: 'failed',
    succeeded: false,
    message: `Creating ${STABLE} with ${OURS} failed (endpoint missing); no model is serving. Fix the cause and start a new run.`,
  });
  expect(inputs(DeleteEndpointCommand)).toEqual([]);
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([{ EndpointConfigName: OURS }]);
});

test('still updating after the wait: nothing is deleted, the outcome says to check the console', async () => {
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Updating', EndpointConfigName: PREVIOUS });

  const result = await handler(event);

  expect(result).toEqual({
    outcome: 'not-settled',
    succeeded: false,
    servingEndpoint: STABLE,
    servingConfig: PREVIOUS,
    previousConfig: PREVIOUS,
    message: `${STABLE} is still Updating after the wait; check it in the console before promoting again.`,
  });
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([]);
  expect(inputs(DeleteEndpointCommand)).toEqual([]);
  expect(putInputs(s3)).toHaveLength(1);
});

test('SageMaker throttling fails the invocation (the state retries it) before anything is deleted or recorded', async () => {
  sagemaker
    .on(DescribeEndpointCommand)
    .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

  await expect(handler(event)).rejects.toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([]);
  expect(putInputs(s3)).toHaveLength(0);
});

test('a config whose run has not recorded its promotion yet (still queueing to promote) is never pruned', async () => {
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService', EndpointConfigName: OURS });
  const config = (name: string, day: number) => ({
    EndpointConfigName: name,
    CreationTime: new Date(Date.UTC(2026, 10, day)),
    EndpointConfigArn: name,
  });
  sagemaker.on(ListEndpointConfigsCommand).resolves({
    EndpointConfigs: [
      config(OURS, 29),
      config(PREVIOUS, 28),
      config('knnp-dev--queued-serve', 27),
      config('knnp-dev--old-serve', 1),
    ],
  });
  sagemaker
    .on(DescribeEndpointConfigCommand)
    .resolves({ ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'knnp-dev--iris-promote-0001-model' }] });
  const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
  s3.on(HeadObjectCommand, { Key: 'runs/queued/serving.json' }).rejects(notFound);

  const result = await handler(event);

  expect(
    s3
      .commandCalls(HeadObjectCommand)
      .map((call) => call.args[0].input.Key)
      .sort(),
  ).toEqual(['runs/old/serving.json', 'runs/queued/serving.json']);
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([{ EndpointConfigName: 'knnp-dev--old-serve' }]);
  expect(result).toMatchObject({ outcome: 'promoted', pruned: { retained: [OURS, PREVIOUS] } });
});
