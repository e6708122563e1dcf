import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  type CreateEndpointConfigCommandInput,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type DescribeEndpointCommandOutput,
  DescribeTrainingJobCommand,
  type ProductionVariant,
  type SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { clusteredCsv, knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';
import { type RunningSageMaker, startSageMaker, useEmulators, withEmulators } from '../support/emulators';

const BUCKET = 'serverless-data';
const ARTIFACT = `s3://${BUCKET}/models/knn-serverless/output/model.tar.gz`;
const IMAGE = '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1';
const ROLE = 'arn:aws:iam::123456789012:role/knn-sagemaker';
const FOUR_MIB = 4 * 1024 * 1024;

type Failure = Error & Record<string, unknown> & { $metadata: { httpStatusCode?: number; requestId?: string } };
async function rejection(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected the call to fail');
}

/** A text/csv body of exactly `bytes` bytes: rows near the cluster centres, the last row padded with spaces. */
function csvBody(bytes: number): { body: Buffer; rows: number } {
  const row = '10.123456789,10.123456789,10.123456789,10.123456789\n';
  const rows = Math.floor(bytes / row.length);
  const text = row.repeat(rows);
  const padding = bytes - text.length;
  return { body: Buffer.from(`${text.slice(0, -1)}${' '.repeat(padding)}\n`), rows };
}

const serverlessVariant = (model: string, config: Partial<ProductionVariant['ServerlessConfig']> = {}) => ({
  VariantName: 'AllTraffic',
  ModelName: model,
  ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5, ...config },
});
const instanceVariant = (model: string) => ({
  VariantName: 'AllTraffic',
  ModelName: model,
  InstanceType: 'ml.m5.large' as const,
  InitialInstanceCount: 1,
});

async function prepare(local: RunningSageMaker): Promise<void> {
  const sm = local.sageMakerClient();
  await local
    .s3Client()
    .send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/train/train.csv', Body: clusteredCsv(10) }));
  await sm.send(
    new CreateTrainingJobCommand(
      knnTrainingJobRequest({
        name: 'knn-serverless',
        bucket: BUCKET,
        trainPrefix: 'data/train/',
        outputPath: `s3://${BUCKET}/models`,
      }),
    ),
  );
  await pollUntil(
    () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knn-serverless' })),
    (job) => job.TrainingJobStatus!,
    (job) => job.TrainingJobStatus !== 'InProgress',
  );
  await sm.send(
    new CreateModelCommand({
      ModelName: 'knn-model',
      ExecutionRoleArn: ROLE,
      PrimaryContainer: { Image: IMAGE, ModelDataUrl: ARTIFACT },
    }),
  );
}

