import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  ListModelsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { startLocalS3, type LocalS3 } from '../../local/s3';
import { startLocalSageMaker, type LocalSageMaker } from '../../local/sagemaker';
import { clusteredCsv, knnTrainingJobRequest, pollUntil } from '../../local/sagemaker/testkit';

const BUCKET = 'fault-data';

describe('local SageMaker fault injection', () => {
  let directory: string;
  let localS3: LocalS3;
  let sageMaker: LocalSageMaker;
  let retrying: SageMakerClient;
  let single: SageMakerClient;
  let runtime: SageMakerRuntimeClient;

  const createModel = (
    client: SageMakerClient,
    name: string,
    modelDataUrl = `s3://${BUCKET}/models/knn-faults/output/model.tar.gz`,
  ) =>
    client.send(
      new CreateModelCommand({ ModelName: name, PrimaryContainer: { Image: 'knn:1', ModelDataUrl: modelDataUrl } }),
    );
  const deployEndpoint = async (name: string) => {
    await createModel(single, `${name}-model`);
    await single.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: `${name}-config`,
        ProductionVariants: [
          { VariantName: 'primary', ModelName: `${name}-model`, InitialInstanceCount: 1, InstanceType: 'ml.t2.medium' },
        ],
      }),
    );
    await single.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }));
    return pollUntil(
      () => single.send(new DescribeEndpointCommand({ EndpointName: name })),
      (endpoint) => endpoint.EndpointStatus!,
      (endpoint) => endpoint.EndpointStatus === 'InService' || endpoint.EndpointStatus === 'Failed',
    );
  };

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'local-sagemaker-faults-'));
    localS3 = await startLocalS3({ directory, buckets: [BUCKET] });
    sageMaker = await startLocalSageMaker({
      s3Endpoint: localS3.endpoint,
      timing: { trainingStartDelayMs: 10, endpointCreateDelayMs: 20 },
    });
    // The default retry strategy retries throttling; one client with and one without retries
    retrying = new SageMakerClient({ endpoint: sageMaker.endpoint, region: 'us-east-1', maxAttempts: 3 });
    single = new SageMakerClient({ endpoint: sageMaker.endpoint, region: 'us-east-1', maxAttempts: 1 });
    runtime = new SageMakerRuntimeClient({ endpoint: sageMaker.endpoint, region: 'us-east-1', maxAttempts: 1 });
    const s3 = new S3Client({ endpoint: localS3.endpoint, region: 'us-east-1', forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'train/train.csv', Body: clusteredCsv(5) }));
    s3.destroy();
    await single.send(
      new CreateTrainingJobCommand(
        knnTrainingJobRequest({
          name: 'knn-faults',
          bucket: BUCKET,
          trainPrefix: 'train/',
          outputPath: `s3://${BUCKET}/models`,
        }),
      ),
    );
    await pollUntil(
      () => single.send(new DescribeTrainingJobCommand({ TrainingJobName: 'knn-faults' })),
      (job) => job.TrainingJobStatus!,
      (job) => job.TrainingJobStatus === 'Completed',
    );
  });

  afterEach(() => sageMaker.faults.clear());

  afterAll(async () => {
    for (const client of [retrying, single, runtime]) client?.destroy();
    await sageMaker?.close();
    await localS3?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('surfaces an injected ThrottlingException by name when the client does not retry', async () => {
    sageMaker.faults.inject({ operation: 'CreateModel', errorName: 'ThrottlingException' });
    await expect(createModel(single, 'throttled-model')).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    // the fault was used up: the same call now succeeds
    await expect(createModel(single, 'throttled-model')).resolves.toMatchObject({
      ModelArn: expect.stringContaining('model/throttled-model'),
    });
  });

  it('lets the SDK retry a transient fault', async () => {
    sageMaker.faults.inject({ operation: 'DescribeModel', errorName: 'ThrottlingException', times: 1 });
    const described = await retrying.send(new DescribeModelCommand({ ModelName: 'throttled-model' }));
    expect(described.ModelName).toBe('throttled-model');
    expect(described.$metadata.attempts).toBe(2);
  });

  it('answers with the given status code and only for matching requests', async () => {
    sageMaker.faults.inject({
      operation: 'CreateModel',
      errorName: 'InternalFailure',
      statusCode: 500,
      message: 'boom',
      match: (request) => request.ModelName === 'unlucky-model',
    });
    await expect(createModel(single, 'lucky-model')).resolves.toBeDefined();
    await expect(createModel(single, 'unlucky-model')).rejects.toMatchObject({
      name: 'InternalFailure',
      message: 'boom',
      $metadata: { httpStatusCode: 500 },
    });
  });

  it('delays an operation', async () => {
    sageMaker.faults.delay('ListModels', 150);
    const started = Date.now();
    await single.send(new ListModelsCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    sageMaker.faults.clear();
    const again = Date.now();
    await single.send(new ListModelsCommand({}));
    expect(Date.now() - again).toBeLessThan(140);
  });

  it('fails the next endpoint on demand, then deploys normally', async () => {
    sageMaker.faults.failNextEndpoints('Insufficient capacity for ml.t2.medium (injected)');
    const failed = await deployEndpoint('doomed-endpoint');
    expect(failed.observed).toEqual(['Creating', 'Failed']);
    expect(failed.final.FailureReason).toBe('Insufficient capacity for ml.t2.medium (injected)');
    const healthy = await deployEndpoint('healthy-endpoint');
    expect(healthy.final.EndpointStatus).toBe('InService');
  });

  it('injects runtime faults into InvokeEndpoint', async () => {
    const invoke = () =>
      runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'healthy-endpoint',
          Body: Buffer.from('0,0,0,0'),
          ContentType: 'text/csv',
        }),
      );
    sageMaker.faults.inject({
      operation: 'InvokeEndpoint',
      errorName: 'ServiceUnavailable',
      statusCode: 503,
      match: (request) => request.EndpointName === 'healthy-endpoint',
    });
    sageMaker.faults.inject({ operation: 'InvokeEndpoint', errorName: 'ModelNotReadyException', statusCode: 429 });
    await expect(invoke()).rejects.toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    await expect(invoke()).rejects.toMatchObject({
      name: 'ModelNotReadyException',
      $metadata: { httpStatusCode: 429 },
    });
    const response = await invoke();
    expect(response.InvokedProductionVariant).toBe('primary');
    expect(JSON.parse(Buffer.from(response.Body).toString('utf8'))).toEqual({ predictions: [{ predicted_label: 0 }] });
  });

  it('clear() drops pending faults', async () => {
    sageMaker.faults.inject({ operation: 'ListModels', errorName: 'ThrottlingException', times: Infinity });
    sageMaker.faults.failNextTrainingJobs('ClientError: never used');
    sageMaker.faults.clear();
    await expect(single.send(new ListModelsCommand({}))).resolves.toBeDefined();
  });
});
