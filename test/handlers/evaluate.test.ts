import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  InvokeEndpointCommand,
  SageMakerRuntimeClient,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { handler, type EvaluateEvent } from '../../functions/evaluate';
import { resetClients } from '../../src/aws/clients';
import { body, handlerEvent, setStageEnv } from '../support/lambda';

const s3 = mockClient(S3Client);
const runtime = mockClient(SageMakerRuntimeClient);
/** The run's two-feature dataset (x, y; cat/dog), four test rows. */
const manifest = { featureNames: ['x', 'y'], classes: ['cat', 'dog'], rowCount: 4 };
const testChannel = '0,1,1\n1,5,5\n1,6,5\n0,1,2\n';

let event: EvaluateEvent;

/** An InvokeEndpoint answer with this JSON body (the bytes are all the handler reads of the SDK's blob adapter). */
function answer(json: string): Pick<InvokeEndpointCommandOutput, 'Body'> {
  return { Body: new TextEncoder().encode(json) as InvokeEndpointCommandOutput['Body'] };
}

beforeEach(() => {
  s3.reset();
  runtime.reset();
  resetClients();
  setStageEnv();
  event = handlerEvent<EvaluateEvent>('evaluate');
  const { run } = event;
  s3.on(GetObjectCommand, { Key: run.keys.testChannel }).resolves({ Body: body(testChannel) });
  s3.on(GetObjectCommand, { Key: run.keys.manifest }).resolves({ Body: body(JSON.stringify(manifest)) });
  s3.on(PutObjectCommand).resolves({});
});

test('sends all test rows in one batched call, writes metrics and the validation table, and checks the gate', async () => {
  runtime
    .on(InvokeEndpointCommand)
    .resolves(
      answer(
        '{"predictions":[{"predicted_label":0.0},{"predicted_label":1.0},{"predicted_label":1.0},{"predicted_label":1.0}]}',
      ),
    );

  const result = await handler(event);

  const calls = runtime.commandCalls(InvokeEndpointCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input).toMatchObject({
    EndpointName: 'knnp-dev--pets-evaluate-0001-endpoint',
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
  const metrics = JSON.parse(written['runs/pets-evaluate-0001/evaluation/metrics.json']);
  expect(metrics.metrics.confusionMatrix).toEqual([
    [1, 1],
    [0, 2],
  ]);
  expect(metrics.metrics.perClass.map((c: { label: string }) => c.label)).toEqual(['cat', 'dog']);
  expect(written['runs/pets-evaluate-0001/evaluation/predictions.csv'].trim().split('\n')).toEqual([
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
  await expect(handler(event)).rejects.toMatchObject({ name: 'ModelError' });
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
});

test('an answer with the wrong number of predictions is refused, never half-scored', async () => {
  runtime.on(InvokeEndpointCommand).resolves(answer('{"predictions":[{"predicted_label":0.0}]}'));
  await expect(handler(event)).rejects.toThrow('Endpoint returned 1 predictions for 4 rows');
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
});
