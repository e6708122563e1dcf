/**
 * The fault matrix: each row injects one fault into the local cloud and checks that the execution ends with a
 * clear error and cause (which step, what happened, what to do) and that none of the run's SageMaker resources exist.
 */
import { StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import type { ExecutionRecord, HistoryEvent } from '../../local/stepfunctions/runner';
import { startCloud, useEmulators } from '../support/emulators';
import {
  expectNoResourcesLeft,
  IRIS,
  putRaw,
  retriedStates,
  runFromHistory,
  visitedStates,
} from '../support/localCloud';

let onEvent: ((record: ExecutionRecord, event: HistoryEvent) => void) | undefined;

const local = useEmulators(() =>
  startCloud({ s3Trigger: false, onEvent: (record, event) => onEvent?.(record, event) }),
);
beforeAll(() => putRaw('raw/iris.csv', IRIS));
afterEach(() => {
  local.cloud.sageMaker.faults.clear();
  onEvent = undefined;
});

async function runPipeline(input: Record<string, unknown> = {}): Promise<ExecutionRecord> {
  return local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' }, ...input }).done;
}

async function expectCleanFailure(record: ExecutionRecord, error: string | RegExp, cause: RegExp): Promise<void> {
  expect(record.status).toBe('FAILED');
  expect(record.error).toEqual(typeof error === 'string' ? error : expect.stringMatching(error));
  expect(record.cause).toMatch(cause);
  expect(visitedStates(record)).toContain('CleanUpAfterFailure');
  await expectNoResourcesLeft(local.cloud, record);
}

describe('training job fails', () => {
  test('a bad hyperparameter combination (dimension_reduction_type without a target)', async () => {
    const record = await runPipeline({ hyperparameters: { dimension_reduction_type: 'sign' } });
    await expectCleanFailure(
      record,
      'States.TaskFailed',
      /^Train failed: training job \S+ ended Failed: ClientError: .*dimension_reduction_target.*Read the training job FailureReason/,
    );
  });

  test('k larger than sample_size', async () => {
    const record = await runPipeline({ hyperparameters: { k: 20, sample_size: 5 } });
    await expectCleanFailure(record, 'States.TaskFailed', /^Train failed: .*ClientError: .*sample_size/);
  });

  test('feature_dim not matching the data (the train channel is replaced by wider rows)', async () => {
    const widerRows = Array.from({ length: 20 }, (_, i) => `${i % 3},5.0,3.1,1.2,0.2,9.9`).join('\n');
    onEvent = (record, event) => {
      if (event.type === 'StateEntered' && event.state?.name === 'Train') {
        void putRaw(runFromHistory(record)!.keys.trainChannel, widerRows);
      }
    };
    // Give the injected object time to land before the job reads its channel.
    local.cloud.sageMaker.faults.delay('CreateTrainingJob', 200);
    const record = await runPipeline();
    await expectCleanFailure(record, 'States.TaskFailed', /^Train failed: .*ClientError: .*feature_dim/);
  });
});

test('training job stopped from outside', async () => {
  onEvent = (record, event) => {
    if (event.type === 'StateEntered' && event.state?.name === 'Train') {
      const run = runFromHistory(record)!;
      setTimeout(
        () =>
          void local.cloud.sageMakerClient.send(new StopTrainingJobCommand({ TrainingJobName: run.names.trainingJob })),
        30,
      );
    }
  };
  const record = await runPipeline();
  await expectCleanFailure(record, 'States.TaskFailed', /^Train failed: training job \S+ ended Stopped/);
});

describe.each(['CreateModel', 'CreateEndpointConfig', 'CreateEndpoint'])('%s rejected', (operation) => {
  test('fails at once (a ValidationException is permanent) with the SageMaker error and cleans up', async () => {
    local.cloud.sageMaker.faults.inject({
      operation,
      errorName: 'ValidationException',
      message: `${operation} refused by test`,
      times: Infinity,
    });
    const record = await runPipeline();
    await expectCleanFailure(
      record,
      'SageMaker.AmazonSageMakerException',
      new RegExp(`^${operation} failed: .*${operation} refused by test`),
    );
    // One attempt: the Catch's Choice on the error code sends it straight to cleanup.
    const visited = visitedStates(record);
    expect(visited.filter((name) => name === operation)).toHaveLength(1);
    expect(visited).toContain(`${operation}Refused`);
    expect(retriedStates(record)).not.toContain(operation);
  });
});

test('the endpoint ends Failed', async () => {
  local.cloud.sageMaker.faults.failNextEndpoints(
    'The primary container for production variant AllTraffic did not pass the ping health check.',
  );
  const record = await runPipeline();
  await expectCleanFailure(
    record,
    'EndpointFailed',
    /^CreateEndpoint failed: endpoint \S+ is Failed: The primary container .* ping health check\./,
  );
});

test('evaluate throws (the endpoint keeps failing with 500s)', async () => {
  local.cloud.sageMaker.faults.inject({
    operation: 'InvokeEndpoint',
    errorName: 'InternalFailure',
    statusCode: 500,
    times: Infinity,
  });
  const record = await runPipeline();
  await expectCleanFailure(record, 'InternalFailure', /^Evaluate failed: InternalFailure: /);
});

test('InvokeEndpoint answers ModelError', async () => {
  local.cloud.sageMaker.faults.inject({
    operation: 'InvokeEndpoint',
    errorName: 'ModelError',
    statusCode: 424,
    times: Infinity,
  });
  const record = await runPipeline();
  await expectCleanFailure(record, 'ModelError', /^Evaluate failed: ModelError: .*endpoint/i);
});

test('transient throttling on every SageMaker call is retried and the run succeeds', async () => {
  // Three failures exhaust the SDK's own retries, so Step Functions' Retry has to step in.
  for (const operation of [
    'CreateTrainingJob',
    'CreateModel',
    'CreateEndpointConfig',
    'CreateEndpoint',
    'DescribeEndpoint',
  ]) {
    local.cloud.sageMaker.faults.inject({
      operation,
      errorName: 'ThrottlingException',
      message: 'Rate exceeded',
      times: 3,
    });
  }
  const record = await runPipeline();
  expect(record.status).toBe('SUCCEEDED');
  // DescribeEndpoint (the aws-sdk integration names ThrottlingException) by Step Functions' Retry; the optimized
  // integration's calls, whose errors all share one name, through a Catch and a Choice on the code: Train and
  // CreateEndpoint, which take instances, back through their capacity loop; CreateModel and CreateEndpointConfig
  // through a short jittered backoff (BackOff<Task> → WaitToRetry<Task> → again).
  expect(new Set(retriedStates(record))).toEqual(new Set(['DescribeEndpoint']));
  const visited = visitedStates(record);
  for (const state of ['Train', 'CreateEndpoint', 'CreateModel', 'CreateEndpointConfig']) {
    expect(visited.filter((name) => name === state).length).toBeGreaterThan(1);
    expect(visited).toContain(`Is${state}ErrorTransient`);
    expect(visited).not.toContain(`${state}Refused`);
  }
  expect(visited).toContain('BackOffCreateModel');
  await expectNoResourcesLeft(local.cloud, record);
});

test("cleanup's own delete fails transiently, is retried and completes", async () => {
  local.cloud.sageMaker.faults.inject({
    operation: 'DeleteEndpoint',
    errorName: 'ThrottlingException',
    message: 'Rate exceeded',
    times: 3,
  });
  const record = await runPipeline();
  expect(record.status).toBe('SUCCEEDED');
  expect(retriedStates(record)).toContain('CleanUp');
  await expectNoResourcesLeft(local.cloud, record);
});

test('the quality gate is not met', async () => {
  const record = await runPipeline({ qualityGate: { metric: 'accuracy', threshold: 0.99 } });
  expect(record.status).toBe('FAILED');
  expect(record.error).toBe('QualityGateNotMet');
  expect(record.cause).toMatch(
    /^Quality gate not met: accuracy 0\.9736842105263158 but must be at least 0\.99\. .*start a new run/,
  );
  expect(visitedStates(record)).toEqual(expect.arrayContaining(['Evaluate', 'CleanUp', 'QualityGateNotMet']));
  await expectNoResourcesLeft(local.cloud, record);
});

test('the dataset object is missing: fails at Prepare before any SageMaker call', async () => {
  const record = await local.cloud.startExecution({ dataset: { key: 'raw/nowhere.csv' } }).done;
  expect(record.status).toBe('FAILED');
  expect(record.error).toBe('DatasetNotFoundError');
  expect(record.cause).toContain('s3://knn-pipeline-local-data/raw/nowhere.csv does not exist');
  expect(visitedStates(record)).toEqual(['Prepare']);
  await expectNoResourcesLeft(local.cloud, record);
});
