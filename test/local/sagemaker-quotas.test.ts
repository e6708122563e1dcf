/** Account quotas of the local SageMaker: instances per type, refused with SageMaker's message, released at the end. */
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { parseQuotaFlag } from '../../local/sagemaker/quotas';
import { knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { startSageMaker, useEmulators } from '../support/emulators';

const BUCKET = 'quota-bucket';
const local = useEmulators(() =>
  startSageMaker({
    buckets: [BUCKET],
    quotas: { trainingJob: { 'ml.m5.large': 2, 'ml.c5.xlarge': 0 } },
    timing: { trainingStartDelayMs: 60_000, stopDelayMs: 10 },
  }),
);
const job = (name: string, instanceType = 'ml.m5.large', instanceCount = 1) => {
  const request = knnTrainingJobRequest({ name, bucket: BUCKET, trainPrefix: 'train/' });
  return {
    ...request,
    ResourceConfig: {
      ...request.ResourceConfig!,
      InstanceType: instanceType as 'ml.m5.large',
      InstanceCount: instanceCount,
    },
  };
};

test('past the quota CreateTrainingJob answers ResourceLimitExceeded with SageMaker text; a stopped job gives its instance back', async () => {
  const sm = local.sageMakerClient({ maxAttempts: 1 });
  await sm.send(new CreateTrainingJobCommand(job('quota-a')));
  await sm.send(new CreateTrainingJobCommand(job('quota-b')));
  const refused = await sm.send(new CreateTrainingJobCommand(job('quota-c'))).catch((e: Error) => e);
  expect(refused).toMatchObject({
    name: 'ResourceLimitExceeded',
    message:
      "The account-level service limit 'ml.m5.large for training job usage' is 2 Instances, with current utilization of 2 Instances and a request delta of 1 Instances. Please contact AWS support to request an increase for this limit.",
  });
  // Another instance type has its own quota; a quota of 0 refuses every request.
  await expect(sm.send(new CreateTrainingJobCommand(job('quota-d', 'ml.c5.xlarge')))).rejects.toThrow(
    "'ml.c5.xlarge for training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances",
  );
  await sm.send(new StopTrainingJobCommand({ TrainingJobName: 'quota-a' }));
  await pollUntil(
    () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'quota-a' })),
    (d) => d.TrainingJobStatus!,
    (d) => d.TrainingJobStatus === 'Stopped',
  );
  await sm.send(new CreateTrainingJobCommand(job('quota-c')));
  expect(local.sageMaker.peakUsage()['training job']).toEqual({ 'ml.m5.large': 2 });
});

test('--quota flags build the quotas, per type or for every type', () => {
  const quotas = ['training:ml.m5.large=2', 'endpoint=1', 'transform:ml.c5.xlarge=0'].reduce(
    (acc, flag) => parseQuotaFlag(flag, acc),
    {},
  );
  expect(quotas).toEqual({
    trainingJob: { 'ml.m5.large': 2 },
    endpoint: { '*': 1 },
    transformJob: { 'ml.c5.xlarge': 0 },
  });
  expect(() => parseQuotaFlag('gpu=2')).toThrow(/expected <training\|endpoint\|transform>/);
});
