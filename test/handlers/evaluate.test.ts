import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { handler } from '../../functions/evaluate';
import { resetClients } from '../../src/aws/clients';
import { resolveRunConfig } from '../../src/domain/runConfig';
import { body, setStageEnv } from '../support/lambda';
import { testStageDefaults } from '../support/stage';

const s3 = mockClient(S3Client);
const runtime = mockClient(SageMakerRuntimeClient);
const run = resolveRunConfig({}, { name: 'run-1' }, testStageDefaults());
const manifest = { featureNames: ['x', 'y'], classes: ['cat', 'dog'], rowCount: 4 };
const testChannel = '0,1,1\n1,5,5\n1,6,5\n0,1,2\n';

beforeEach(() => {
  s3.reset();
  runtime.reset();
  resetClients();
  setStageEnv();
  s3.on(GetObjectCommand, { Key: run.keys.testChannel }).resolves({ Body: body(testChannel) });
  s3.on(GetObjectCommand, { Key: run.keys.manifest }).resolves({ Body: body(JSON.stringify(manifest)) });
  s3.on(PutObjectCommand).resolves({});
});

test('sends all test rows in one batched call, writes metrics and the validation table, and checks the gate', async () => {
  runtime.on(InvokeEndpointCommand).resolves({
    Body: new TextEncoder().encode(
      '{"predictions":[{"predicted_label":0.0},{"predicted_label":1.0},{"predicted_label":1.0},{"predicted_label":1.0}]}',
    ) as any,
  });

  const result = await handler({ run });

  const calls = runtime.commandCalls(InvokeEndpointCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input).toMatchObject({
    EndpointName: 'knnp-dev--run-1-endpoint',
    ContentType: 'text/csv',
    Accept: 'application/json',
  });
  expect(new TextDecoder().decode(calls[0].args[0].input.Body as Uint8Array)).toBe('1,1\n5,5\n6,5\n1,2\n');
  expect(result).toMatchObject({ testRows: 4, invocations: 1, headline: { accuracy: 0.75 } });
  expect(result.gate).toMatchObject({ metric: 'accuracy', threshold: 0.9, value: 0.75, passed: false });
  expect(result.gate.message).toMatch(/^Quality gate not met: accuracy 0.75 but must be at least 0.9/);

  const written = Object.fromEntries(
    s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Key, String(c.args[0].input.Body)]),
  );
  const metrics = JSON.parse(written[run.keys.metrics]);
  expect(metrics.metrics.confusionMatrix).toEqual([
    [1, 1],
    [0, 2],
  ]);
  expect(metrics.metrics.perClass.map((c: { label: string }) => c.label)).toEqual(['cat', 'dog']);
  expect(written[run.keys.predictions].trim().split('\n')).toEqual([
    'row,x,y,true_label,predicted_label,match',
    '0,1,1,cat,cat,true',
    '1,5,5,dog,dog,true',
    '2,6,5,dog,dog,true',
    '3,1,2,cat,dog,false',
  ]);
});

test('a ModelError from the endpoint fails the evaluation with that error name', async () => {
  runtime
    .on(InvokeEndpointCommand)
    .rejects(Object.assign(new Error('Received client error (400) from model'), { name: 'ModelError' }));
  await expect(handler({ run })).rejects.toMatchObject({ name: 'ModelError' });
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
});

test('an answer with the wrong number of predictions is refused, never half-scored', async () => {
  runtime
    .on(InvokeEndpointCommand)
    .resolves({ Body: new TextEncoder().encode('{"predictions":[{"predicted_label":0.0}]}') as any });
  await expect(handler({ run })).rejects.toThrow('Endpoint returned 1 predictions for 4 rows');
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
});
