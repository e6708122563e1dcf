/**
 * Interpreter events → GetExecutionHistory events (local/stepfunctions/history.ts), and back to state visits as the
 * CLI reads them (cli/common/executions.ts): retries, catches and Fail states look as they do in the service.
 */
import type { HistoryEvent as ApiEvent } from '@aws-sdk/client-sfn';
import { stateVisits } from '../../cli/common/executions';
import { apiHistory } from '../../local/stepfunctions/history';
import type { ExecutionRecord, HistoryEvent } from '../../local/stepfunctions/runner';

const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function:knn-pipeline-local-split';
const TRAIN = 'arn:aws:states:::sagemaker:createTrainingJob.sync';
const options = {
  taskResources: { Split: LAMBDA, Train: TRAIN },
  roleArn: 'arn:aws:iam::000000000000:role/states',
  region: 'us-east-1',
};

function record(
  status: ExecutionRecord['status'],
  history: Partial<HistoryEvent>[],
  extra: Partial<ExecutionRecord> = {},
): ExecutionRecord {
  return {
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:knn-pipeline-local:x',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:knn-pipeline-local',
    name: 'x',
    status,
    input: {},
    startDate: new Date(1000),
    stopDate: status === 'RUNNING' ? undefined : new Date(9000),
    history: history.map((event, i) => ({ timestamp: 1000 + i, ...event }) as HistoryEvent),
    ...extra,
  };
}

const state = (name: string, type = 'Task') => ({ name, type, input: { in: name }, output: { out: name } });
const types = (events: { type?: string }[]) => events.map((e) => e.type);
/** The API model's shape: what the SDK would hand the CLI after deserialising. */
const asSdkEvents = (events: ReturnType<typeof apiHistory>) => events as unknown as ApiEvent[];

test('a retried task: a failure, a new attempt, success — and the CLI reads it as succeeded', () => {
  const events = apiHistory(
    record(
      'SUCCEEDED',
      [
        { type: 'ExecutionStarted' },
        { type: 'StateEntered', state: state('Split') },
        { type: 'StateFailed', state: state('Split'), Error: 'Lambda.ServiceException', Cause: 'busy' },
        { type: 'StateRetried', state: state('Split'), retry: { attempt: 1 } },
        { type: 'StateExited', state: state('Split') },
        { type: 'ExecutionSucceeded', output: { ok: true } },
      ],
      { output: { ok: true } },
    ),
    options,
  );
  expect(types(events)).toEqual([
    'ExecutionStarted',
    'TaskStateEntered',
    'LambdaFunctionScheduled',
    'LambdaFunctionStarted',
    'LambdaFunctionFailed',
    'LambdaFunctionScheduled',
    'LambdaFunctionStarted',
    'LambdaFunctionSucceeded',
    'TaskStateExited',
    'ExecutionSucceeded',
  ]);
  expect(events[4]).toMatchObject({
    lambdaFunctionFailedEventDetails: { error: 'Lambda.ServiceException', cause: 'busy' },
  });
  expect(events.at(-1)).toMatchObject({ executionSucceededEventDetails: { output: '{"ok":true}' } });
  expect(stateVisits(asSdkEvents(events))).toEqual([
    expect.objectContaining({ name: 'Split', status: 'succeeded', error: undefined }),
  ]);
});

test('a caught service-integration failure: TaskFailed, then the state exits to its Catch target', () => {
  const events = apiHistory(
    record(
      'FAILED',
      [
        { type: 'ExecutionStarted' },
        { type: 'StateEntered', state: state('Train') },
        { type: 'StateFailed', state: state('Train'), Error: 'States.TaskFailed', Cause: '{"FailureReason":"bad"}' },
        { type: 'StateCaught', state: state('Train') },
        { type: 'StateExited', state: state('Train') },
        { type: 'StateEntered', state: state('PipelineFailed', 'Fail') },
        {
          type: 'StateFailed',
          state: state('PipelineFailed', 'Fail'),
          Error: 'PipelineFailed',
          Cause: 'Training failed',
        },
        { type: 'ExecutionFailed', Error: 'PipelineFailed', Cause: 'Training failed' },
      ],
      { error: 'PipelineFailed', cause: 'Training failed' },
    ),
    options,
  );
  expect(types(events)).toEqual([
    'ExecutionStarted',
    'TaskStateEntered',
    'TaskScheduled',
    'TaskStarted',
    'TaskFailed',
    'TaskStateExited',
    'FailStateEntered',
    'ExecutionFailed',
  ]);
  expect(events[2]).toMatchObject({
    taskScheduledEventDetails: { resourceType: 'sagemaker', resource: 'createTrainingJob.sync', region: 'us-east-1' },
  });
  expect(events[4]).toMatchObject({
    taskFailedEventDetails: { resourceType: 'sagemaker', error: 'States.TaskFailed' },
  });
  expect(events.at(-1)).toMatchObject({
    executionFailedEventDetails: { error: 'PipelineFailed', cause: 'Training failed' },
  });
  expect(stateVisits(asSdkEvents(events)).map((v) => [v.name, v.status, v.error])).toEqual([
    ['Train', 'caught', 'States.TaskFailed'],
    ['PipelineFailed', 'failed', 'PipelineFailed'],
  ]);
});

test('a stopped execution is closed with ExecutionAborted even when the interpreter logged no end', () => {
  const events = apiHistory(
    record('ABORTED', [{ type: 'ExecutionStarted' }, { type: 'StateEntered', state: state('Train') }], {
      error: 'UserStopped',
      cause: 'because',
    }),
    { ...options, includeExecutionData: false },
  );
  expect(types(events)).toEqual([
    'ExecutionStarted',
    'TaskStateEntered',
    'TaskScheduled',
    'TaskStarted',
    'ExecutionAborted',
  ]);
  expect(events[0]).toMatchObject({ executionStartedEventDetails: { roleArn: options.roleArn } });
  expect(events[0].executionStartedEventDetails).not.toHaveProperty('input');
  expect(events.at(-1)).toMatchObject({ executionAbortedEventDetails: {} });
  expect(stateVisits(asSdkEvents(events))).toEqual([expect.objectContaining({ name: 'Train', status: 'aborted' })]);
});
