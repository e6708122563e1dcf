import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeHyperParameterTuningJobCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  SageMakerClient,
  StopHyperParameterTuningJobCommand,
  StopTrainingJobCommand,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { handler, type CleanupEvent } from '../../functions/cleanup';
import { resetClients } from '../../src/aws/clients';
import { body, handlerEvent, setStageEnv } from '../support/lambda';
import { gridTuning } from '../support/stage';

const sagemaker = mockClient(SageMakerClient);
const missing = (what: string) => Object.assign(new Error(`Could not find ${what}`), { name: 'ValidationException' });

/** The CleanUp state's event (success path): the run alone. */
let event: CleanupEvent;

beforeEach(() => {
  sagemaker.reset();
  resetClients();
  setStageEnv({ CLEANUP_POLL_MS: '1' });
  event = handlerEvent<CleanupEvent>('cleanup');
});

test('deletes the endpoint (waiting until it is really gone), endpoint config and model of the run', async () => {
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
  sagemaker
    .on(DescribeEndpointCommand)
    .resolvesOnce({ EndpointStatus: 'InService' })
    .resolvesOnce({ EndpointStatus: 'Deleting' })
    .rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointCommand).resolves({});
  sagemaker.on(DeleteEndpointConfigCommand).resolves({});
  sagemaker.on(DeleteModelCommand).resolves({});

  const result = await handler(event);

  expect(result.deleted).toEqual({
    trainingJob: 'not-running',
    foldTrainingJobsStopped: 0,
    endpoint: 'deleted',
    endpointConfig: 'deleted',
    model: 'deleted',
  });
  expect(sagemaker.commandCalls(DeleteEndpointCommand)[0].args[0].input).toEqual({
    EndpointName: 'knnp-dev--iris-cleanup-0001-endpoint',
  });
  expect(sagemaker.commandCalls(DeleteEndpointConfigCommand)[0].args[0].input).toEqual({
    EndpointConfigName: 'knnp-dev--iris-cleanup-0001-config',
  });
  expect(sagemaker.commandCalls(DeleteModelCommand)[0].args[0].input).toEqual({
    ModelName: 'knnp-dev--iris-cleanup-0001-model',
  });
  expect(sagemaker.commandCalls(StopTrainingJobCommand)).toHaveLength(0);
});

test('is idempotent: resources already gone (ValidationException) count as success', async () => {
  sagemaker.on(DescribeTrainingJobCommand).rejects(missing('training job'));
  sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).rejects(missing('endpoint configuration'));
  sagemaker.on(DeleteModelCommand).rejects(missing('model'));

  const result = await handler(event);

  expect(result.deleted).toEqual({
    trainingJob: 'absent',
    foldTrainingJobsStopped: 0,
    endpoint: 'absent',
    endpointConfig: 'absent',
    model: 'absent',
  });
  expect(sagemaker.commandCalls(DeleteEndpointCommand)).toHaveLength(0);
});

test('waits for a Creating endpoint to settle before deleting it, and stops a running training job', async () => {
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'InProgress' });
  sagemaker.on(StopTrainingJobCommand).resolves({});
  sagemaker
    .on(DescribeEndpointCommand)
    .resolvesOnce({ EndpointStatus: 'Creating' })
    .resolvesOnce({ EndpointStatus: 'Creating' })
    .resolvesOnce({ EndpointStatus: 'Failed' })
    .rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointCommand).resolves({});
  sagemaker.on(DeleteEndpointConfigCommand).resolves({});
  sagemaker.on(DeleteModelCommand).resolves({});

  const result = await handler(event);

  expect(result.deleted).toMatchObject({ trainingJob: 'stopped', endpoint: 'deleted' });
  expect(sagemaker.commandCalls(DescribeEndpointCommand)).toHaveLength(4);
});

test('gives up with a retryable error when the endpoint does not settle in time', async () => {
  setStageEnv({ CLEANUP_POLL_MS: '1', CLEANUP_SETTLE_TIMEOUT_MS: '5' });
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Creating' });
  await expect(handler(event)).rejects.toMatchObject({ name: 'CleanupIncompleteError' });
});

