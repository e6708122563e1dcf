/**
 * SageMaker answers DescribeTrainingJob for a job not created yet with ValidationException "Requested resource not
 * found." (AWS and the local SageMaker alike). `knn-pipeline watch` asks as soon as it sees Train entered, which can be
 * before CreateTrainingJob returned: that answer reads as not found, and only that one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { RunConfig } from '../../src/domain/runConfig';
import { notFound, trainingJobStatus } from '../../cli/common/report';
import type { Target } from '../../cli/common/target';
import { watchExecution } from '../../cli/knn-pipeline/commands/watch';

const ROOT = path.resolve(__dirname, '../..');
const run = (JSON.parse(readFileSync(path.join(ROOT, 'events/handlers/evaluate.json'), 'utf8')) as { run: RunConfig })
  .run;

/** An error as the SDK throws it for a SageMaker JSON error response. */
function sageMakerError(name: string, message: string): SageMakerServiceException {
  return new SageMakerServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

const REQUESTED_NOT_FOUND = () => sageMakerError('ValidationException', 'Requested resource not found.');

test('ValidationException "Requested resource not found." is not found; other validation errors and denials are not', () => {
  expect(notFound(REQUESTED_NOT_FOUND())).toBe(true);
  expect(notFound(sageMakerError('ValidationException', 'Could not find endpoint "arn:…:endpoint/x".'))).toBe(true);
  expect(notFound(sageMakerError('ResourceNotFound', 'Requested resource not found.'))).toBe(true);
  expect(
    notFound(
      sageMakerError(
        'ValidationException',
        "1 validation error detected: Value 'bad name!' at 'trainingJobName' failed to satisfy constraint",
      ),
    ),
  ).toBe(false);
  expect(notFound(sageMakerError('ValidationException', 'Requested resource not found. Or is it?'))).toBe(false);
  expect(notFound(sageMakerError('AccessDeniedException', 'Requested resource not found.'))).toBe(false);
  expect(notFound(sageMakerError('ThrottlingException', 'Rate exceeded'))).toBe(false);
});

function target(): Target {
  return {
    kind: 'local',
    description: 'mocked stage',
    flags: '--local',
    region: 'us-east-1',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:knn-pipeline-local',
    bucket: run.bucket,
    rawPrefix: 'raw/',
    runsPrefix: 'runs/',
    sfn: new SFNClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    sageMaker: new SageMakerClient({ region: 'us-east-1' }),
    pollMs: 1,
  };
}

test('trainingJobStatus: a job not created yet is "not found"; any other error is still thrown', async () => {
  const sageMaker = mockClient(SageMakerClient);
  try {
    sageMaker.on(DescribeTrainingJobCommand).rejectsOnce(REQUESTED_NOT_FOUND());
    await expect(trainingJobStatus(target(), 'knnp-dev--x')).resolves.toEqual({
      name: 'knnp-dev--x',
      status: 'not found',
    });
    sageMaker.reset();
    sageMaker.on(DescribeTrainingJobCommand).rejects(sageMakerError('AccessDeniedException', 'User: … denied'));
    await expect(trainingJobStatus(target(), 'knnp-dev--x')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  } finally {
    sageMaker.restore();
  }
});

test('watch: Train entered before CreateTrainingJob returned does not end the watch (exit 2); the job shows up next poll', async () => {
  const executionArn = 'arn:aws:states:us-east-1:000000000000:execution:knn-pipeline-local:race';
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const events: HistoryEvent[] = [
    { id: 1, timestamp: at(0), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } },
    { id: 2, timestamp: at(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Prepare', input: '{}' } },
    {
      id: 3,
      timestamp: at(2),
      type: 'TaskStateExited',
      stateExitedEventDetails: { name: 'Prepare', output: JSON.stringify({ run }) },
    },
    { id: 4, timestamp: at(3), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Train', input: '{}' } },
  ];
  const execution = {
    executionArn,
    stateMachineArn: target().stateMachineArn,
    name: 'race',
    input: JSON.stringify({ dataset: { key: 'raw/pets.csv' } }),
    startDate: at(0),
    $metadata: {},
  };
  const sfn = mockClient(SFNClient);
  const sageMaker = mockClient(SageMakerClient);
  const s3 = mockClient(S3Client);
  try {
    sfn.on(GetExecutionHistoryCommand).resolves({ events });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ ...execution, status: 'RUNNING' })
      .resolves({ ...execution, status: 'ABORTED', stopDate: at(9), error: 'Stopped', cause: 'by the test' });
    sageMaker.on(DescribeTrainingJobCommand).rejectsOnce(REQUESTED_NOT_FOUND()).resolves({
      TrainingJobName: run.names.trainingJob,
      TrainingJobStatus: 'InProgress',
      SecondaryStatus: 'Starting',
    });
    sageMaker.on(DescribeEndpointCommand).rejects(REQUESTED_NOT_FOUND());
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' }));
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3.on(ListObjectsV2Command).resolves({}); // no capacity claims recorded for the run

    const out: string[] = [];
    const watched = await watchExecution(
      target(),
      { ...execution, status: 'RUNNING' },
      { intervalMs: 1 },
      { out: (line) => out.push(line), err: () => undefined },
    );
    expect(watched.exitCode).toBe(1); // the run was stopped: not an error of the watch
    expect(sageMaker.commandCalls(DescribeTrainingJobCommand).length).toBeGreaterThanOrEqual(2);
    expect(out).toContain(`    training job ${run.names.trainingJob}: InProgress · Starting`);
    expect(out.join('\n')).toContain('Stopped: by the test');
  } finally {
    sfn.restore();
    sageMaker.restore();
    s3.restore();
  }
});
