import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import {
  InvokeEndpointCommand,
  SageMakerRuntimeClient,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { handler, type EvaluateEvent } from '../../functions/evaluate';
import { resetClients } from '../../src/aws/clients';
import { body, handlerEvent, putInputs, serveObjects, setStageEnv } from '../support/lambda';

const s3 = mockClient(S3Client);
const runtime = mockClient(SageMakerRuntimeClient);
const sagemaker = mockClient(SageMakerClient);
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
  sagemaker.reset();
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

describe('evaluation mode batchTransform: the transform output, read in lockstep with the test channel', () => {
  let batch: EvaluateEvent;
  beforeEach(() => {
    batch = handlerEvent<EvaluateEvent>('evaluate-batch-transform');
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
  });
  const serve = (output: string) =>
    serveObjects(s3, {
      [batch.run.keys.testChannel]: testChannel,
      [batch.run.keys.manifest]: JSON.stringify(manifest),
      [batch.run.keys.transformResult]: output,
    });

  test('scores from <output>/test.csv.out without any endpoint call, and says so in metrics.json', async () => {
    serve('{"predicted_label": 0.0}\n{"predicted_label": 1.0}\n{"predicted_label": 1.0}\n{"predicted_label": 1.0}\n');

    const result = await handler(batch);

    expect(runtime.calls()).toHaveLength(0);
    expect(result).toMatchObject({ testRows: 4, invocations: 0, headline: { accuracy: 0.75 } });
    const written = Object.fromEntries(putInputs(s3).map((input) => [input.Key, String(input.Body)]));
    const metrics = JSON.parse(written['runs/pets-evaluate-0002/evaluation/metrics.json']);
    expect(metrics).toMatchObject({
      endpoint: null,
      evaluationMode: 'batchTransform',
      transformJob: 'knnp-dev--pets-evaluate-0002-batch',
      invocations: 0,
      testRows: 4,
    });
    expect(metrics.metrics.confusionMatrix).toEqual([
      [1, 1],
      [0, 2],
    ]);
    expect(written['runs/pets-evaluate-0002/evaluation/predictions.csv']).toBe(
      'row,x,y,true_label,predicted_label,match\n0,1,1,cat,cat,true\n1,5,5,dog,dog,true\n2,6,5,dog,dog,true\n3,1,2,cat,dog,false\n',
    );
    // Read from where the transform job wrote (its S3OutputPath + test.csv.out).
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toContain(
      'runs/pets-evaluate-0002/output/transform/test.csv.out',
    );
  });

  test('an output with another number of predictions than rows fails the evaluation, and nothing is written', async () => {
    serve('{"predicted_label": 0.0}\n{"predicted_label": 1.0}\n');
    await expect(handler(batch)).rejects.toMatchObject({
      name: 'EvaluationError',
      message: expect.stringMatching(/test\.csv\.out has 2 predictions but .*test\.csv has at least 4 rows/),
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('serving mode: the champion behind the stable endpoint is scored on the same rows through that endpoint', async () => {
    batch.run.serve.enabled = true;
    serve('{"predicted_label": 0.0}\n{"predicted_label": 1.0}\n{"predicted_label": 1.0}\n{"predicted_label": 0.0}\n');
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'knnp-dev--old-serve' });
    runtime
      .on(InvokeEndpointCommand)
      .resolves(
        answer(
          '{"predictions":[{"predicted_label":0.0},{"predicted_label":1.0},{"predicted_label":0.0},{"predicted_label":0.0}]}',
        ),
      );
    batch.run.qualityGate.threshold = 0.5;

    const result = await handler(batch);

    // The candidate (transform output): 4 of 4 right; the champion (stable endpoint): 3 of 4.
    expect(result.headline).toMatchObject({ accuracy: 1 });
    expect(result.promotion).toMatchObject({ decision: 'promote', candidate: 1, champion: 0.75 });
    const calls = runtime.commandCalls(InvokeEndpointCommand);
    expect(calls.map((c) => c.args[0].input.EndpointName)).toEqual(['knnp-dev--serving']);
    expect(new TextDecoder().decode(calls[0].args[0].input.Body as Uint8Array)).toBe('1,1\n5,5\n6,5\n1,2\n');
    // The invocations count the run's own model only: the transform job made none.
    expect(result.invocations).toBe(0);
  });
});

describe('evaluation mode serverless: requests under 4 MB, at most MaxConcurrency at a time', () => {
  test('a large test set goes in several requests, never more in flight than the endpoint’s MaxConcurrency', async () => {
    const serverless = handlerEvent<EvaluateEvent>('evaluate-serverless');
    if (serverless.run.evaluation.mode !== 'serverless') throw new Error('fixture is not serverless');
    serverless.run.evaluation.serverless.maxConcurrency = 2;
    const rows = 100_000;
    const channel = Array.from({ length: rows }, (_, i) => `${i % 2},${i % 7},${i % 5}`).join('\n') + '\n';
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    serveObjects(s3, {
      [serverless.run.keys.testChannel]: channel,
      [serverless.run.keys.manifest]: JSON.stringify(manifest),
    });
    let inFlight = 0;
    let peak = 0;
    const sizes: number[] = [];
    runtime.on(InvokeEndpointCommand).callsFake(async (input: { Body: Uint8Array }) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      sizes.push(input.Body.byteLength);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      const count = new TextDecoder().decode(input.Body).split('\n').length - 1;
      return answer(`{"predictions":[${Array(count).fill('{"predicted_label":1.0}').join(',')}]}`);
    });

    const result = await handler(serverless);

    expect(result.testRows).toBe(rows);
    expect(result.invocations).toBe(sizes.length);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThan(4_000_000);
    expect(peak).toBeLessThanOrEqual(2);
    expect(new Set(runtime.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input.EndpointName))).toEqual(
      new Set(['knnp-dev--pets-evaluate-0003-endpoint']),
    );
    expect(result.headline.accuracy).toBe(0.5);
  });
});

describe('with a feature transform', () => {
  /** Both columns standardised with one centre and scale (this run: 3 and 2; the champion's run: 0 and 4). */
  const transform = (center: number, scale: number) => ({
    format: 'knn-pipeline/feature-transform@1',
    inputFeatures: ['x', 'y'],
    scaling: 'standard',
    numeric: [
      { name: 'x', index: 0, center, scale, min: 1, max: 6 },
      { name: 'y', index: 1, center, scale, min: 1, max: 5 },
    ],
    categorical: [],
    pca: null,
    outputFeatures: ['x', 'y'],
    fittedOn: { channel: 'train', rows: 10 },
  });
  const predictions =
    '{"predictions":[{"predicted_label":0},{"predicted_label":1},{"predicted_label":1},{"predicted_label":0}]}';

  beforeEach(() => {
    const { run } = event;
    const features = { dropped: [], categorical: [], categoricalChoice: 'list', transformed: true };
    serveObjects(s3, {
      [run.keys.manifest]: JSON.stringify({ ...manifest, features }),
      [run.keys.transform]: JSON.stringify(transform(3, 2)),
      // The held-out rows as prepared; the test channel holds them transformed (not read).
      [run.keys.rawTestRows]: testChannel,
      'runs/old/prepared/manifest.json': JSON.stringify({ ...manifest, features }),
      'runs/old/features/transform.json': JSON.stringify(transform(0, 4)),
      'runs/other/prepared/manifest.json': JSON.stringify({ ...manifest, featureNames: ['x', 'z'] }),
    });
    runtime.on(InvokeEndpointCommand).resolves(answer(predictions));
  });

  const sent = () =>
    runtime.commandCalls(InvokeEndpointCommand).map((call) => ({
      endpoint: call.args[0].input.EndpointName,
      body: new TextDecoder().decode(call.args[0].input.Body as Uint8Array),
    }));

  test('the raw held-out rows go to the endpoint transformed; predictions.csv keeps them raw', async () => {
    await handler(event);

    expect(sent()).toEqual([
      { endpoint: 'knnp-dev--pets-evaluate-0001-endpoint', body: '-1,-1\n1,1\n1.5,1\n-1,-0.5\n' },
    ]);
    const written = Object.fromEntries(putInputs(s3).map((put) => [put.Key, String(put.Body)]));
    expect(written['runs/pets-evaluate-0001/evaluation/predictions.csv'].split('\n')[1]).toBe('0,1,1,cat,cat,true');
  });

  test("serving mode: the champion gets the same rows through its own run's transform", async () => {
    event.run.serve.enabled = true;
    event.run.qualityGate.threshold = 0.5;
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'knnp-dev--old-serve' });

    const result = await handler(event);

    expect(sent()[1]).toEqual({ endpoint: 'knnp-dev--serving', body: '0.25,0.25\n1.25,1.25\n1.5,1.25\n0.25,0.5\n' });
    expect(result.promotion).toMatchObject({ decision: 'promote', champion: 1 });
  });

  test('serving mode: a champion trained on other columns is not scored; the gate alone decides', async () => {
    event.run.serve.enabled = true;
    event.run.qualityGate.threshold = 0.5;
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'knnp-dev--other-serve' });

    const result = await handler(event);

    expect(sent()).toHaveLength(1);
    expect(result.promotion.decision).toBe('promote');
    expect(result.promotion.reason).toContain('was trained on the feature columns x, z, this one on x, y');
  });
});