test('a transient delete failure surfaces as an error so Step Functions retries the state', async () => {
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' });
  sagemaker
    .on(DeleteEndpointCommand)
    .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  await expect(handler(event)).rejects.toMatchObject({ name: 'ThrottlingException' });
});

test('on the failure path it explains which step failed, what happened and what to do, keeping the error name', async () => {
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Failed' });
  sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).rejects(missing('endpoint configuration'));
  sagemaker.on(DeleteModelCommand).rejects(missing('model'));
  // CleanUpAfterFailure's event: the run and what the Train state's Catch recorded (the training job, described).
  const afterFailure = handlerEvent<CleanupEvent>('cleanup-after-failure');

  const result = await handler(afterFailure);

  expect(result.failure).toEqual({
    error: 'States.TaskFailed',
    state: 'Train',
    cause: expect.stringMatching(
      /^Train failed: training job knnp-dev--iris-cleanup-0002 ended Failed: ClientError: k \(50\) must not exceed sample_size \(10\)\. Read the training job FailureReason.*deleted\.$/,
    ),
  });
});

describe('evaluation mode batchTransform: the run’s transform job', () => {
  /** CleanUpAfterFailure's event for a batchTransform run whose Transform state failed (the job, described). */
  let transformRun: CleanupEvent;
  beforeEach(() => {
    transformRun = handlerEvent<CleanupEvent>('cleanup-after-transform-failure');
    setStageEnv({ CLEANUP_POLL_MS: '1', CLEANUP_SETTLE_TIMEOUT_MS: '60000' });
    sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
    sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));
    sagemaker.on(DeleteEndpointConfigCommand).rejects(missing('endpoint configuration'));
    sagemaker.on(DeleteModelCommand).resolves({});
  });

  test('a running transform job is stopped, and the model is deleted only once the job has Stopped', async () => {
    sagemaker
      .on(DescribeTransformJobCommand)
      .resolvesOnce({ TransformJobStatus: 'InProgress' })
      .resolvesOnce({ TransformJobStatus: 'Stopping' })
      .resolvesOnce({ TransformJobStatus: 'Stopping' })
      .resolves({ TransformJobStatus: 'Stopped' });
    sagemaker.on(StopTransformJobCommand).resolves({});

    const { deleted } = await handler({ run: transformRun.run });

    expect(deleted).toEqual({
      trainingJob: 'not-running',
      foldTrainingJobsStopped: 0,
      transformJob: 'stopped',
      endpoint: 'absent',
      endpointConfig: 'absent',
      model: 'deleted',
    });
    expect(sagemaker.commandCalls(StopTransformJobCommand).map((c) => c.args[0].input)).toEqual([
      { TransformJobName: 'knnp-dev--iris-cleanup-0003-batch' },
    ]);
    expect(sagemaker.commandCalls(DescribeTransformJobCommand)).toHaveLength(4);
    const order = sagemaker.calls().map((call) => (call.args[0] as object).constructor.name);
    expect(order.indexOf('DeleteModelCommand')).toBeGreaterThan(order.lastIndexOf('DescribeTransformJobCommand'));
  });

  test('a job that already ended is left alone; the Transform failure is explained from the job’s FailureReason', async () => {
    sagemaker.on(DescribeTransformJobCommand).resolves({ TransformJobStatus: 'Failed' });

    const result = await handler(transformRun);

    expect(result.deleted).toMatchObject({ transformJob: 'not-running', model: 'deleted' });
    expect(sagemaker.commandCalls(StopTransformJobCommand)).toHaveLength(0);
    expect(result.failure).toEqual({
      error: 'States.TaskFailed',
      state: 'Transform',
      cause: expect.stringMatching(
        /^Transform failed: transform job knnp-dev--iris-cleanup-0003-batch ended Failed: ClientError: See job logs for more information\. Read the transform job FailureReason.*deleted\.$/,
      ),
    });
  });

  test('a transform job that never started is absent; one that does not stop in time fails the state for a retry', async () => {
    sagemaker.on(DescribeTransformJobCommand).rejects(missing('transform job'));
    expect((await handler(transformRun)).deleted).toMatchObject({ transformJob: 'absent' });

    setStageEnv({ CLEANUP_POLL_MS: '1', CLEANUP_SETTLE_TIMEOUT_MS: '5' });
    sagemaker.on(DescribeTransformJobCommand).resolves({ TransformJobStatus: 'Stopping' });
    await expect(handler(transformRun)).rejects.toMatchObject({
      name: 'CleanupIncompleteError',
      message: 'Transform job knnp-dev--iris-cleanup-0003-batch is still Stopping after the stop request',
    });
  });

  test('runs of the other evaluation modes never look for a transform job', async () => {
    sagemaker.on(DescribeTransformJobCommand).rejects(new Error('must not be called'));
    const { deleted } = await handler(event);
    expect(deleted).not.toHaveProperty('transformJob');
    expect(sagemaker.commandCalls(DescribeTransformJobCommand)).toHaveLength(0);
  });
});

