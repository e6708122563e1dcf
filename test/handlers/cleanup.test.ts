import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { handler } from '../../functions/cleanup';
import { resetClients } from '../../src/aws/clients';
import { resolveRunConfig } from '../../src/domain/runConfig';
import { setStageEnv } from '../support/lambda';
import { testStageDefaults } from '../support/stage';

const sagemaker = mockClient(SageMakerClient);
const run = resolveRunConfig({}, { name: 'run-1' }, testStageDefaults());
const missing = (what: string) => Object.assign(new Error(`Could not find ${what}`), { name: 'ValidationException' });

beforeEach(() => {
  sagemaker.reset();
  resetClients();
  setStageEnv({ CLEANUP_POLL_MS: '1' });
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

  const result = await handler({ run });

  expect(result.deleted).toEqual({
    trainingJob: 'not-running',
    foldTrainingJobsStopped: 0,
    endpoint: 'deleted',
    endpointConfig: 'deleted',
    model: 'deleted',
  });
  expect(sagemaker.commandCalls(DeleteEndpointCommand)[0].args[0].input).toEqual({
    EndpointName: 'knnp-dev--run-1-endpoint',
  });
  expect(sagemaker.commandCalls(DeleteEndpointConfigCommand)[0].args[0].input).toEqual({
    EndpointConfigName: 'knnp-dev--run-1-config',
  });
  expect(sagemaker.commandCalls(DeleteModelCommand)[0].args[0].input).toEqual({ ModelName: 'knnp-dev--run-1-model' });
  expect(sagemaker.commandCalls(StopTrainingJobCommand)).toHaveLength(0);
});

test('is idempotent: resources already gone (ValidationException) count as success', async () => {
  sagemaker.on(DescribeTrainingJobCommand).rejects(missing('training job'));
  sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).rejects(missing('endpoint configuration'));
  sagemaker.on(DeleteModelCommand).rejects(missing('model'));

  const result = await handler({ run });

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

  const result = await handler({ run });

  expect(result.deleted).toMatchObject({ trainingJob: 'stopped', endpoint: 'deleted' });
  expect(sagemaker.commandCalls(DescribeEndpointCommand)).toHaveLength(4);
});

test('gives up with a retryable error when the endpoint does not settle in time', async () => {
  setStageEnv({ CLEANUP_POLL_MS: '1', CLEANUP_SETTLE_TIMEOUT_MS: '5' });
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'Creating' });
  await expect(handler({ run })).rejects.toMatchObject({ name: 'CleanupIncompleteError' });
});

test('a transient delete failure surfaces as an error so Step Functions retries the state', async () => {
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Completed' });
  sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' });
  sagemaker
    .on(DeleteEndpointCommand)
    .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  await expect(handler({ run })).rejects.toMatchObject({ name: 'ThrottlingException' });
});

test('on the failure path it explains which step failed, what happened and what to do, keeping the error name', async () => {
  sagemaker.on(DescribeTrainingJobCommand).resolves({ TrainingJobStatus: 'Failed' });
  sagemaker.on(DescribeEndpointCommand).rejects(missing('endpoint'));
  sagemaker.on(DeleteEndpointConfigCommand).rejects(missing('endpoint configuration'));
  sagemaker.on(DeleteModelCommand).rejects(missing('model'));
  const cause = JSON.stringify({
    TrainingJobName: 'knnp-dev--run-1',
    TrainingJobStatus: 'Failed',
    FailureReason: 'ClientError: k (50) must not exceed sample_size (10)',
  });

  const result = await handler({ run, failure: { Train: { Error: 'States.TaskFailed', Cause: cause } } });

  expect(result.failure).toEqual({
    error: 'States.TaskFailed',
    state: 'Train',
    cause: expect.stringMatching(
      /^Train failed: training job knnp-dev--run-1 ended Failed: ClientError: k \(50\) must not exceed sample_size \(10\)\. Read the training job FailureReason.*deleted\.$/,
    ),
  });
});
