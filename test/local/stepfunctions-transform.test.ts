/**
 * The optimised integration arn:aws:states:::sagemaker:createTransformJob(.sync) in the local Step Functions: the
 * job runs to completion, the task's output is DescribeTransformJob's with the Tags map and epoch-millisecond times, a
 * failed job fails the Task with States.TaskFailed, and an execution that ends early stops the job.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { AslDefinition } from '../../statemachine/definition';
import { LocalStateMachine } from '../../local/stepfunctions/runner';
import { knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { irisChannels } from './knn/fixtures';
import { startSageMaker, useEmulators } from '../support/emulators';

const BUCKET = 'sfn-transform';
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:transform';

const transformJob = (name: string, accept = 'application/jsonlines') => ({
  TransformJobName: name,
  ModelName: 'iris-model',
  BatchStrategy: 'MultiRecord',
  TransformInput: {
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/test/` } },
    ContentType: 'text/csv',
    SplitType: 'Line',
  },
  TransformOutput: { S3OutputPath: `s3://${BUCKET}/out/${name}`, Accept: accept, AssembleWith: 'Line' },
  TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
  DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' },
});

const definition = (parameters: object): AslDefinition => ({
  StartAt: 'Transform',
  States: {
    Transform: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sagemaker:createTransformJob.sync',
      Parameters: parameters,
      Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'TransformFailed' }],
      End: true,
    },
    TransformFailed: { Type: 'Pass', End: true },
  },
});

describe('local Step Functions: sagemaker:createTransformJob.sync', () => {
  const local = useEmulators(() =>
    startSageMaker({
      buckets: [BUCKET],
      timing: { trainingStartDelayMs: 20, transformStartDelayMs: 20, stopDelayMs: 20 },
    }),
  );
  let sm: SageMakerClient;
  const machine = (parameters: object) =>
    new LocalStateMachine({
      definition: definition(parameters),
      stateMachineArn: STATE_MACHINE_ARN,
      lambdas: {},
      sageMaker: sm,
      timing: { waitMs: 1, retryMs: 1, syncPollMs: 10 },
    });

  beforeAll(async () => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
    const s3 = local.s3Client();
    const { train, test } = irisChannels();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'train/train.csv', Body: train }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'test/test.csv', Body: test }));
    await sm.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({ name: 'iris', bucket: BUCKET, trainPrefix: 'train/', outputPath: `s3://${BUCKET}/m` }),
      ),
    );
    await pollUntil(
      () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'iris' })),
      (job) => job.TrainingJobStatus!,
      (job) => job.TrainingJobStatus !== 'InProgress',
    );
    await sm.send(
      new CreateModelCommand({
        ModelName: 'iris-model',
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/knn-sagemaker',
        PrimaryContainer: {
          Image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
          ModelDataUrl: `s3://${BUCKET}/m/iris/output/model.tar.gz`,
        },
      }),
    );
  });

  it('runs the job to completion: the output is DescribeTransformJob with the Tags map and epoch milliseconds', async () => {
    const record = await machine(transformJob('sfn-ok')).start({}, 'ok').done;
    expect(record.status).toBe('SUCCEEDED');
    const output = record.output as Record<string, unknown>;
    expect(output).toMatchObject({
      TransformJobName: 'sfn-ok',
      TransformJobStatus: 'Completed',
      ModelName: 'iris-model',
      DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' },
      Tags: {
        MANAGED_BY_AWS: 'STARTED_BY_STEP_FUNCTIONS',
        AWS_STEP_FUNCTIONS_EXECUTION_ARN: 'arn:aws:states:us-east-1:000000000000:execution:transform:ok',
      },
    });
    expect(typeof output.CreationTime).toBe('number');
    expect(typeof output.TransformEndTime).toBe('number');
  });

  it('a failed job fails the Task with States.TaskFailed and the Describe output as Cause', async () => {
    const record = await machine(transformJob('sfn-fails', 'text/csv')).start({}, 'fails').done;
    expect(record.status).toBe('SUCCEEDED');
    const failure = (record.output as { failure: { Error: string; Cause: string } }).failure;
    expect(failure.Error).toBe('States.TaskFailed');
    expect(JSON.parse(failure.Cause)).toMatchObject({
      TransformJobName: 'sfn-fails',
      TransformJobStatus: 'Failed',
      FailureReason: 'ClientError: See job logs for more information',
    });
  });

  it('stops the job when the execution is stopped', async () => {
    local.sageMaker.faults.slowModel(200);
    try {
      const execution = machine({ ...transformJob('sfn-stopped'), BatchStrategy: 'SingleRecord' }).start({}, 'stopped');
      await pollUntil(
        () => sm.send(new DescribeTransformJobCommand({ TransformJobName: 'sfn-stopped' })).catch(() => undefined),
        (job) => String(job?.TransformJobStatus),
        (job) => job?.TransformJobStatus === 'InProgress',
      );
      execution.stop('Stopped', 'by the test');
      expect((await execution.done).status).toBe('ABORTED');
      const { final } = await pollUntil(
        () => sm.send(new DescribeTransformJobCommand({ TransformJobName: 'sfn-stopped' })),
        (job) => job.TransformJobStatus!,
        (job) => job.TransformJobStatus === 'Stopped',
      );
      expect(final.TransformJobStatus).toBe('Stopped');
    } finally {
      local.sageMaker.faults.clear();
    }
  });
});