test('tuning on: a running tuning job is stopped (SageMaker stops its training jobs) and waited for', async () => {
  event.failure = { Tune: { Error: 'States.Timeout', Cause: 'Task timed out' } };
  event.run.tuning = gridTuning();
  sagemaker.on(DescribeTrainingJobCommand).rejects(missing('training job'));
  sagemaker
    .on(DescribeHyperParameterTuningJobCommand)
    .resolvesOnce({ HyperParameterTuningJobStatus: 'InProgress' })
    .resolvesOnce({ HyperParameterTuningJobStatus: 'Stopping' })
    .resolves({ HyperParameterTuningJobStatus: 'Stopped' });
  sagemaker.on(StopHyperParameterTuningJobCommand).resolves({});
  sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).rejects(missing('endpoint configuration'));
  sagemaker.on(DeleteModelCommand).rejects(missing('model'));

  const result = await handler(event);

  expect(result.deleted.tuningJob).toBe('stopped');
  expect(sagemaker.commandCalls(StopHyperParameterTuningJobCommand).map((c) => c.args[0].input)).toEqual([
    { HyperParameterTuningJobName: event.run.names.tuningJob },
  ]);
  expect(sagemaker.commandCalls(DescribeHyperParameterTuningJobCommand)).toHaveLength(3);
});

describe('serving mode', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    s3.reset();
    event = { run: { ...event.run, serve: { ...event.run.serve, enabled: true } } };
    sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
    sagemaker.on(DescribeEndpointCommand, { EndpointName: event.run.names.endpoint }).rejects(missing('endpoint'));
    // A later run's config serves now.
    sagemaker
      .on(DescribeEndpointCommand, { EndpointName: event.run.serve.endpointName })
      .resolves({ EndpointStatus: 'InService', EndpointConfigName: 'knnp-dev--later-run-serve' });
    sagemaker
      .on(DescribeEndpointConfigCommand)
      .resolves({ ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'knnp-dev--later-run-model' }] });
    sagemaker.on(DeleteEndpointConfigCommand).resolves({});
    sagemaker.on(DeleteModelCommand).resolves({});
  });
  const deletedConfigs = () =>
    sagemaker.commandCalls(DeleteEndpointConfigCommand).map((c) => c.args[0].input.EndpointConfigName);

  test('a superseded promotion keeps its serving config and model for rollback', async () => {
    s3.on(GetObjectCommand, { Key: event.run.keys.serving }).resolves({
      Body: body(JSON.stringify({ outcome: 'superseded' })),
    });
    const result = await handler(event);
    expect(result.deleted.model).toBe('retained');
    expect(deletedConfigs()).toEqual([event.run.names.endpointConfig]);
    expect(sagemaker.commandCalls(DeleteModelCommand)).toHaveLength(0);
  });

  test('a serving config that never went live (no serving.json) is deleted with the model', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' }));
    const result = await handler(event);
    expect(result.deleted.model).toBe('deleted');
    expect(deletedConfigs()).toEqual([event.run.names.endpointConfig, event.run.serve.endpointConfigName]);
  });
});
