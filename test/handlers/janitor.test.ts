import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  SageMakerClient,
  StopTrainingJobCommand,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { handler, type ExecutionStatusChange } from '../../functions/janitor';
import type { ClassifierMetrics } from '../../src/artifacts';
import { resetClients } from '../../src/aws/clients';
import { handlerEvent, serveObjects, setStageEnv } from '../support/lambda';
import { exampleArtifacts } from '../unit/artifacts/examples';

type JanitorEvent = EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>;

const s3 = mockClient(S3Client);
const sagemaker = mockClient(SageMakerClient);
const eventBridge = mockClient(EventBridgeClient);
const BUCKET = 'knn-pipeline-dev-data';
const ROOT = 'runs/iris-janitor-0001';
const JOB = 'knnp-dev--iris-janitor-0001';
const OWN_TICKET = `runs/_capacity/endpoint/ml.m5.large/000000000000001~000000000000009~iris-janitor-0001~${JOB}-endpoint`;
const missing = (what: string) => Object.assign(new Error(`Could not find ${what}`), { name: 'ValidationException' });

let event: JanitorEvent;

beforeEach(() => {
  s3.reset();
  sagemaker.reset();
  eventBridge.reset();
  resetClients();
  setStageEnv({ CLEANUP_POLL_MS: '1', NOTIFICATION_BUS: 'knn-pipeline-dev-events' });
  event = handlerEvent<JanitorEvent>('janitor');
  s3.on(ListObjectsV2Command).resolves({});
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

const inputs = (command: Parameters<typeof sagemaker.commandCalls>[0]) =>
  sagemaker.commandCalls(command).map((call) => call.args[0].input);

/** The one PutEvents entry, with its detail parsed. */
function published() {
  const calls = eventBridge.commandCalls(PutEventsCommand);
  expect(calls).toHaveLength(1);
  const entries = calls[0].args[0].input.Entries!;
  expect(entries).toHaveLength(1);
  const { Detail, ...entry } = entries[0];
  expect(entry).toEqual({
    EventBusName: 'knn-pipeline-dev-events',
    Source: 'knn-pipeline',
    DetailType: 'Pipeline Run Finished',
  });
  return JSON.parse(Detail!);
}

/** A run that timed out mid-training: its job still running, its endpoint from an earlier attempt in service. */
function sageMakerMidRun(): void {
  sagemaker.on(DescribeTrainingJobCommand).rejects(missing('training job'));
  sagemaker.on(DescribeTrainingJobCommand, { TrainingJobName: JOB }).resolves({ TrainingJobStatus: 'InProgress' });
  sagemaker.on(StopTrainingJobCommand).resolves({});
  sagemaker.on(DescribeEndpointCommand).resolvesOnce({ EndpointStatus: 'InService' }).rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointCommand).resolves({});
  sagemaker.on(DeleteEndpointConfigCommand).resolves({});
  sagemaker.on(DeleteModelCommand).resolves({});
}

test('a timed-out execution that owns its run: stops its jobs, deletes its endpoint, config and model, announces it', async () => {
  sageMakerMidRun();
  const claim = { ...exampleArtifacts().claim, executionName: 'iris-janitor-0001' };
  serveObjects(s3, { [`${ROOT}/claim.json`]: JSON.stringify(claim) });
  s3.on(ListObjectsV2Command, { Prefix: 'runs/_capacity/' }).resolves({
    Contents: [
      { Key: OWN_TICKET },
      {
        Key: 'runs/_capacity/training/ml.m5.large/000000000000002~000000000000003~iris-other-0002~knnp-dev--iris-other-0002',
      },
    ],
  });
  s3.on(DeleteObjectCommand).resolves({});

  const result = await handler(event);

  expect(result).toEqual({
    runId: 'iris-janitor-0001',
    cleaned: true,
    notified: true,
    deleted: {
      trainingJob: 'stopped',
      foldTrainingJobsStopped: 0,
      endpoint: 'deleted',
      endpointConfig: 'deleted',
      model: 'deleted',
    },
  });
  // The claim decides whose run it is; metrics.json and serving.json, absent here, would feed the announcement.
  expect(s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input)).toEqual([
    { Bucket: BUCKET, Key: `${ROOT}/claim.json` },
    { Bucket: BUCKET, Key: `${ROOT}/evaluation/metrics.json` },
    { Bucket: BUCKET, Key: `${ROOT}/serving.json` },
  ]);
  // The run's name recomputed from the execution input: its own job and the two fold jobs the input asked for.
  expect(inputs(DescribeTrainingJobCommand)).toEqual([
    { TrainingJobName: JOB },
    { TrainingJobName: `${JOB}--f1` },
    { TrainingJobName: `${JOB}--f2` },
  ]);
  expect(inputs(StopTrainingJobCommand)).toEqual([{ TrainingJobName: JOB }]);
  expect(inputs(DeleteEndpointCommand)).toEqual([{ EndpointName: `${JOB}-endpoint` }]);
  // The run's ticket in the capacity queue goes too (a stopped run must never block the queue); others' stay.
  expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
    { Bucket: BUCKET, Key: OWN_TICKET },
  ]);
  expect(inputs(DeleteEndpointConfigCommand)).toEqual([{ EndpointConfigName: `${JOB}-config` }]);
  expect(inputs(DeleteModelCommand)).toEqual([{ ModelName: `${JOB}-model` }]);
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  expect(published()).toEqual({
    runId: 'iris-janitor-0001',
    executionName: 'iris-janitor-0001',
    executionArn: event.detail.executionArn,
    status: 'TIMED_OUT',
    error: 'States.Timeout',
    cause: 'The execution timed out',
    dataset: null,
    metrics: null,
    gate: null,
    promotion: null,
    metricsUri: null,
  });
});

