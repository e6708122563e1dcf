/**
 * Serving mode through the local cloud: promote to a stable endpoint, keep a better champion, roll back a failed
 * update, and after every run leave exactly the stable endpoint plus the retained configs and models.
 */
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import type { ExecutionRecord } from '../../local/stepfunctions/runner';
import { startCloud, useEmulators } from '../support/emulators';
import { getBytes, IRIS, putRaw, runFromHistory, stateOutput, visitedStates } from '../support/localCloud';

const SERVING = 'knnp-local--serving';

const local = useEmulators(() => startCloud({ s3Trigger: false, params: { serveKeep: '2' } }));
beforeAll(() => putRaw('raw/iris.csv', IRIS));

async function serveRun(k: number): Promise<{ record: ExecutionRecord; names: { model: string; serve: string } }> {
  const record = await local.cloud.startExecution({
    dataset: { key: 'raw/iris.csv' },
    serve: true,
    hyperparameters: { k },
    qualityGate: { metric: 'accuracy', threshold: 0 },
  }).done;
  const run = runFromHistory(record)!;
  return { record, names: { model: run.names.model, serve: run.serve.endpointConfigName } };
}

function promotionOf(record: ExecutionRecord) {
  return stateOutput<{ evaluation: { promotion: { decision: string; reason: string } } }>(record, 'Evaluate')!
    .evaluation.promotion;
}

async function servingConfig(): Promise<string | undefined> {
  return (await local.cloud.sageMakerClient.send(new DescribeEndpointCommand({ EndpointName: SERVING })))
    .EndpointConfigName;
}

function resources() {
  const { endpoints, endpointConfigs, models } = local.cloud.sageMaker.listResources();
  return { endpoints: [...endpoints].sort(), endpointConfigs: [...endpointConfigs].sort(), models: [...models].sort() };
}

let first: Awaited<ReturnType<typeof serveRun>>;
let better: Awaited<ReturnType<typeof serveRun>>;

test('first promotion: the stable endpoint is created with the run’s model; only it stays', async () => {
  first = await serveRun(40);
  expect(first.record.status).toBe('SUCCEEDED');
  expect(promotionOf(first.record).decision).toBe('create');
  expect(visitedStates(first.record)).toEqual(
    expect.arrayContaining(['CreateServingConfig', 'CreateServingEndpoint', 'RecordPromotion', 'CleanUp']),
  );
  expect(await servingConfig()).toBe(first.names.serve);
  expect(resources()).toEqual({
    endpoints: [SERVING],
    endpointConfigs: [first.names.serve],
    models: [first.names.model],
  });
  // The run records which model serves and why: serving.json and the report.
  const run = runFromHistory(first.record)!;
  expect(JSON.parse((await getBytes(run.keys.serving)).toString())).toMatchObject({
    outcome: 'promoted',
    succeeded: true,
    servingConfig: first.names.serve,
  });
  const report = (await getBytes(run.keys.report)).toString();
  expect(report).toContain('<section id="serving">');
  expect(report).toContain('first promotion: the stable endpoint was created with this model');
});

test('a better model is promoted in place with UpdateEndpoint; the previous config is retained for rollback', async () => {
  better = await serveRun(1);
  expect(better.record.status).toBe('SUCCEEDED');
  const promotion = promotionOf(better.record);
  expect(promotion.decision).toBe('promote');
  expect(promotion.reason).toMatch(/^Promoted: accuracy 0.9736842105263158 vs 0\.\d+ for the current model/);
  expect(visitedStates(better.record)).toContain('UpdateServingEndpoint');
  expect(await servingConfig()).toBe(better.names.serve);
  expect(resources()).toEqual({
    endpoints: [SERVING],
    endpointConfigs: [first.names.serve, better.names.serve].sort(),
    models: [first.names.model, better.names.model].sort(),
  });
});

test('a worse model is kept out: the champion keeps serving and the run deletes everything it made', async () => {
  const worse = await serveRun(40);
  expect(worse.record.status).toBe('SUCCEEDED');
  expect(promotionOf(worse.record)).toMatchObject({
    decision: 'keep',
    reason: expect.stringMatching(/^Kept the champion/),
  });
  expect(visitedStates(worse.record)).not.toContain('CreateServingConfig');
  expect(await servingConfig()).toBe(better.names.serve);
  expect(resources().models).not.toContain(worse.names.model);
  expect(resources().endpoints).toEqual([SERVING]);
});

test('a failed update rolls back: the endpoint keeps serving the previous config and the run fails, saying so', async () => {
  local.cloud.sageMaker.faults.failNextEndpointUpdates(
    'The primary container for production variant AllTraffic did not pass the ping health check.',
  );
  const failed = await serveRun(1);
  expect(failed.record.status).toBe('FAILED');
  expect(failed.record.error).toBe('PromotionFailed');
  expect(failed.record.cause).toMatch(
    /^Promotion rolled back: updating knnp-local--serving to \S+ failed \(The primary container .*\); it still serves /,
  );
  expect(await servingConfig()).toBe(better.names.serve);
  expect(resources()).toEqual({
    endpoints: [SERVING],
    endpointConfigs: [first.names.serve, better.names.serve].sort(),
    models: [first.names.model, better.names.model].sort(),
  });
});

test('superseded configs beyond the retained number are pruned with their models', async () => {
  const third = await serveRun(1);
  expect(third.record.status).toBe('SUCCEEDED');
  expect(promotionOf(third.record).decision).toBe('promote');
  expect(await servingConfig()).toBe(third.names.serve);
  expect(resources()).toEqual({
    endpoints: [SERVING],
    endpointConfigs: [better.names.serve, third.names.serve].sort(),
    models: [better.names.model, third.names.model].sort(),
  });
});
