/**
 * Limits met by the real pipeline (statemachine/pipeline.asl.json on the local cloud), and the history a reader of
 * GetExecutionHistory gets: the request each Task sent.
 */
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { ExecutionRecord } from '../../local/stepfunctions/runner';
import { startCloud, useEmulators } from '../support/emulators';
import { expectNoResourcesLeft, IRIS, putRaw, runFromHistory, visitedStates } from '../support/localCloud';

async function history(record: ExecutionRecord): Promise<HistoryEvent[]> {
  // No endpoint given: the SDK takes AWS_ENDPOINT_URL_SFN, which the local cloud set.
  const sfn = new SFNClient({ region: 'us-east-1' });
  try {
    const { events } = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: record.executionArn, maxResults: 1000 }),
    );
    return events ?? [];
  } finally {
    sfn.destroy();
  }
}

/** The Scheduled event that follows a state's (first) Entered event. */
function scheduledAfter(events: HistoryEvent[], stateName: string): HistoryEvent {
  const entered = events.findIndex((e) => e.stateEnteredEventDetails?.name === stateName);
  expect(entered).toBeGreaterThanOrEqual(0);
  const scheduled = events.slice(entered + 1).find((e) => e.type?.endsWith('Scheduled'));
  expect(scheduled).toBeDefined();
  return scheduled!;
}

describe('the pipeline as the k-NN image allows it', () => {
  const local = useEmulators(() => startCloud({ s3Trigger: false }));
  beforeAll(() => putRaw('raw/iris.csv', IRIS));

  it('GetExecutionHistory shows the request each Task sent, after InputPath and Parameters', async () => {
    const input = { dataset: { key: 'raw/iris.csv' } };
    const record = await local.cloud.startExecution(input, 'history-requests').done;
    expect(record.status).toBe('SUCCEEDED');
    const run = runFromHistory(record)!;
    const events = await history(record);

    // Lambda: the Parameters result, not the state input.
    const prepare = scheduledAfter(events, 'Prepare');
    expect(prepare.type).toBe('LambdaFunctionScheduled');
    expect(JSON.parse(prepare.lambdaFunctionScheduledEventDetails!.input!)).toEqual({
      input,
      execution: { name: 'history-requests' },
    });
    const split = scheduledAfter(events, 'Split');
    expect(JSON.parse(split.lambdaFunctionScheduledEventDetails!.input!)).toEqual({
      run: JSON.parse(JSON.stringify(run)),
    });

    // SageMaker optimised integration: the request sent to SageMaker (InputPath $.run.requests.trainingJob).
    const train = scheduledAfter(events, 'Train');
    expect(train.type).toBe('TaskScheduled');
    expect(train.taskScheduledEventDetails).toMatchObject({
      resource: 'createTrainingJob.sync',
      resourceType: 'sagemaker',
      region: 'us-east-1',
    });
    expect(JSON.parse(train.taskScheduledEventDetails!.parameters!)).toEqual(
      JSON.parse(JSON.stringify(run.requests!.trainingJob)),
    );

    // AWS SDK integration with Parameters.
    const describe = scheduledAfter(events, 'DescribeEndpoint');
    expect(describe.taskScheduledEventDetails).toMatchObject({
      resource: 'describeEndpoint',
      resourceType: 'aws-sdk:sagemaker',
      region: 'us-east-1',
    });
    expect(JSON.parse(describe.taskScheduledEventDetails!.parameters!)).toEqual({ EndpointName: run.names.endpoint });

    // Every attempt of every polled state has its own request.
    const describes = events.filter(
      (e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resource === 'describeEndpoint',
    );
    expect(describes.length).toBeGreaterThanOrEqual(1);
    for (const event of describes) expect(event.taskScheduledEventDetails!.parameters).not.toContain('"run"');
  });

  it('a Lambda result over 256 KiB (a dataset with thousands of long class names) fails with States.DataLimitExceeded', async () => {
    const lines = ['a,b,c,d,Species'];
    for (let i = 0; i < 3000; i++) {
      const label = `class-${String(i).padStart(4, '0')}-${'x'.repeat(80)}`;
      lines.push(`${i},1,2,3,${label}`, `${i + 0.5},1,2,3,${label}`);
    }
    await putRaw('raw/many-classes.csv', `${lines.join('\n')}\n`);
    const record = await local.cloud.startExecution({ dataset: { key: 'raw/many-classes.csv' } }, 'many-classes').done;
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.DataLimitExceeded');
    expect(record.cause).toMatch(
      /^The state\/task 'arn:aws:lambda:us-east-1:\d{12}:function:[\w-]+-prepare' returned a result with a size exceeding the maximum number of bytes service limit\.$/,
    );
    // Prepare has no Catch (and States.ALL would not catch it): the execution fails there, and the janitor, which
    // every finished execution runs, cleans up after it.
    expect(visitedStates(record)).toEqual(['Prepare']);
    expect(local.cloud.janitorRuns.map((run) => run.executionName)).toContain('many-classes');
    await expectNoResourcesLeft(local.cloud, record);
    const events = await history(record);
    expect(events.map((e) => e.type).slice(-2)).toEqual(['LambdaFunctionFailed', 'ExecutionFailed']);
    expect(events.at(-2)!.lambdaFunctionFailedEventDetails).toEqual({ error: record.error, cause: record.cause });
  });
});

describe('a stage configured with an image other than k-NN', () => {
  const local = useEmulators(() =>
    startCloud({ s3Trigger: false, params: { knnImage: '382416733822.dkr.ecr.us-east-1.amazonaws.com/xgboost:1' } }),
  );
  beforeAll(() => putRaw('raw/iris.csv', IRIS));

  it("fails at Train with SageMaker's ValidationException, caught by the definition, after cleanup", async () => {
    const record = await local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' } }).done;
    expect(record.status).toBe('FAILED');
    expect(record.cause).toMatch(/Cannot find repository: xgboost in registry ID: 382416733822/);
    const visited = visitedStates(record);
    expect(visited).toContain('Train');
    expect(visited).toContain('CleanUpAfterFailure');
    expect(visited).not.toContain('CreateModel');
    await expectNoResourcesLeft(local.cloud, record);
  });
});