test('a duplicate delivery never cleans up the run of the execution that claimed it', async () => {
  serveObjects(s3, { [`${ROOT}/claim.json`]: JSON.stringify({ ...exampleArtifacts().claim, executionName: 'first' }) });

  const result = await handler(event);

  expect(result).toEqual({
    runId: 'iris-janitor-0001',
    cleaned: false,
    reason: 'run iris-janitor-0001 belongs to execution first',
    notified: true,
  });
  expect(sagemaker.calls()).toHaveLength(0);
  expect(published()).toMatchObject({ runId: 'iris-janitor-0001', status: 'TIMED_OUT' });
});

test('a succeeded execution is only announced, with the metrics, gate and promotion its run recorded', async () => {
  const { metrics, serving } = exampleArtifacts();
  const classifier = metrics.metrics as ClassifierMetrics;
  serveObjects(s3, {
    [`${ROOT}/evaluation/metrics.json`]: JSON.stringify(metrics),
    [`${ROOT}/serving.json`]: JSON.stringify(serving),
  });
  event.detail = { ...event.detail, status: 'SUCCEEDED', error: null, cause: null, output: '{"report":{}}' };

  const result = await handler(event);

  expect(result).toEqual({
    runId: 'iris-janitor-0001',
    cleaned: false,
    reason: 'SUCCEEDED: the state machine cleaned up itself',
    notified: true,
  });
  expect(sagemaker.calls()).toHaveLength(0);
  expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
    { Bucket: BUCKET, Key: `${ROOT}/evaluation/metrics.json` },
    { Bucket: BUCKET, Key: `${ROOT}/serving.json` },
  ]);
  expect(published()).toEqual({
    runId: 'iris-janitor-0001',
    executionName: 'iris-janitor-0001',
    executionArn: event.detail.executionArn,
    status: 'SUCCEEDED',
    error: null,
    cause: null,
    dataset: 's3://knn-pipeline-dev-data/raw/iris.csv',
    metrics: { accuracy: classifier.accuracy, macroF1: classifier.macroF1, weightedF1: classifier.weightedF1 },
    gate: { metric: 'accuracy', threshold: 0.9, value: metrics.gate.value, passed: true },
    promotion: { decision: 'create', outcome: 'promoted', message: 'promoted' },
    metricsUri: `s3://${BUCKET}/${ROOT}/evaluation/metrics.json`,
  });
});