describe('local SageMaker: serverless endpoints', () => {
  const local = useEmulators(() =>
    startSageMaker({ buckets: [BUCKET], timing: { trainingStartDelayMs: 20, endpointCreateDelayMs: 30 } }),
  );
  let sm: SageMakerClient;
  let runtime: SageMakerRuntimeClient;

  const waitForEndpoint = async (name: string) =>
    (
      await pollUntil<DescribeEndpointCommandOutput>(
        () => sm.send(new DescribeEndpointCommand({ EndpointName: name })),
        (endpoint) => endpoint.EndpointStatus!,
        (endpoint) => endpoint.EndpointStatus === 'InService' || endpoint.EndpointStatus === 'Failed',
      )
    ).final;
  const deploy = async (name: string, variant: ProductionVariant) => {
    await sm.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: `${name}-config`, ProductionVariants: [variant] }),
    );
    await sm.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
    return waitForEndpoint(name);
  };
  const invoke = (endpoint: string, body: Buffer | string, accept = 'application/jsonlines') =>
    runtime.send(
      new InvokeEndpointCommand({
        EndpointName: endpoint,
        Body: Buffer.from(body),
        ContentType: 'text/csv',
        Accept: accept,
      }),
    );
  const config = (name: string, variants: ProductionVariant[], extra: Partial<CreateEndpointConfigCommandInput> = {}) =>
    sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: variants, ...extra }));

  beforeAll(async () => {
    sm = local.sageMakerClient({ maxAttempts: 1 });
    runtime = local.runtimeClient({ maxAttempts: 1 });
    await prepare(local);
  });

  describe('CreateEndpointConfig validates ServerlessConfig', () => {
    it.each([
      [
        'memory below 1024',
        serverlessVariant('knn-model', { MemorySizeInMB: 512 }),
        "1 validation error detected: Value '512' at 'productionVariants.1.member.serverlessConfig.memorySizeInMB' failed to satisfy constraint: Member must have value greater than or equal to 1024",
      ],
      [
        'memory above 6144 and concurrency above 200',
        serverlessVariant('knn-model', { MemorySizeInMB: 7168, MaxConcurrency: 201 }),
        "2 validation errors detected: Value '7168' at 'productionVariants.1.member.serverlessConfig.memorySizeInMB' failed to satisfy constraint: Member must have value less than or equal to 6144; Value '201' at 'productionVariants.1.member.serverlessConfig.maxConcurrency' failed to satisfy constraint: Member must have value less than or equal to 200",
      ],
      [
        'a missing MaxConcurrency',
        { VariantName: 'AllTraffic', ModelName: 'knn-model', ServerlessConfig: { MemorySizeInMB: 1024 } },
        "1 validation error detected: Value null at 'productionVariants.1.member.serverlessConfig.maxConcurrency' failed to satisfy constraint: Member must not be null",
      ],
      [
        'memory not in 1 GB steps',
        serverlessVariant('knn-model', { MemorySizeInMB: 1500 }),
        'Invalid MemorySizeInMB 1500 for ProductionVariant "AllTraffic": MemorySizeInMB must be one of 1024, 2048, 3072, 4096, 5120, 6144.',
      ],
      [
        'provisioned above maximum concurrency',
        serverlessVariant('knn-model', { MaxConcurrency: 2, ProvisionedConcurrency: 3 }),
        'Invalid ProvisionedConcurrency 3 for ProductionVariant "AllTraffic": ProvisionedConcurrency must be less than or equal to MaxConcurrency (2).',
      ],
      [
        'a serverless variant with an instance type',
        { ...serverlessVariant('knn-model'), InstanceType: 'ml.m5.large' as const },
        'Invalid ProductionVariant "AllTraffic": a serverless variant (ServerlessConfig) cannot specify InstanceType or InitialInstanceCount.',
      ],
      [
        'a variant with neither',
        { VariantName: 'AllTraffic', ModelName: 'knn-model' },
        "2 validation errors detected: Value null at 'productionVariants.1.member.instanceType' failed to satisfy constraint: Member must not be null; Value null at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must not be null",
      ],
    ])('refuses %s', async (_label, variant, message) => {
      const name = `bad-${Math.random().toString(36).slice(2, 8)}`;
      const error = await rejection(config(name, [variant as ProductionVariant]));
      expect(error.name).toBe('ValidationException');
      expect(error.message).toBe(message);
    });

    it('refuses the feature exclusions: several variants, data capture', async () => {
      const two = await rejection(
        config('two-variants', [serverlessVariant('knn-model'), { ...instanceVariant('knn-model'), VariantName: 'B' }]),
      );
      expect(two.message).toMatch(/^Serverless Inference does not support multiple production variants/);
      const capture = await rejection(
        config('with-capture', [serverlessVariant('knn-model')], {
          DataCaptureConfig: {
            InitialSamplingPercentage: 100,
            DestinationS3Uri: `s3://${BUCKET}/capture`,
            CaptureOptions: [{ CaptureMode: 'Input' }],
          },
        }),
      );
      expect(capture.message).toBe('Serverless Inference does not support data capture (DataCaptureConfig).');
    });

    it('refuses a serverless endpoint for a model with a VPC configuration', async () => {
      await sm.send(
        new CreateModelCommand({
          ModelName: 'knn-vpc-model',
          ExecutionRoleArn: ROLE,
          PrimaryContainer: { Image: IMAGE, ModelDataUrl: ARTIFACT },
          VpcConfig: { SecurityGroupIds: ['sg-0123456789abcdef0'], Subnets: ['subnet-0123456789abcdef0'] },
        }),
      );
      await config('vpc-config', [serverlessVariant('knn-vpc-model')]);
      const error = await rejection(
        sm.send(new CreateEndpointCommand({ EndpointName: 'vpc', EndpointConfigName: 'vpc-config' })),
      );
      expect(error.name).toBe('ValidationException');
      expect(error.message).toMatch(/^Serverless Inference does not support VPC configuration: model "knn-vpc-model"/);
    });
  });

  describe('a serverless endpoint', () => {
    let endpoint: DescribeEndpointCommandOutput;
    beforeAll(async () => {
      endpoint = await deploy(
        'knn-serverless',
        serverlessVariant('knn-model', { MemorySizeInMB: 3072, MaxConcurrency: 2 }),
      );
    });

    it('is described with its ServerlessConfig and no instances', async () => {
      expect(endpoint.EndpointStatus).toBe('InService');
      const [variant] = endpoint.ProductionVariants!;
      expect(variant.CurrentServerlessConfig).toEqual({ MemorySizeInMB: 3072, MaxConcurrency: 2 });
      expect(variant.DesiredServerlessConfig).toEqual({ MemorySizeInMB: 3072, MaxConcurrency: 2 });
      expect(variant.CurrentInstanceCount).toBeUndefined();
      const described = await sm.send(
        new DescribeEndpointConfigCommand({ EndpointConfigName: 'knn-serverless-config' }),
      );
      expect(described.ProductionVariants![0].ServerlessConfig).toEqual({ MemorySizeInMB: 3072, MaxConcurrency: 2 });
      expect(described.ProductionVariants![0].InstanceType).toBeUndefined();
    });

    it('answers a request of exactly 4 MiB, and refuses one byte more as AWS does', async () => {
      const within = csvBody(FOUR_MIB);
      expect(within.body.length).toBe(FOUR_MIB);
      const response = await invoke('knn-serverless', within.body);
      const lines = Buffer.from(response.Body).toString('utf8').split('\n');
      expect(lines).toHaveLength(within.rows);
      expect(new Set(lines)).toEqual(new Set(['{"predicted_label":1.0}']));

      const over = await rejection(invoke('knn-serverless', csvBody(FOUR_MIB + 1).body));
      expect(over.name).toBe('ValidationError');
      expect(over.$metadata.httpStatusCode).toBe(400);
      expect(over.message).toBe(`Request ${over.$metadata.requestId} has oversize body.`);
    });

    it('an instance endpoint takes the same request (its limit is 6 MiB)', async () => {
      await deploy('knn-instances', instanceVariant('knn-model'));
      const response = await invoke('knn-instances', csvBody(FOUR_MIB + 1).body);
      expect(response.InvokedProductionVariant).toBe('AllTraffic');
    });

    it('throttles invocations beyond MaxConcurrency', async () => {
      local.sageMaker.faults.slowModel(300);
      try {
        const outcomes = await Promise.allSettled([1, 2, 3].map(() => invoke('knn-serverless', '0,0,0,0\n')));
        const throttled = outcomes
          .filter((o) => o.status === 'rejected')
          .map((o) => (o as PromiseRejectedResult).reason);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
        expect(throttled).toHaveLength(1);
        expect(throttled[0]).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
      } finally {
        local.sageMaker.faults.clear();
      }
    });

    it('cannot become serverless again once updated to instances; an instance endpoint cannot become serverless', async () => {
      await config('knn-serverless-to-instances', [instanceVariant('knn-model')]);
      await sm.send(
        new UpdateEndpointCommand({
          EndpointName: 'knn-serverless',
          EndpointConfigName: 'knn-serverless-to-instances',
        }),
      );
      const updated = await pollUntil(
        () => sm.send(new DescribeEndpointCommand({ EndpointName: 'knn-serverless' })),
        (e) => `${e.EndpointStatus}/${e.EndpointConfigName}`,
        (e) => e.EndpointStatus === 'InService' && e.EndpointConfigName === 'knn-serverless-to-instances',
      );
      expect(updated.final.ProductionVariants![0]).toMatchObject({ CurrentInstanceCount: 1, DesiredInstanceCount: 1 });
      expect(updated.final.ProductionVariants![0].CurrentServerlessConfig).toBeUndefined();

      for (const name of ['knn-serverless', 'knn-instances']) {
        const error = await rejection(
          sm.send(new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: 'knn-serverless-config' })),
        );
        expect(error.name).toBe('ValidationException');
        expect(error.message).toMatch(
          /^Cannot update endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint\/knn-(serverless|instances)" to serverless endpoint configuration .*: an instance-based \(real-time\) endpoint cannot be converted to a serverless endpoint\.$/,
        );
        expect((await sm.send(new DescribeEndpointCommand({ EndpointName: name }))).EndpointStatus).toBe('InService');
      }
    });
  });

  it('a serverless container that does not answer within the timeout fails the invocation (AWS: 60 s)', async () => {
    await withEmulators(
      startSageMaker({
        buckets: [BUCKET],
        timing: { trainingStartDelayMs: 20, endpointCreateDelayMs: 20, serverlessInvocationTimeoutMs: 100 },
      }),
      async (slow) => {
        await prepare(slow);
        const client = slow.sageMakerClient({ maxAttempts: 1 });
        await client.send(
          new CreateEndpointConfigCommand({
            EndpointConfigName: 'slow-config',
            ProductionVariants: [serverlessVariant('knn-model')],
          }),
        );
        await client.send(new CreateEndpointCommand({ EndpointName: 'slow', EndpointConfigName: 'slow-config' }));
        await pollUntil(
          () => client.send(new DescribeEndpointCommand({ EndpointName: 'slow' })),
          (e) => e.EndpointStatus!,
          (e) => e.EndpointStatus === 'InService',
        );
        slow.sageMaker.faults.slowModel(1000);
        const error = await rejection(
          slow.runtimeClient({ maxAttempts: 1 }).send(
            new InvokeEndpointCommand({
              EndpointName: 'slow',
              Body: Buffer.from('0,0,0,0'),
              ContentType: 'text/csv',
            }),
          ),
        );
        expect(error.name).toBe('ModelError');
        expect(error.$metadata.httpStatusCode).toBe(424);
        expect(error.OriginalStatusCode).toBe(0);
        expect(error.message).toMatch(
          /^Received server error \(0\) from AllTraffic with message "Your invocation timed out while waiting for a response from container AllTraffic\. Review the latency metrics/,
        );
      },
    );
  });
});
