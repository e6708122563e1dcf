/**
 * The local Step Functions API (local/stepfunctions/api.ts) as @aws-sdk/client-sfn sees it: the operations the CLI
 * uses, the service's error names, history event shapes and paging.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { s3Client } from '../../src/aws/clients';
import { LOCAL } from '../../local/cloud';
import { startCloud, useEmulators } from '../support/emulators';

const ROOT = path.resolve(__dirname, '../..');
// No S3 trigger: every execution here is started through the API.
const local = useEmulators(() => startCloud({ s3Trigger: false, sageMakerTiming: { trainingStartDelayMs: 1500 } }));
let endpoint: string;
let sfn: SFNClient;
let stateMachineArn: string;

beforeAll(async () => {
  endpoint = await local.cloud.startStepFunctionsApi();
  // No endpoint given: the SDK takes AWS_ENDPOINT_URL_SFN, which the cloud set.
  sfn = new SFNClient({ region: LOCAL.region });
  stateMachineArn = `arn:aws:states:${LOCAL.region}:${LOCAL.account}:stateMachine:${LOCAL.service}-${LOCAL.stage}`;
  await s3Client().send(
    new PutObjectCommand({
      Bucket: LOCAL.bucket,
      Key: 'raw/iris.csv',
      Body: readFileSync(path.join(ROOT, 'data/iris.csv')),
    }),
  );
});

afterAll(() => {
  sfn?.destroy();
});

const execution = (arn: string) => local.cloud.stateMachine.executions.get(arn)!;
const start = (name: string, input: unknown) =>
  sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected an error');
    },
    (error: Error) => ({ name: error.name, message: error.message }),
  );

async function history(
  executionArn: string,
  options: { maxResults?: number; reverseOrder?: boolean } = {},
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, ...options }));
    events.push(...page.events!);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

test('the cloud publishes the endpoint in its environment', () => {
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(local.cloud.env.AWS_ENDPOINT_URL_SFN).toBe(endpoint);
  expect(process.env.AWS_ENDPOINT_URL_SFN).toBe(endpoint);
});

test('a succeeded run: DescribeExecution and a history in the service shapes, paged either way', async () => {
  const { executionArn, startDate } = await start('api-success', { dataset: { key: 'raw/iris.csv' } });
  expect(executionArn).toBe(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:api-success`);
  expect(startDate).toBeInstanceOf(Date);

  // Starting the same name with the same input while it runs is idempotent; any other input is a conflict.
  expect((await start('api-success', { dataset: { key: 'raw/iris.csv' } })).executionArn).toBe(executionArn);
  expect(await errorOf(start('api-success', { dataset: { key: 'raw/other.csv' } }))).toMatchObject({
    name: 'ExecutionAlreadyExists',
  });

  const running = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  expect(running).toMatchObject({
    status: 'RUNNING',
    name: 'api-success',
    input: '{"dataset":{"key":"raw/iris.csv"}}',
    stateMachineArn,
  });
  expect(running.output).toBeUndefined();
  await execution(executionArn!).done;

  const done = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  expect(done.status).toBe('SUCCEEDED');
  expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
  expect(JSON.parse(done.output!)).toMatchObject({ duplicate: false, run: { runId: 'api-success' } });

  const events = await history(executionArn!);
  expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
  expect(events.map((e) => e.previousEventId)).toEqual(events.map((_, i) => i));
  expect(events[0]).toMatchObject({
    type: 'ExecutionStarted',
    executionStartedEventDetails: { input: '{"dataset":{"key":"raw/iris.csv"}}' },
  });
  expect(events[0].timestamp).toBeInstanceOf(Date);
  expect(events.slice(1, 4).map((e) => e.type)).toEqual([
    'TaskStateEntered',
    'LambdaFunctionScheduled',
    'LambdaFunctionStarted',
  ]);
  expect(events[1].stateEnteredEventDetails?.name).toBe('Prepare');
  const trainScheduled = events.find(
    (e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resource === 'createTrainingJob.sync',
  );
  expect(trainScheduled?.taskScheduledEventDetails).toMatchObject({ resourceType: 'sagemaker', region: LOCAL.region });
  expect(events.some((e) => e.type === 'WaitStateEntered')).toBe(true);
  expect(events.some((e) => e.type === 'ChoiceStateExited')).toBe(true);
  expect(events.at(-1)).toMatchObject({
    type: 'ExecutionSucceeded',
    executionSucceededEventDetails: { output: done.output },
  });

  expect(await history(executionArn!, { maxResults: 7 })).toEqual(events);
  expect(await history(executionArn!, { maxResults: 5, reverseOrder: true })).toEqual([...events].reverse());
  const firstPage = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 2 }));
  expect(firstPage.events).toHaveLength(2);
  expect(firstPage.nextToken).toEqual(expect.any(String));
});

test('a failed run: the task failure and ExecutionFailed carry error and cause, as DescribeExecution does', async () => {
  const { executionArn } = await start('api-missing-dataset', { dataset: { key: 'raw/missing.csv' } });
  await execution(executionArn!).done;
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  expect(described).toMatchObject({ status: 'FAILED', error: 'DatasetNotFoundError' });
  expect(described.cause).toContain('raw/missing.csv');

  const events = await history(executionArn!);
  const failure = events.find((e) => e.type === 'LambdaFunctionFailed');
  expect(failure?.lambdaFunctionFailedEventDetails).toMatchObject({ error: 'DatasetNotFoundError' });
  expect(events.at(-1)).toMatchObject({
    type: 'ExecutionFailed',
    executionFailedEventDetails: { error: 'DatasetNotFoundError', cause: described.cause },
  });
  expect(events.some((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Prepare')).toBe(false);
});

test('StopExecution: ABORTED with the error and cause given, in DescribeExecution and ExecutionAborted', async () => {
  const { executionArn } = await start('api-stop', { dataset: { key: 'raw/iris.csv' } });
  const record = execution(executionArn!).record;
  while (!record.history.some((e) => e.state?.name === 'Train'))
    await new Promise((resolve) => setTimeout(resolve, 20));
  const stopped = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'testing stop' }));
  expect(stopped.stopDate).toBeInstanceOf(Date);
  await execution(executionArn!).done;

  expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({
    status: 'ABORTED',
    error: 'Operator',
    cause: 'testing stop',
  });
  const events = await history(executionArn!);
  expect(events.at(-1)).toMatchObject({
    type: 'ExecutionAborted',
    executionAbortedEventDetails: { error: 'Operator', cause: 'testing stop' },
  });
});

test('ListExecutions: newest first, status filter, paging', async () => {
  const all = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions!;
  expect(all.map((e) => e.name)).toEqual(['api-stop', 'api-missing-dataset', 'api-success']);
  const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'FAILED' }));
  expect(failed.executions!.map((e) => e.name)).toEqual(['api-missing-dataset']);
  const page1 = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2 }));
  const page2 = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken: page1.nextToken }),
  );
  expect([...page1.executions!, ...page2.executions!].map((e) => e.name)).toEqual(all.map((e) => e.name));
  expect(page2.nextToken).toBeUndefined();
});

test('the state machine itself: DescribeStateMachine and ListStateMachines', async () => {
  const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
  expect(described).toMatchObject({ name: 'knn-pipeline-local', status: 'ACTIVE', type: 'STANDARD' });
  expect(JSON.parse(described.definition!).StartAt).toBe('Prepare');
  const listed = await sfn.send(new ListStateMachinesCommand({}));
  expect(listed.stateMachines!.map((m) => m.stateMachineArn)).toEqual([stateMachineArn]);
});

test('errors have the service names the SDK turns into err.name', async () => {
  const missingArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:nope`;
  expect(await errorOf(sfn.send(new DescribeExecutionCommand({ executionArn: missingArn })))).toEqual({
    name: 'ExecutionDoesNotExist',
    message: `Execution Does Not Exist: '${missingArn}'`,
  });
  expect(await errorOf(sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })))).toMatchObject({
    name: 'InvalidArn',
  });
  expect(await errorOf(start('has space', {}))).toMatchObject({
    name: 'InvalidName',
    message: "Invalid Name: 'has space'",
  });
  expect(await errorOf(start('x'.repeat(81), {}))).toMatchObject({ name: 'InvalidName' });
  expect(await errorOf(sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{not json' })))).toMatchObject({
    name: 'InvalidExecutionInput',
  });
  expect(
    await errorOf(sfn.send(new StartExecutionCommand({ stateMachineArn: `${stateMachineArn}-other` }))),
  ).toMatchObject({
    name: 'StateMachineDoesNotExist',
  });
  expect(await errorOf(sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken: 'garbage' })))).toMatchObject({
    name: 'InvalidToken',
  });
  expect(await errorOf(sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 5000 })))).toMatchObject({
    name: 'ValidationException',
  });

  const raw = await fetch(endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'AWSStepFunctions.Bogus', 'content-type': 'application/x-amz-json-1.0' },
    body: '{}',
  });
  expect(raw.status).toBe(400);
  expect(await raw.json()).toMatchObject({ __type: 'UnknownOperationException' });
});