test('the losing execution of a duplicate (output duplicate: true) is neither cleaned up nor announced', async () => {
  event.detail = { ...event.detail, status: 'SUCCEEDED', output: '{"duplicate":true,"runId":"iris-janitor-0001"}' };

  const result = await handler(event);

  expect(result).toEqual({
    cleaned: false,
    reason: 'duplicate event: the owning execution reports the run',
    notified: false,
  });
  expect(s3.calls()).toHaveLength(0);
  expect(sagemaker.calls()).toHaveLength(0);
  expect(eventBridge.calls()).toHaveLength(0);
});

test('an execution whose input was invalid created nothing: announced without a run id', async () => {
  event.detail = { ...event.detail, status: 'FAILED', input: '{"split":{"testFraction":7}}' };

  const result = await handler(event);

  expect(result).toEqual({
    runId: undefined,
    cleaned: false,
    reason: 'invalid execution input: the run created nothing',
    notified: true,
  });
  expect(s3.calls()).toHaveLength(0);
  expect(sagemaker.calls()).toHaveLength(0);
  expect(published()).toMatchObject({ runId: null, status: 'FAILED', metricsUri: null });
});

test('EventBridge refusing the notification fails the invocation (EventBridge retries it), after the cleanup', async () => {
  serveObjects(s3, {});
  sageMakerMidRun();
  eventBridge.on(PutEventsCommand).resolves({
    FailedEntryCount: 1,
    Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
  });

  await expect(handler(event)).rejects.toThrow(
    'EventBridge refused the run notification: ThrottlingException Rate exceeded',
  );
  expect(inputs(DeleteModelCommand)).toEqual([{ ModelName: `${JOB}-model` }]);
});

test('SageMaker refusing a delete fails the invocation before anything is announced', async () => {
  serveObjects(s3, {});
  sageMakerMidRun();
  sagemaker
    .on(DeleteEndpointCommand)
    .rejects(Object.assign(new Error('not authorized to perform DeleteEndpoint'), { name: 'AccessDeniedException' }));

  await expect(handler(event)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  expect(eventBridge.calls()).toHaveLength(0);
});

test('a batchTransform execution stopped mid-transform: the janitor stops the transform job and waits for it', async () => {
  event.detail.status = 'ABORTED';
  event.detail.input = JSON.stringify({ evaluation: { mode: 'batchTransform' } });
  serveObjects(s3, {
    [`${ROOT}/claim.json`]: JSON.stringify({ ...exampleArtifacts().claim, executionName: 'iris-janitor-0001' }),
  });
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
  sagemaker
    .on(DescribeTransformJobCommand)
    .resolvesOnce({ TransformJobStatus: 'InProgress' })
    .resolvesOnce({ TransformJobStatus: 'Stopping' })
    .resolves({ TransformJobStatus: 'Stopped' });
  sagemaker.on(StopTransformJobCommand).resolves({});
  sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).rejects(missing('endpoint configuration'));
  sagemaker.on(DeleteModelCommand).resolves({});

  const result = await handler(event);

  expect(result).toMatchObject({
    cleaned: true,
    deleted: { transformJob: 'stopped', endpoint: 'absent', endpointConfig: 'absent', model: 'deleted' },
  });
  expect(inputs(StopTransformJobCommand)).toEqual([{ TransformJobName: `${JOB}-batch` }]);
  expect(inputs(DescribeTransformJobCommand)).toHaveLength(3);
  expect(published()).toMatchObject({ runId: 'iris-janitor-0001', status: 'ABORTED' });
});
